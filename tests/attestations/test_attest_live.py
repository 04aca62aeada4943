"""End to end on a real server: the firm publishes over the CLI, the bank requests, the
firm grants, the bank reviews with ``shieldwall attest show``, the firm revokes and the
bank gets "not found"; other members get 404 over REST all along."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest
from attest_support import answers

from conftest import LiveServer

pytestmark = pytest.mark.slow


def attest(
    server: LiveServer, handle: str, *args: str, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "shieldwall.cli", "attest", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "SHIELDWALL_HUB": server.url,
            "SHIELDWALL_KEY": server.keys[handle],
            "COLUMNS": "200",
            "PATH": "/usr/bin:/bin",
        },
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_request_grant_review_revoke(live_server: LiveServer, tmp_path: Path) -> None:
    answers_file = tmp_path / "answers.json"
    answers_file.write_bytes(orjson.dumps(answers()))
    evidence = tmp_path / "pentest.pdf"
    evidence.write_bytes(b"%PDF-1.7\nsummary: no critical findings\n%%EOF\n")
    draft = last_line(
        attest(
            live_server,
            "law",
            "new",
            "--answers",
            str(answers_file),
            "--valid-from",
            "2020-01-01",
            "--valid-until",
            "2099-01-01",
            "--signer-name",
            "Jane Carter",
            "--signer-title",
            "Managing Partner",
        )
    )
    evidence_id = last_line(attest(live_server, "law", "evidence", draft, str(evidence)))
    refused = attest(live_server, "law", "evidence", draft, str(tmp_path / "x.txt"), ok=False)
    assert refused.returncode == 2
    published = attest(live_server, "law", "publish", draft)
    assert "Published version 1" in published.stdout and "days left" in published.stdout

    def rest(handle: str, path: str) -> int:
        headers = {"Authorization": f"Bearer {live_server.keys[handle]}"}
        return httpx.get(
            f"{live_server.url}/api/v1/attestations{path}", headers=headers
        ).status_code

    for handle in ("us-bank", "gb-bank", "agency", "operator"):
        assert rest(handle, f"/{draft}") == 404
        assert rest(handle, f"/{draft}/history") == 404
        assert rest(handle, f"/evidence/{evidence_id}") == 404
    assert rest("law", f"/evidence/{evidence_id}") == 200

    hidden = attest(live_server, "us-bank", "show", draft, ok=False)
    assert hidden.returncode == 3 and "no attestation" in hidden.stderr

    request_id = last_line(
        attest(live_server, "us-bank", "request", "US Law Firm", "--message", "annual review")
    )
    assert request_id in attest(live_server, "law", "requests").stdout
    attest(live_server, "law", "grant", request_id)

    shown = attest(live_server, "us-bank", "show", draft).stdout
    assert "US Law Firm" in shown and "expires 2099-01-01" in shown
    assert "Jane Carter" in shown and "pentest.pdf" in shown
    assert rest("us-bank", f"/evidence/{evidence_id}") == 200
    assert rest("gb-bank", f"/{draft}") == 404
    listed = orjson.loads(attest(live_server, "us-bank", "list", "--json").stdout)
    assert [item["id"] for item in listed] == [draft]

    attest(live_server, "law", "revoke", "US Bank")
    gone = attest(live_server, "us-bank", "show", draft, ok=False)
    assert gone.returncode == 3 and "no attestation" in gone.stderr
    assert rest("us-bank", f"/evidence/{evidence_id}") == 404
    assert orjson.loads(attest(live_server, "us-bank", "list", "--json").stdout) == []
