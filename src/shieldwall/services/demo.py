"""The demo community: believable members, a sharing group and real OASIS example data."""

from __future__ import annotations

from dataclasses import dataclass

from shieldwall.domain.errors import NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, submission
from shieldwall.services.admin import DEFAULT_COLLECTION_ALIAS
from shieldwall.services.context import Hub

DEMO_ORGANISATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("First Federal Bank", "financial", "US", "member"),
    ("Hudson Valley Trust", "financial", "US", "member"),
    ("Albion Bank plc", "financial", "GB", "member"),
    ("Rheinland Handelsbank AG", "financial", "DE", "member"),
    ("Carter & Lowe LLP", "legal", "US", "member"),
    ("Whitfield Partners LLP", "legal", "GB", "member"),
    ("Federal Cyber Crimes Unit", "government", "US", "government"),
    ("Shieldwall ISAC Operations", "other", "US", "operator"),
)
DEMO_GROUP = "bank-law-alliance"
DEMO_KEY_LABEL = "demo key"


@dataclass(frozen=True, slots=True)
class DemoCommunity:
    """What the demo created: each organisation with its API key, and objects loaded."""

    members: list[tuple[Organisation, str]]
    objects_loaded: int
    objects_rejected: int


def is_empty(hub: Hub) -> bool:
    """True when no organisation has been admitted yet."""
    return not admin.list_organisations(hub)


def create_demo(hub: Hub, bundles: list[list[object]]) -> DemoCommunity:
    """Admit the demo organisations, create the bank–law-firm group, give each organisation
    a key and load ``bundles`` (lists of STIX objects) as TLP:CLEAR from the operator.
    Call only on an empty hub."""
    members: list[tuple[Organisation, str]] = []
    for name, sector, country, role in DEMO_ORGANISATIONS:
        organisation = admin.add_organisation(hub, name, sector, country, role)
        members.append((organisation, admin.create_key(hub, name, DEMO_KEY_LABEL)))
    alliance = [
        name for name, sector, _, _ in DEMO_ORGANISATIONS if sector in ("financial", "legal")
    ]
    admin.create_group(
        hub,
        DEMO_GROUP,
        alliance,
        description="Banks and the law firms they retain share with each other.",
    )
    operator = next(org for org, _ in members if org.role.value == "operator")
    loaded = rejected = 0
    for items in bundles:
        status = submission.submit(hub, operator, DEFAULT_COLLECTION_ALIAS, items, Tlp.CLEAR, None)
        loaded += status.success_count
        rejected += status.failure_count
    return DemoCommunity(members, loaded, rejected)


def reissue_demo_keys(hub: Hub) -> list[tuple[Organisation, str]]:
    """On a hub that already holds the demo community, revoke the demo keys and issue new
    ones (so ``make run`` always prints working keys). Other keys are left alone."""
    members: list[tuple[Organisation, str]] = []
    for name, _, _, _ in DEMO_ORGANISATIONS:
        try:
            organisation = admin.organisation(hub, name)
        except NotFound:
            continue
        for key in admin.list_keys(hub, name):
            if key.label == DEMO_KEY_LABEL and key.revoked_at is None:
                admin.revoke_key(hub, key.key_id)
        members.append((organisation, admin.create_key(hub, name, DEMO_KEY_LABEL)))
    return members
