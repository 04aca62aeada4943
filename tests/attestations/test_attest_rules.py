"""Expiry, new versions, template validation, evidence files and reminders."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from attest_support import TEMPLATE, answers, build_community, day, grant_to, publish

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "alerts"))
from alerts_support import WebhookReceiver

from conftest import FixedClock
from shieldwall.domain.alerts import AlertConfig
from shieldwall.domain.attestations import DAY, check_filename, sniff_media_type
from shieldwall.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from shieldwall.services import attestations, delivery
from shieldwall.services.context import Hub

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def _clock(hub: Hub) -> FixedClock:
    assert isinstance(hub.clock, FixedClock)
    return hub.clock


def test_expiry_is_shown_against_the_hub_clock(hub: Hub) -> None:
    c = build_community(hub)
    published = publish(hub, c.firm, valid_days=10)
    grant_to(hub, c.firm, c.bank)
    view = attestations.show(hub, c.bank, published.id)
    assert (view.expiry.expired, view.expiry.days_left) == (False, 10)
    _clock(hub).value += 9 * DAY  # valid_until is midnight UTC, 2 hours later
    assert attestations.show(hub, c.bank, published.id).expiry.days_left == 1
    _clock(hub).value += DAY
    view = attestations.show(hub, c.bank, published.id)
    assert view.expiry.expired and view.expiry.days_left == 0


def test_a_new_version_supersedes_and_the_bank_sees_what_changed(hub: Hub) -> None:
    c = build_community(hub)
    first = publish(hub, c.firm)
    grant_to(hub, c.firm, c.bank)
    assert attestations.show(hub, c.bank, first.id).changed_since is None
    second = publish(hub, c.firm, mfa=False, breach_notification_hours=72)
    assert second.version == 2
    listed = attestations.list_attestations(hub, c.bank)
    assert [(v.record.id, v.record.version) for v in listed] == [(second.id, 2)]
    assert listed[0].changed_since == ["breach_notification_hours", "mfa"]
    view = attestations.show(hub, c.bank, second.id)
    assert view.last_viewed_version == 1
    assert view.changed_since == ["breach_notification_hours", "mfa"]
    assert attestations.show(hub, c.bank, second.id).changed_since is None  # now seen
    old = attestations.show(hub, c.bank, first.id)
    assert old.record.status == "superseded" and old.current_version == 2
    versions = attestations.history(hub, c.bank, first.id)
    assert [v.record.version for v in versions] == [2, 1]
    assert versions[0].changed_since == ["breach_notification_hours", "mfa"]
    with pytest.raises(Conflict):  # a published version never changes
        attestations.save_draft(hub, c.firm, attestation_id=second.id, answers={"mfa": True})


def test_answers_are_checked_against_the_template(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    c = build_community(hub)
    for bad, named in (
        ({"mfa": "yes please"}, "'mfa'"),
        ({"last_penetration_test": "last spring"}, "'last_penetration_test'"),
        ({"breach_notification_hours": "24"}, "'breach_notification_hours'"),
        ({"security_framework": "vibes"}, "'security_framework'"),
        ({"no_such_question": True}, "'no_such_question'"),
    ):
        with pytest.raises(InvalidInput, match=named):
            attestations.save_draft(hub, c.firm, template=TEMPLATE, answers=bad)
    partial = answers()
    del partial["incident_response_plan"]
    draft = attestations.save_draft(
        hub,
        c.firm,
        template=TEMPLATE,
        answers=partial,
        valid_from=day(-1),
        valid_until=day(30),
        signer_name="J",
        signer_title="P",
    )
    with pytest.raises(InvalidInput, match="'incident_response_plan'"):
        attestations.publish(hub, c.firm, draft.id)
    with pytest.raises(InvalidInput, match="valid_until"):
        attestations.save_draft(
            hub, c.firm, attestation_id=draft.id, valid_from=day(5), valid_until=day(1)
        )


def test_operators_alone_add_templates_and_versions_are_immutable(hub: Hub) -> None:
    c = build_community(hub)
    questions = [{"id": "soc2", "text": "SOC 2 report available?", "type": "yesno"}]
    with pytest.raises(Forbidden):
        attestations.add_template(hub, c.bank, "vendor-lite", "Lite", questions)
    first = attestations.add_template(hub, c.operator, "vendor-lite", "Lite", questions)
    more = [*questions, {"id": "tier", "text": "Tier", "type": "choice", "choices": ["a", "b"]}]
    second = attestations.add_template(hub, c.operator, "vendor-lite", "Lite", more)
    assert (first.record.version, second.record.version) == (1, 2)
    assert len(attestations.get_template(hub, "vendor-lite", 1).questions) == 1
    assert len(attestations.get_template(hub, "vendor-lite").questions) == 2
    with pytest.raises(InvalidInput, match="'tier'"):
        attestations.add_template(
            hub, c.operator, "x", "X", [{"id": "tier", "text": "T", "type": "choice"}]
        )
    with pytest.raises(InvalidInput, match="type"):
        attestations.add_template(
            hub, c.operator, "x", "X", [{"id": "a", "text": "T", "type": "blob"}]
        )


def test_evidence_types_are_judged_by_content() -> None:
    assert sniff_media_type(b"%PDF-1.4 ...") == "application/pdf"
    assert sniff_media_type(PNG) == "image/png"
    assert sniff_media_type(JPEG) == "image/jpeg"
    assert sniff_media_type("Pen test summary: no findings ✓\n".encode()) == "text/plain"
    for refused in (
        EXE,
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"  <?xml version='1.0'?><svg/>",
        b"\x7fELF\x02\x01\x01",
        b"",
    ):
        assert sniff_media_type(refused) is None, refused[:20]


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "a/b.pdf", "C:\\x.pdf", "C:x.pdf", "ok\x00.pdf", "..", " ", "a\nb.pdf"],
)
def test_path_tricks_in_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        check_filename(name)


def test_evidence_files_are_stored_safely(hub: Hub) -> None:
    hub = replace(
        hub,
        config=replace(
            hub.config, attestations=replace(hub.config.attestations, evidence_max_bytes=1024)
        ),
    )
    c = build_community(hub)
    draft = attestations.save_draft(hub, c.firm, template=TEMPLATE, answers=answers())
    with pytest.raises(InvalidInput, match="limit is 1024"):
        attestations.add_evidence(hub, c.firm, draft.id, "big.pdf", b"%PDF-" + b"x" * 1024)
    with pytest.raises(InvalidInput, match="judged by"):
        attestations.add_evidence(hub, c.firm, draft.id, "report.pdf", EXE)
    with pytest.raises(InvalidInput):
        attestations.add_evidence(hub, c.firm, draft.id, "../../etc/passwd", b"plain text")
    with pytest.raises(NotFound):  # another organisation cannot attach to the firm's draft
        attestations.add_evidence(hub, c.bank, draft.id, "x.txt", b"plain text")
    record = attestations.add_evidence(hub, c.firm, draft.id, "scan.pdf", PNG)
    assert record.media_type == "image/png"  # the name said PDF; the bytes say PNG
    assert record.id != "scan.pdf" and len(record.sha256) == 64
    got, content = attestations.download_evidence(hub, c.firm, record.id)
    assert content == PNG and got.filename == "scan.pdf"
    attestations.save_draft(
        hub,
        c.firm,
        attestation_id=draft.id,
        valid_from=day(-1),
        valid_until=day(9),
        signer_name="J",
        signer_title="P",
    )
    attestations.publish(hub, c.firm, draft.id)
    with pytest.raises(Conflict):  # evidence only on drafts
        attestations.add_evidence(hub, c.firm, draft.id, "late.txt", b"late")


def test_reminders_are_sent_once_through_a_signed_webhook(sqlite_hub: Hub) -> None:
    hub = replace(
        sqlite_hub,
        config=replace(sqlite_hub.config, alerts=AlertConfig(webhook_private_targets=True)),
    )
    c = build_community(hub)
    published = publish(hub, c.firm, valid_days=20)  # inside the 30-day threshold
    grant_to(hub, c.firm, c.bank)
    with (
        WebhookReceiver([]) as firm_hook,
        WebhookReceiver([]) as bank_hook,
        WebhookReceiver([]) as outsider_hook,
    ):
        for org, hook in ((c.firm, firm_hook), (c.bank, bank_hook), (c.other_bank, outsider_hook)):
            hook.secret = delivery.add_channel(hub, org, "webhook", hook.url).secret or ""
        done = attestations.remind(hub)
        assert (done.reminders, done.sent, done.failed) == (1, 2, 0)
        assert attestations.remind(hub).reminders == 0  # idempotent
        assert len(firm_hook.received) == len(bank_hook.received) == 1
        assert outsider_hook.received == []
        message = bank_hook.received[0]
        assert message.verified
        body = message.json()
        assert body["event"] == "attestation.expiring"
        assert body["attestation"]["id"] == published.id
        assert body["attestation"]["days_left"] == 20 and body["threshold_days"] == 30
        assert "answers" not in body and "Lloyd" not in message.body.decode()
        # 7 days before expiry the second threshold goes out, once; a revoked bank gets none
        attestations.revoke(hub, c.firm, c.bank.name)
        assert isinstance(hub.clock, FixedClock)
        hub.clock.value += 14 * DAY
        assert attestations.remind(hub).sent == 1
        assert attestations.remind(hub).reminders == 0
        assert len(firm_hook.received) == 2 and len(bank_hook.received) == 1
