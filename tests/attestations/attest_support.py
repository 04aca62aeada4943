"""Shared pieces of the attestation tests: a community (a law firm, banks, an insurer,
another firm, an operator), complete answers to the default template and a publish
helper."""

from __future__ import annotations

from dataclasses import dataclass

from conftest import START
from shieldwall.domain.attestations import DAY, micros_date
from shieldwall.domain.organisations import Organisation
from shieldwall.services import admin, attestations
from shieldwall.services.context import Hub
from shieldwall.services.ports import AttestationRecord

TEMPLATE = "bank-law-firm-baseline"
SECRET_ANSWER = "Lloyd's syndicate 2623, GBP 5m"


@dataclass
class Community:
    """``firm`` publishes; ``bank`` requests; the others must see nothing."""

    firm: Organisation  # legal, US
    bank: Organisation  # financial, US
    other_bank: Organisation  # financial, GB: never granted
    other_firm: Organisation  # legal, GB
    insurer: Organisation  # insurance: a non-financial member
    operator: Organisation


def build_community(hub: Hub) -> Community:
    """Admit the organisations."""
    made = {
        "firm": admin.add_organisation(hub, "Carter & Lowe LLP", "legal", "US", "member"),
        "bank": admin.add_organisation(hub, "First Federal Bank", "financial", "US", "member"),
        "other_bank": admin.add_organisation(hub, "Albion Bank plc", "financial", "GB", "member"),
        "other_firm": admin.add_organisation(hub, "Smith Partners", "legal", "GB", "member"),
        "insurer": admin.add_organisation(hub, "Thames Insurance", "insurance", "GB", "member"),
        "operator": admin.add_organisation(hub, "Hub Operator", "other", "US", "operator"),
    }
    return Community(**made)


def answers(**changes: object) -> dict[str, object]:
    """Complete, valid answers to the default template."""
    base: dict[str, object] = {
        "mfa": True,
        "network_segmentation": True,
        "no_public_network_work": True,
        "encryption_at_rest": True,
        "encryption_in_transit": True,
        "incident_response_plan": True,
        "last_penetration_test": "2023-09-01",
        "breach_notification_hours": 24,
        "cyber_insurance": True,
        "cyber_insurance_cover": SECRET_ANSWER,
        "security_framework": "ISO 27001",
    }
    base.update(changes)
    return base


def day(offset: int) -> str:
    """The date ``offset`` days from the test clock's start."""
    return micros_date(START + offset * DAY)


def publish(
    hub: Hub, firm: Organisation, valid_days: int = 365, **changes: object
) -> AttestationRecord:
    """A draft of complete answers, published (valid from yesterday for ``valid_days``)."""
    draft = attestations.save_draft(
        hub,
        firm,
        template=TEMPLATE,
        answers=answers(**changes),
        valid_from=day(-1),
        valid_until=day(valid_days),
        signer_name="Jane Carter",
        signer_title="Managing Partner",
    )
    return attestations.publish(hub, firm, draft.id)


def grant_to(hub: Hub, firm: Organisation, bank: Organisation) -> str:
    """The bank requests and the firm grants; the request's id."""
    request = attestations.request_attestation(hub, bank, firm.name, TEMPLATE, "vendor review")
    attestations.respond(hub, firm, request.id, True)
    return request.id
