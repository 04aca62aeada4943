"""Only the firm and the organisations it granted see an attestation, through every
service path (list, show, history, evidence download), on both engines; revocation takes
effect at once; a declined request grants nothing; re-granting works; operators see no
answers; the audit trail names no answers."""

from __future__ import annotations

import pytest
from attest_support import SECRET_ANSWER, TEMPLATE, build_community, grant_to, publish

from shieldwall.domain.errors import Conflict, Forbidden, NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.services import attestations, audit
from shieldwall.services.context import Hub

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer\n%%EOF\n"


def _sees(hub: Hub, reader: Organisation, attestation_id: str, evidence_id: str) -> dict[str, bool]:
    """Which paths give ``reader`` the attestation (each hidden path must be NotFound)."""
    seen: dict[str, bool] = {}
    seen["list"] = any(
        v.record.id == attestation_id for v in attestations.list_attestations(hub, reader)
    )
    for name, call in (
        ("show", lambda: attestations.show(hub, reader, attestation_id)),
        ("history", lambda: attestations.history(hub, reader, attestation_id)),
        ("evidence", lambda: attestations.download_evidence(hub, reader, evidence_id)),
    ):
        try:
            call()
            seen[name] = True
        except NotFound:
            seen[name] = False
    return seen


def _with_evidence(hub: Hub, firm: Organisation) -> tuple[str, str]:
    from attest_support import answers, day

    draft = attestations.save_draft(
        hub,
        firm,
        template=TEMPLATE,
        answers=answers(),
        valid_from=day(-1),
        valid_until=day(365),
        signer_name="Jane Carter",
        signer_title="Managing Partner",
    )
    evidence = attestations.add_evidence(hub, firm, draft.id, "pentest-2023.pdf", PDF)
    attestations.publish(hub, firm, draft.id)
    return draft.id, evidence.id


ALL = {"list": True, "show": True, "history": True, "evidence": True}
NONE = {"list": False, "show": False, "history": False, "evidence": False}


def test_only_granted_organisations_see_an_attestation(hub: Hub) -> None:
    c = build_community(hub)
    attestation_id, evidence_id = _with_evidence(hub, c.firm)
    everyone_else = [c.bank, c.other_bank, c.other_firm, c.insurer, c.operator]
    for reader in everyone_else:  # before any grant: nobody but the firm
        assert _sees(hub, reader, attestation_id, evidence_id) == NONE, reader.name
    assert _sees(hub, c.firm, attestation_id, evidence_id) == ALL

    grant_to(hub, c.firm, c.bank)
    assert _sees(hub, c.bank, attestation_id, evidence_id) == ALL
    for reader in [c.other_bank, c.other_firm, c.insurer, c.operator]:
        assert _sees(hub, reader, attestation_id, evidence_id) == NONE, reader.name
    record, content = attestations.download_evidence(hub, c.bank, evidence_id)
    assert content == PDF and record.media_type == "application/pdf"

    # the error for a hidden attestation is worded like an unknown id
    with pytest.raises(NotFound) as hidden:
        attestations.show(hub, c.other_bank, attestation_id)
    with pytest.raises(NotFound) as unknown:
        attestations.show(hub, c.other_bank, "00000000-0000-4000-8000-000000000000")
    assert str(hidden.value).replace(attestation_id, "X") == str(unknown.value).replace(
        "00000000-0000-4000-8000-000000000000", "X"
    )


def test_drafts_are_the_firms_alone(hub: Hub) -> None:
    c = build_community(hub)
    grant_to(hub, c.firm, c.bank)
    draft = attestations.save_draft(hub, c.firm, template=TEMPLATE, answers={"mfa": True})
    with pytest.raises(NotFound):
        attestations.show(hub, c.bank, draft.id)
    assert attestations.show(hub, c.firm, draft.id).record.status == "draft"


def test_revocation_takes_effect_at_once_and_regrant_works(hub: Hub) -> None:
    c = build_community(hub)
    attestation_id, evidence_id = _with_evidence(hub, c.firm)
    grant_to(hub, c.firm, c.bank)
    assert attestations.show(hub, c.bank, attestation_id).answers["mfa"] is True

    attestations.revoke(hub, c.firm, c.bank.name)
    assert _sees(hub, c.bank, attestation_id, evidence_id) == NONE
    with pytest.raises(NotFound):
        attestations.revoke(hub, c.firm, c.bank.name)  # nothing left to revoke

    grant_to(hub, c.firm, c.bank)  # a new request, granted again
    assert _sees(hub, c.bank, attestation_id, evidence_id) == ALL
    statuses = sorted(r.record.status for r in attestations.list_requests(hub, c.bank))
    assert statuses == ["granted", "revoked"]


def test_a_declined_request_grants_nothing(hub: Hub) -> None:
    c = build_community(hub)
    attestation_id, evidence_id = _with_evidence(hub, c.firm)
    request = attestations.request_attestation(hub, c.bank, c.firm.name, TEMPLATE)
    with pytest.raises(NotFound):  # only the firm answers its requests
        attestations.respond(hub, c.other_firm, request.id, True)
    attestations.respond(hub, c.firm, request.id, False)
    assert _sees(hub, c.bank, attestation_id, evidence_id) == NONE
    with pytest.raises(Conflict):
        attestations.respond(hub, c.firm, request.id, True)
    assert attestations.list_grants(hub, c.bank) == []


def test_operators_manage_templates_but_make_and_read_no_attestations(hub: Hub) -> None:
    c = build_community(hub)
    published = publish(hub, c.firm)
    with pytest.raises(Forbidden):
        attestations.save_draft(hub, c.operator, template=TEMPLATE, answers={})
    with pytest.raises(NotFound):
        attestations.show(hub, c.operator, published.id)
    assert attestations.list_attestations(hub, c.operator) == []


def test_the_audit_trail_records_every_change_and_no_answers(hub: Hub) -> None:
    c = build_community(hub)
    attestation_id, evidence_id = _with_evidence(hub, c.firm)
    grant_to(hub, c.firm, c.bank)
    attestations.download_evidence(hub, c.bank, evidence_id)
    attestations.revoke(hub, c.firm, c.bank.name)
    entries = audit.entries(hub)
    actions = [e.action for e in entries if e.action.startswith("attest.")]
    for expected in (
        "attest.draft.save",
        "attest.evidence.upload",
        "attest.publish",
        "attest.request",
        "attest.grant",
        "attest.evidence.download",
        "attest.revoke",
    ):
        assert expected in actions
    text = " ".join(e.detail for e in entries)
    assert SECRET_ANSWER not in text and "Jane Carter" not in text
    assert attestation_id in text
    assert audit.verify(hub).problems == []
