"""Report intake end to end: victim protection, private drafts, review, publish, REST, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance
from typer.testing import CliRunner

from shieldwall.cli.main import app as cli_app
from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import InvalidInput, NotFound
from shieldwall.domain.intake import Analysis
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, reading, reports
from shieldwall.services.context import Hub
from shieldwall.web.app import create_app

REPORT = """# Intrusion at Carter & Lowe LLP (matter 2024-0117)

On 3 March our SOC saw j.doe@carterlowe.example open a phishing attachment
`invoice_0317.docm` sent from billing@evil-invoices[.]ru. The macro (MITRE ATT&CK T1566.001,
then T1059.001 PowerShell) downloaded a second stage from hxxps://cdn.evil-invoices[.]ru/a/b.bin
and beaconed to 185.220.101[.]45 over TLS. The implant was Cobalt Strike.

Internal hosts 198.51.100.23 and fs01.carterlowe.example were affected; VPN gateway
vpn.carterlowe.example logged the attacker's session. Call our CISO on +44 20 7946 0958.

SHA-256 of the dropper:
3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea
"""


def _setup(hub: Hub) -> tuple[object, object]:
    firm = admin.add_organisation(hub, "Carter & Lowe LLP", "legal", "US")
    bank = admin.add_organisation(hub, "Albion Bank plc", "financial", "GB")
    admin.declare_assets(
        hub, "Carter & Lowe LLP", ["carterlowe.example"], ["198.51.100.0/24"], ["matter 2024-0117"]
    )
    return firm, bank


def _values(analysis: Analysis) -> set[str]:
    return {i.value for i in analysis.extraction.indicators}


def test_victim_details_are_flagged_and_redacted_on_request(sqlite_hub: Hub) -> None:
    firm, _ = _setup(sqlite_hub)
    plain = reports.extract_report(
        sqlite_hub, firm, REPORT, "markdown", "Phishing", reports.Review(redact=False)
    )
    flagged = {(f.value.lower(), f.rule) for f in plain.flags}
    assert ("j.doe@carterlowe.example", "own-domain") in flagged
    assert ("198.51.100.23", "own-address") in flagged
    assert ("vpn.carterlowe.example", "own-domain") in flagged
    assert any(rule == "keyword" for _, rule in flagged)  # the firm's name, the matter number
    assert any(rule == "phone" for _, rule in flagged)
    for flag in plain.flags:  # every flag says where it is
        if flag.where == "text":
            assert plain.extraction.text[flag.start : flag.end].lower() == flag.value.lower()
    attacker = {
        "billing@evil-invoices.ru",
        "185.220.101.45",
        "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea",
    }
    assert attacker <= _values(plain)

    redacted = reports.extract_report(
        sqlite_hub, firm, REPORT, "markdown", "Phishing", reports.Review(redact=True)
    )
    objects = redacted.bundle["objects"]
    text = str(objects)
    for secret in (
        "carterlowe.example",
        "198.51.100.23",
        "j.doe",
        "7946 0958",
        "2024-0117",
        "Carter & Lowe",
    ):
        assert secret not in text, secret
    patterns = " ".join(str(o.get("pattern", "")) for o in objects)  # type: ignore[union-attr]
    for value in attacker:
        assert value in patterns
    for obj in objects:  # type: ignore[union-attr]
        result = validate_instance(obj, ValidationOptions(version="2.1"))
        assert result.is_valid, [str(e) for e in result.errors]
    assert any(o["type"] == "attack-pattern" for o in objects)  # type: ignore[index]


def test_a_struck_out_e_mail_address_is_personal_data(sqlite_hub: Hub) -> None:
    firm, _ = _setup(sqlite_hub)
    text = "Our employee anna.smith@lawmail-partners.net forwarded a lure from drop@evil-x.ru."
    kept = reports.extract_report(sqlite_hub, firm, text, "text", "Lure", reports.Review())
    assert {"anna.smith@lawmail-partners.net", "drop@evil-x.ru"} <= _values(kept)
    assert not [f for f in kept.flags if f.rule == "e-mail"]  # both taken as indicators
    review = reports.Review(removed=frozenset({"anna.smith@lawmail-partners.net"}))
    struck = reports.extract_report(sqlite_hub, firm, text, "text", "Lure", review)
    assert [(f.value, f.rule) for f in struck.flags] == [
        ("anna.smith@lawmail-partners.net", "e-mail")
    ]
    published = str(struck.bundle["objects"])
    assert "anna.smith" not in published  # neither an indicator nor in the description
    assert "drop@evil-x.ru" in published


def test_drafts_are_private_until_published(sqlite_hub: Hub) -> None:
    firm, bank = _setup(sqlite_hub)
    draft = reports.create_draft(sqlite_hub, firm, REPORT, "markdown", "Phishing wave")
    assert [d.id for d in reports.list_drafts(sqlite_hub, firm)] == [draft.record.id]
    assert reports.list_drafts(sqlite_hub, bank) == []
    with pytest.raises(NotFound):
        reports.get_draft(sqlite_hub, bank, draft.record.id)
    with pytest.raises(NotFound):
        reports.publish_draft(
            sqlite_hub, bank, draft.record.id, Tlp.GREEN, None, Attribution.ATTRIBUTED
        )
    # nothing of the draft is readable in the collection yet
    assert (
        reading.list_objects(
            sqlite_hub, bank, "shared", ObjectQuery(types=frozenset({"report"}))
        ).items
        == []
    )

    struck = "185.220.101.45"
    reviewed = reports.review_draft(
        sqlite_hub, firm, draft.record.id, reports.Review(redact=True, removed=frozenset({struck}))
    )
    assert struck in reviewed.analysis.dropped_indicators
    status = reports.publish_draft(
        sqlite_hub,
        firm,
        draft.record.id,
        Tlp.AMBER,
        make_scope(sectors=["financial"]),
        Attribution.ANONYMOUS,
    )
    assert status.failure_count == 0, status.details
    page = reading.list_objects(
        sqlite_hub, bank, "shared", ObjectQuery(types=frozenset({"report", "indicator"}))
    )
    bodies = " ".join(s.body for s in page.items)
    assert "Phishing wave" in bodies
    assert struck not in bodies
    assert firm.identity_id not in bodies  # type: ignore[attr-defined]  # anonymous to members
    with pytest.raises(InvalidInput):
        reports.publish_draft(
            sqlite_hub, firm, draft.record.id, Tlp.AMBER, None, Attribution.ATTRIBUTED
        )


def test_rest_extract_and_drafts(sqlite_hub: Hub) -> None:
    _setup(sqlite_hub)
    firm_key = admin.create_key(sqlite_hub, "Carter & Lowe LLP")
    bank_key = admin.create_key(sqlite_hub, "Albion Bank plc")
    client = TestClient(create_app(sqlite_hub))
    firm = {"Authorization": f"Bearer {firm_key}"}
    answer = client.post(
        "/api/v1/reports/extract",
        headers=firm,
        json={"text": REPORT, "format": "markdown", "redact": False},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert any(f["rule"] == "own-domain" for f in body["victim_flags"])
    assert {"T1566.001", "T1059.001"} <= {t["id"] for t in body["techniques"]}
    created = client.post(
        "/api/v1/reports/drafts",
        headers=firm,
        json={"text": REPORT, "format": "markdown", "name": "Wave"},
    )
    assert created.status_code == 201
    draft_id = created.json()["id"]
    other = client.get(
        f"/api/v1/reports/drafts/{draft_id}", headers={"Authorization": f"Bearer {bank_key}"}
    )
    assert other.status_code == 404
    published = client.post(
        f"/api/v1/reports/drafts/{draft_id}/publish",
        headers=firm,
        json={"tlp": "green", "attribution": "attributed"},
    )
    assert published.status_code == 202, published.text
    assert published.json()["failure_count"] == 0
    bad = client.post("/api/v1/reports/extract", headers=firm, json={"text": "x", "format": "pdfx"})
    assert bad.status_code == 400
    assert "unknown format" in bad.json()["error"]["description"]


def test_cli_report_extract(tmp_path: Path) -> None:
    report = tmp_path / "incident.md"
    report.write_text(REPORT)
    runner = CliRunner()
    stix = runner.invoke(cli_app, ["report", "extract", str(report), "--format", "stix"])
    assert stix.exit_code == 0, stix.output
    import orjson

    bundle = orjson.loads(stix.stdout)
    assert bundle["type"] == "bundle"
    for obj in bundle["objects"]:
        assert validate_instance(obj, ValidationOptions(version="2.1")).is_valid
    table = runner.invoke(cli_app, ["report", "extract", str(report)])
    assert table.exit_code == 0
    assert "185.220.101.45" in table.stdout
    missing = runner.invoke(cli_app, ["report", "extract", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2
