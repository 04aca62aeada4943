"""The member-side client of unlinkable submission.

- Key pinning against hand-written fake hubs (``httpx.MockTransport``): tokens under a key
  the hub did not announce, an announcement that changes, a proof that does not verify.
- ``shieldwall anon tokens`` / ``anon submit`` in process against a fake hub: what leaves.
- The scrubber on a realistic incident write-up: every victim detail goes, every attacker
  indicator stays.
- Double spend across two real server processes on one PostgreSQL database.
"""

from __future__ import annotations

import base64
import copy
import json
import stat
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from conftest import fresh_postgres_database, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.cli import anon as anon_cli
from shieldwall.cli.main import app
from shieldwall.client.hub import ANONYMOUS_USER_AGENT, HubClient
from shieldwall.client.wallet import KeyNotAnnounced, Wallet, fetch_tokens
from shieldwall.domain.errors import RateLimited
from shieldwall.domain.scrub import REDACTED, Assets, scrub_objects
from shieldwall.domain.tokens import evaluate_blinded, public_key, verify_token
from shieldwall.services import admin
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

HUB_URL = "https://hub.example"
MEMBER_KEY = "sw_0123456789ab_" + "s" * 43
EPOCH = 2810
SEED_ANNOUNCED = bytes([1]) * 32
SEED_OTHER = bytes([2]) * 32
MEMBER_IDENTITY = "identity--5b0a4f53-3c3e-4f61-9a43-6d2f2d0c9a11"


# ============================================================ a hand-written fake hub


@dataclass
class FakeHub:
    """Just enough of the hub's REST API for the client, with knobs to misbehave.

    ``announced`` maps epoch → seed whose key /keys announces; tokens are evaluated with
    ``issuing_seed`` and answered as ``answered_seed``'s key (both default to the
    announced seed); ``tamper_proof`` flips a bit of the DLEQ proof."""

    announced: dict[int, bytes] = field(default_factory=lambda: {EPOCH: SEED_ANNOUNCED})
    issuing_seed: bytes | None = None
    answered_seed: bytes | None = None
    tamper_proof: bool = False
    assets: dict[str, list[str]] = field(
        default_factory=lambda: {"domains": [], "cidrs": [], "keywords": []}
    )
    requests: list[httpx.Request] = field(default_factory=list)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    spent: set[bytes] = field(default_factory=set)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self, key: str | None = MEMBER_KEY) -> HubClient:
        return HubClient(HUB_URL, key, transport=self.transport)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        authenticated = request.headers.get("authorization") == f"Bearer {MEMBER_KEY}"
        if path == "/api/v1/anon/keys":
            epochs = [
                {"epoch": epoch, "public_key": public_key(seed, epoch).hex()}
                for epoch, seed in sorted(self.announced.items())
            ]
            return httpx.Response(200, json={"suite": "ristretto255-SHA512", "epochs": epochs})
        if path == "/api/v1/me/assets":
            if not authenticated:
                return httpx.Response(401, json={"error": {"description": "no key"}})
            return httpx.Response(200, json=self.assets)
        if path == "/api/v1/anon/tokens":
            if not authenticated:
                return httpx.Response(401, json={"error": {"description": "no key"}})
            body = json.loads(request.content)
            epoch = int(body["epoch"])
            announced = self.announced[epoch]
            blinded = [base64.b64decode(item) for item in body["blinded"]]
            evaluation = evaluate_blinded(self.issuing_seed or announced, epoch, blinded)
            if self.tamper_proof:
                evaluation = bytes([evaluation[0] ^ 0x01]) + evaluation[1:]
            answered = self.answered_seed or self.issuing_seed or announced
            return httpx.Response(
                200,
                json={
                    "epoch": epoch,
                    "public_key": public_key(answered, epoch).hex(),
                    "evaluation": base64.b64encode(evaluation).decode(),
                    "remaining": 10,
                },
            )
        if path == "/api/v1/anon/submissions":
            body = json.loads(request.content)
            token = body["token"]
            token_input = base64.b64decode(token["input"])
            seed = self.announced[int(token["epoch"])]
            if not verify_token(
                seed, int(token["epoch"]), token_input, base64.b64decode(token["authenticator"])
            ):
                return httpx.Response(403, json={"error": {"description": "bad token"}})
            if token_input in self.spent:
                return httpx.Response(409, json={"error": {"description": "spent"}})
            self.spent.add(token_input)
            self.submissions.append(body)
            return httpx.Response(
                202,
                json={"receipt": "r" * 43, "objects": len(body["objects"]), "removed": []},
            )
        if path.startswith("/api/v1/anon/receipts/"):
            return httpx.Response(200, json={"status": "queued", "published": [], "failed": {}})
        return httpx.Response(404, json={"error": {"description": f"no route {path}"}})


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def _wallet(state: Path) -> Wallet:
    """A wallet as a fresh run of the command line would load it."""
    return Wallet(HUB_URL, state)


# ============================================================== key pinning


def test_honest_hub_tokens_verify_and_are_kept(state: Path) -> None:
    hub = FakeHub()
    fetched = fetch_tokens(hub.client(), _wallet(state), 3)
    assert len(fetched) == 3
    for token in fetched:
        assert token.epoch == EPOCH
        assert verify_token(SEED_ANNOUNCED, EPOCH, token.input, token.output)
    wallet = _wallet(state)
    assert wallet.pinned == {EPOCH: public_key(SEED_ANNOUNCED, EPOCH).hex()}
    assert {t.input for t in wallet.tokens} == {t.input for t in fetched}
    assert stat.S_IMODE(wallet.path.stat().st_mode) == 0o600
    # The keys are fetched without credentials, the issuance with them.
    keys_request = next(r for r in hub.requests if r.url.path == "/api/v1/anon/keys")
    issue_request = next(r for r in hub.requests if r.url.path == "/api/v1/anon/tokens")
    assert "authorization" not in keys_request.headers
    assert "cookie" not in keys_request.headers
    assert keys_request.headers["user-agent"] == ANONYMOUS_USER_AGENT
    assert issue_request.headers["authorization"] == f"Bearer {MEMBER_KEY}"
    # The hub saw blinded elements only, never the inputs it will later be shown.
    sent = issue_request.content
    for token in fetched:
        assert base64.b64encode(token.input) not in sent


def test_tokens_under_an_unannounced_key_are_refused(state: Path) -> None:
    """A hub that tags one member with a key of its own (announced nowhere)."""
    hub = FakeHub(issuing_seed=SEED_OTHER)
    with pytest.raises(KeyNotAnnounced, match="has not announced"):
        fetch_tokens(hub.client(), _wallet(state), 2)
    assert _wallet(state).tokens == []


def test_announcement_that_changes_between_runs_is_refused(state: Path) -> None:
    hub = FakeHub()
    fetch_tokens(hub.client(), _wallet(state), 2)
    hub.announced = {EPOCH: SEED_OTHER}
    hub.issuing_seed = SEED_OTHER
    with pytest.raises(KeyNotAnnounced, match=f"different key for epoch {EPOCH}"):
        fetch_tokens(hub.client(), _wallet(state), 2)
    wallet = _wallet(state)
    assert wallet.pinned[EPOCH] == public_key(SEED_ANNOUNCED, EPOCH).hex()
    assert len(wallet.tokens) == 2  # only the first run's


def test_key_rotation_to_a_new_epoch_is_accepted(state: Path) -> None:
    hub = FakeHub()
    fetch_tokens(hub.client(), _wallet(state), 1)
    hub.announced = {EPOCH: SEED_ANNOUNCED, EPOCH + 1: SEED_OTHER}
    fetched = fetch_tokens(hub.client(), _wallet(state), 1)
    assert fetched[0].epoch == EPOCH + 1
    assert verify_token(SEED_OTHER, EPOCH + 1, fetched[0].input, fetched[0].output)
    assert set(_wallet(state).pinned) == {EPOCH, EPOCH + 1}


def _refusal(hub: FakeHub, state: Path) -> BaseException | None:
    try:
        fetch_tokens(hub.client(), _wallet(state), 2)
    except BaseException as exc:  # voprf panics with a BaseException
        return exc
    return None


@pytest.mark.parametrize("how", ["evaluated-under-another-key", "tampered-proof"])
def test_proof_that_does_not_verify_stores_no_token(how: str, state: Path) -> None:
    """The hub claims the announced key but the proof does not hold: no token is kept."""
    if how == "evaluated-under-another-key":
        hub = FakeHub(issuing_seed=SEED_OTHER, answered_seed=SEED_ANNOUNCED)
    else:
        hub = FakeHub(tamper_proof=True)
    assert _refusal(hub, state) is not None
    assert _wallet(state).tokens == []


@pytest.mark.parametrize("how", ["evaluated-under-another-key", "tampered-proof"])
def test_proof_that_does_not_verify_is_refused_clearly(how: str, state: Path) -> None:
    if how == "evaluated-under-another-key":
        hub = FakeHub(issuing_seed=SEED_OTHER, answered_seed=SEED_ANNOUNCED)
    else:
        hub = FakeHub(tamper_proof=True)
    refusal = _refusal(hub, state)
    assert isinstance(refusal, KeyNotAnnounced), repr(refusal)
    assert "proof does not verify" in refusal.message


# ================================================================= the command line


@pytest.fixture
def fake_cli(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeHub, list[dict[str, Any]]]:
    """``shieldwall anon`` talking to a fake hub: HubClient gets the mock transport."""
    hub = FakeHub()
    made: list[dict[str, Any]] = []

    def factory(url: str, key: str | None, *, proxy: str | None = None) -> HubClient:
        made.append({"url": url, "key": key, "proxy": proxy})
        return HubClient(url, key, proxy=None, transport=hub.transport)

    monkeypatch.setattr(anon_cli, "HubClient", factory)
    monkeypatch.delenv("SHIELDWALL_HUB", raising=False)
    monkeypatch.delenv("SHIELDWALL_KEY", raising=False)
    return hub, made


def _anon(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, ["anon", *args], env=env, input=stdin)


CASTLE_ASSETS = {
    "domains": ["castlemoat.co.uk"],
    "cidrs": ["198.51.100.0/24"],
    "keywords": ["Castle & Moat", "M-2024-0173"],
}


def test_cli_tokens_refuses_an_unannounced_key(
    fake_cli: tuple[FakeHub, list[dict[str, Any]]], state: Path
) -> None:
    hub, _ = fake_cli
    hub.issuing_seed = SEED_OTHER
    result = _anon(
        "tokens", "--count", "2", "--hub", HUB_URL, "--key", MEMBER_KEY, "--state", str(state)
    )
    assert result.exit_code == 1, result.output
    assert "has not announced" in result.stderr
    assert _wallet(state).tokens == []


def test_cli_submit_sends_only_what_was_scrubbed(
    fake_cli: tuple[FakeHub, list[dict[str, Any]]],
    state: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub, made = fake_cli
    hub.assets = CASTLE_ASSETS
    env = {"SHIELDWALL_HUB": HUB_URL, "SHIELDWALL_KEY": MEMBER_KEY}  # the env-var way
    result = _anon("tokens", "--count", "2", "--state", str(state), env=env)
    assert result.exit_code == 0, result.output
    assert "Fetched 2 tokens" in result.stdout
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        json.dumps(
            {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": incident_bundle()}
        )
    )
    slept: list[float] = []
    monkeypatch.setattr(anon_cli.time, "sleep", slept.append)

    # Without --yes it asks; answering no sends nothing and spends nothing.
    result = _anon("submit", str(bundle), "--state", str(state), env=env, stdin="n\n")
    assert result.exit_code == 1
    assert "What will leave" in result.stdout and REDACTED in result.stdout
    assert hub.submissions == [] and len(_wallet(state).tokens) == 2

    result = _anon(
        "submit",
        str(bundle),
        "--yes",
        "--delay",
        "5",
        "--proxy",
        "socks5://127.0.0.1:9050",
        "--state",
        str(state),
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "r" * 43  # the receipt, alone
    assert "Removed or redacted before sending" in result.stdout
    assert len(slept) == 1 and 0 <= slept[0] <= 5
    assert made[-1]["proxy"] == "socks5://127.0.0.1:9050"
    assert len(_wallet(state).tokens) == 1

    (submission,) = hub.submissions
    request = next(r for r in hub.requests if r.url.path == "/api/v1/anon/submissions")
    assert "authorization" not in request.headers and "cookie" not in request.headers
    assert request.headers["user-agent"] == ANONYMOUS_USER_AGENT
    sent = json.dumps(submission["objects"]).lower()
    for secret in VICTIM_DETAILS:
        assert secret.lower() not in sent, f"{secret} left the member's hands"
    for indicator in ATTACKER_INDICATORS:
        assert indicator.lower() in sent, f"attacker indicator {indicator} was lost"
    assert submission["tlp"] == "amber"


def test_cli_submit_does_not_send_the_members_identity(
    fake_cli: tuple[FakeHub, list[dict[str, Any]]], state: Path, tmp_path: Path
) -> None:
    hub, _ = fake_cli
    hub.assets = CASTLE_ASSETS
    common = ["--hub", HUB_URL, "--key", MEMBER_KEY, "--state", str(state)]
    assert _anon("tokens", "--count", "1", *common).exit_code == 0
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        json.dumps(
            {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": incident_bundle()}
        )
    )
    result = _anon("submit", str(bundle), "--yes", *common)
    assert result.exit_code == 0, result.output
    assert MEMBER_IDENTITY not in json.dumps(hub.submissions)


def test_cli_status_sends_no_key(fake_cli: tuple[FakeHub, list[dict[str, Any]]]) -> None:
    hub, made = fake_cli
    result = _anon("status", "--hub", HUB_URL, "--", "-P4eWwjla9_W_oBfCBnjQ")
    assert result.exit_code == 0, result.output
    assert "Status: queued" in result.stdout
    assert made[-1]["key"] is None
    assert "authorization" not in hub.requests[-1].headers


def test_cli_status_accepts_every_receipt(fake_cli: tuple[FakeHub, list[dict[str, Any]]]) -> None:
    # receipts carry a prefix, so one whose random part starts with "-" is still an argument
    result = _anon("status", "rcpt_-P4eWwjla9_W_oBfCBnjQ", "--hub", HUB_URL)
    assert result.exit_code == 0, result.output


# ======================================================== the scrubber on a write-up

ATTACKER_INDICATORS = [
    "cdn-telemetry-sync.com",
    "api.msoffice-licensing.net",
    "castlemoat-secure.co.uk",  # a look-alike of the victim's domain: the attacker's
    "45.77.120.14",
    "185.212.47.93",
    "2001:db8:dead:beef::25",
    "8f3b1c9e6a2d4f7b0c5e9a1d3f6b8c2e4a7d9f1b3c5e7a9d2f4b6c8e0a1c3e5f",
    "d41d8cd98f00b204e9800998ecf8427e",
    "billing@docusign-secure-portal.com",
    "https://cdn-telemetry-sync.com/api/v2/beacon",
]
VICTIM_DETAILS = [
    "castlemoat.co.uk",
    "vpn.castlemoat.co.uk",
    "198.51.100.23",
    "198.51.100.7",
    "j.whitfield@castlemoat.co.uk",
    "jane.whitfield@gmail.com",
    "+44 20 7946 0321",
    "Castle & Moat",
    "M-2024-0173",
]
MALWARE = "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"
C2_DOMAIN = "indicator--8e2e2d2b-17d4-4cbd-938f-98ee46b3cd3f"
C2_SECOND = "indicator--1f4e6a50-93c7-4b40-8d4f-7a7f3b2e6c01"
C2_IP = "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade"
C2_IPV6 = "indicator--5d7c1a9e-3b2f-4e6d-8c0a-9f1e2d3c4b5a"
LOOKALIKE = "indicator--2c9d7e1f-6a5b-4c3d-9e8f-0a1b2c3d4e5f"
DROPPER_HASH = "indicator--b4c2a8d0-1e3f-4a5b-8c7d-6e9f0a1b2c3d"
PHISH_SENDER = "indicator--c5d3b9e1-2f4a-4b6c-9d8e-7f0a1b2c3d4e"
BEACON_URL = "indicator--d6e4c0f2-3a5b-4c7d-8e9f-0a1b2c3d4e6f"
VICTIM_IP = "indicator--e7f5d1a3-4b6c-4d8e-9f0a-1b2c3d4e5f70"
VICTIM_URL = "indicator--f8a6e2b4-5c7d-4e9f-8a0b-2c3d4e5f6a71"
REPORT = "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3"
VICTIM = "identity--3f2d1c0b-9a8e-4d7c-8b6a-5f4e3d2c1b0a"
SIGHTING = "sighting--9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
REL_C2 = "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"
REL_VICTIM = "relationship--55398b85-cb63-4a1d-98b4-2935f78e8fbe"
REL_LOOKALIKE = "relationship--664a9c96-dc74-4b2e-89c5-3a46a89f9acf"
SCO_ATTACKER_IP = "ipv4-addr--f7c8b3a5-6f4c-5d2e-9a1b-3c5d7e9f0a1b"
SCO_VICTIM_IP = "ipv4-addr--0a1b2c3d-4e5f-5a6b-8c7d-9e0f1a2b3c4d"
SCO_VICTIM_DOMAIN = "domain-name--1b2c3d4e-5f6a-5b7c-8d9e-0f1a2b3c4d5e"
OBSERVED = "observed-data--2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
T = "2024-03-19T14:22:07.481Z"


def _indicator(object_id: str, name: str, pattern: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": object_id,
        "created": T,
        "modified": T,
        "created_by_ref": MEMBER_IDENTITY,
        "name": name,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": T,
    }


def _relationship(object_id: str, source: str, target: str) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": object_id,
        "created": T,
        "modified": T,
        "relationship_type": "indicates",
        "source_ref": source,
        "target_ref": target,
    }


def incident_bundle() -> list[dict[str, Any]]:
    """A victim's write-up in the style of an ESET campaign report, with its indicators."""
    description = (
        "Operation Quill Ink: a previously undocumented downloader we named QuillDrop was "
        "deployed against Castle & Moat LLP (internal matter M-2024-0173). Initial access "
        "was a spear-phishing e-mail from billing@docusign-secure-portal.com to "
        "j.whitfield@castlemoat.co.uk carrying an ISO image (MD5 "
        "d41d8cd98f00b204e9800998ecf8427e) whose LNK file side-loads the dropper "
        "8f3b1c9e6a2d4f7b0c5e9a1d3f6b8c2e4a7d9f1b3c5e7a9d2f4b6c8e0a1c3e5f. "
        "QuillDrop beacons over HTTPS to cdn-telemetry-sync.com "
        "(https://cdn-telemetry-sync.com/api/v2/beacon, resolving to 45.77.120.14) and "
        "falls back to api.msoffice-licensing.net on 185.212.47.93 or 2001:db8:dead:beef::25. "
        "Credentials were harvested on the look-alike castlemoat-secure.co.uk and replayed "
        "against the firm's VPN gateway vpn.castlemoat.co.uk (198.51.100.23) and its file "
        "server 198.51.100.7 (FS01). Incident handler: Jane Whitfield, jane.whitfield@gmail.com, "
        "+44 20 7946 0321."
    )
    return [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": VICTIM,
            "created": T,
            "modified": T,
            "name": "Castle & Moat LLP",
            "identity_class": "organization",
            "sectors": ["legal-services"],
            "contact_information": "soc@castlemoat.co.uk, +44 20 7946 0321",
        },
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": MEMBER_IDENTITY,
            "created": T,
            "modified": T,
            "name": "Castle & Moat LLP",
            "identity_class": "organization",
        },
        {
            "type": "malware",
            "spec_version": "2.1",
            "id": MALWARE,
            "created": T,
            "modified": T,
            "created_by_ref": MEMBER_IDENTITY,
            "name": "QuillDrop",
            "is_family": True,
            "malware_types": ["downloader", "remote-access-trojan"],
            "description": "Downloader beaconing to cdn-telemetry-sync.com; seen at "
            "Castle & Moat on vpn.castlemoat.co.uk.",
            "x_castle_case": "M-2024-0173",
        },
        _indicator(C2_DOMAIN, "QuillDrop C2", "[domain-name:value = 'cdn-telemetry-sync.com']"),
        _indicator(
            C2_SECOND, "QuillDrop fallback C2", "[domain-name:value = 'api.msoffice-licensing.net']"
        ),
        _indicator(
            C2_IP,
            "QuillDrop C2 address",
            "[ipv4-addr:value = '45.77.120.14'] OR [ipv4-addr:value = '185.212.47.93']",
        ),
        _indicator(C2_IPV6, "QuillDrop C2 v6", "[ipv6-addr:value = '2001:db8:dead:beef::25']"),
        _indicator(
            LOOKALIKE, "Credential phishing site", "[domain-name:value = 'castlemoat-secure.co.uk']"
        ),
        _indicator(
            DROPPER_HASH,
            "QuillDrop dropper",
            "[file:hashes.'SHA-256' = "
            "'8f3b1c9e6a2d4f7b0c5e9a1d3f6b8c2e4a7d9f1b3c5e7a9d2f4b6c8e0a1c3e5f'] OR "
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        ),
        _indicator(
            PHISH_SENDER,
            "Phishing sender",
            "[email-addr:value = 'billing@docusign-secure-portal.com']",
        ),
        _indicator(
            BEACON_URL, "Beacon URL", "[url:value = 'https://cdn-telemetry-sync.com/api/v2/beacon']"
        ),
        # the victim's own infrastructure, as incident responders often export it
        _indicator(VICTIM_IP, "Compromised VPN gateway", "[ipv4-addr:value = '198.51.100.23']"),
        _indicator(
            VICTIM_URL,
            "Abused VPN portal",
            "[url:value = 'https://vpn.castlemoat.co.uk/remote/login']",
        ),
        _relationship(REL_C2, C2_DOMAIN, MALWARE),
        _relationship(REL_VICTIM, VICTIM_IP, MALWARE),
        _relationship(REL_LOOKALIKE, LOOKALIKE, MALWARE),
        {
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": SCO_ATTACKER_IP,
            "value": "45.77.120.14",
        },
        {"type": "ipv4-addr", "spec_version": "2.1", "id": SCO_VICTIM_IP, "value": "198.51.100.23"},
        {
            "type": "domain-name",
            "spec_version": "2.1",
            "id": SCO_VICTIM_DOMAIN,
            "value": "vpn.castlemoat.co.uk",
        },
        {
            "type": "observed-data",
            "spec_version": "2.1",
            "id": OBSERVED,
            "created": T,
            "modified": T,
            "first_observed": T,
            "last_observed": T,
            "number_observed": 14,
            "object_refs": [SCO_ATTACKER_IP, SCO_VICTIM_IP],
        },
        {
            "type": "sighting",
            "spec_version": "2.1",
            "id": SIGHTING,
            "created": T,
            "modified": T,
            "sighting_of_ref": C2_DOMAIN,
            "where_sighted_refs": [VICTIM],
            "count": 14,
        },
        {
            "type": "report",
            "spec_version": "2.1",
            "id": REPORT,
            "created": T,
            "modified": T,
            "created_by_ref": MEMBER_IDENTITY,
            "name": "Operation Quill Ink at Castle & Moat",
            "report_types": ["campaign", "malware"],
            "published": T,
            "description": description,
            "external_references": [
                {"source_name": "mitre-attack", "external_id": "T1566.001"},
                {
                    "source_name": "internal",
                    "description": "Matter M-2024-0173 ticket",
                    "url": "https://tickets.castlemoat.co.uk/M-2024-0173",
                },
            ],
            "object_refs": [
                MALWARE,
                C2_DOMAIN,
                C2_SECOND,
                C2_IP,
                C2_IPV6,
                LOOKALIKE,
                DROPPER_HASH,
                PHISH_SENDER,
                BEACON_URL,
                VICTIM_IP,
                VICTIM_URL,
                REL_C2,
                REL_VICTIM,
                REL_LOOKALIKE,
                OBSERVED,
                SIGHTING,
                VICTIM,
            ],
        },
    ]


def test_scrubber_on_an_incident_write_up() -> None:
    objects = incident_bundle()
    original = copy.deepcopy(objects)
    assets = Assets.parse(
        **{
            k: v
            for k, v in zip(("domains", "cidrs", "keywords"), CASTLE_ASSETS.values(), strict=True)
        }
    )
    result = scrub_objects(objects, assets)
    assert objects == original, "scrubbing must not modify its input"
    by_id = {str(o["id"]): o for o in result.objects}
    text = json.dumps(result.objects).lower()

    # The victim's details are gone from everything that leaves.
    for secret in VICTIM_DETAILS:
        assert secret.lower() not in text, f"{secret} survived scrubbing"
    # Indicators and observables of the victim's own infrastructure go whole, and so do the
    # objects that cannot live without them; list references to them are cut.
    for gone in (VICTIM_IP, VICTIM_URL, SCO_VICTIM_IP, SCO_VICTIM_DOMAIN, REL_VICTIM):
        assert gone not in by_id
    assert by_id[OBSERVED]["object_refs"] == [SCO_ATTACKER_IP]
    assert VICTIM_IP not in by_id[REPORT]["object_refs"]
    assert VICTIM_URL not in by_id[REPORT]["object_refs"]

    # Every attacker indicator stays, byte for byte, and so does the write-up around it.
    for object_id in (
        C2_DOMAIN,
        C2_SECOND,
        C2_IP,
        C2_IPV6,
        LOOKALIKE,
        DROPPER_HASH,
        PHISH_SENDER,
        BEACON_URL,
    ):
        kept = by_id[object_id]
        assert kept["pattern"] == next(o for o in original if o["id"] == object_id)["pattern"]
    for value in ATTACKER_INDICATORS:
        assert value.lower() in by_id[REPORT]["description"].lower(), value
    assert by_id[SCO_ATTACKER_IP]["value"] == "45.77.120.14"
    assert by_id[REL_C2]["source_ref"] == C2_DOMAIN and by_id[REL_LOOKALIKE]
    assert "QuillDrop" in by_id[MALWARE]["name"]
    description = by_id[REPORT]["description"]
    assert description.count(REDACTED) >= 8
    assert "LLP" in description and "spear-phishing" in description
    assert by_id[REPORT]["name"] == f"Operation Quill Ink at {REDACTED}"
    assert by_id[VICTIM]["name"] == f"{REDACTED} LLP"
    assert by_id[VICTIM]["contact_information"] == f"{REDACTED}, {REDACTED}"

    # Each finding says where and why.
    rules = {(f.object_id, f.rule, f.action) for f in result.findings}
    assert (VICTIM_IP, "own-address", "object removed") in rules
    assert (VICTIM_URL, "own-domain", "object removed") in rules
    assert (REL_VICTIM, "refers-to-removed", "object removed") in rules
    assert {"own-domain", "own-address", "keyword", "e-mail", "phone"} <= {
        f.rule for f in result.findings if f.object_id == REPORT
    }
    assert not any(f.value.lower() in ATTACKER_INDICATORS for f in result.findings)


def test_scrubber_keeps_dates_in_a_timeline() -> None:
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": REPORT,
        "created": T,
        "modified": T,
        "name": "Timeline",
        "published": T,
        "description": "First beacon on 2024-03-14 at 09:12 UTC; loader build 20240314.",
        "object_refs": [MALWARE],
    }
    result = scrub_objects([report], Assets.parse([], [], []))
    assert result.objects[0]["description"] == report["description"], result.findings


def test_scrubber_finds_own_address_at_the_end_of_a_sentence() -> None:
    assets = Assets.parse([], ["198.51.100.0/24"], [])
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": T,
        "modified": T,
        "content": "The attacker logged in through our VPN gateway at 198.51.100.23.",
        "object_refs": [MALWARE],
    }
    result = scrub_objects([note], assets)
    assert "198.51.100.23" not in json.dumps(result.objects)


def test_scrubber_keeps_attacker_addresses_with_a_short_last_octet() -> None:
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": T,
        "modified": T,
        "content": "Fallback C2 servers: 185.212.47.9 and 10.20.30.4 (port 443).",
        "object_refs": [MALWARE],
    }
    result = scrub_objects([note], Assets.parse([], [], []))
    assert result.objects[0]["content"] == note["content"], result.findings


# ============================================= double spend across server processes


def _race(urls: list[str], token: dict[str, object], obj: dict[str, Any]) -> list[httpx.Response]:
    """Redeem the same token at every URL at the same moment (one thread each)."""
    barrier = threading.Barrier(len(urls))
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def redeem(url: str) -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            response = client.post(
                f"{url}/api/v1/anon/submissions",
                json={"token": token, "objects": [obj], "tlp": "green"},
            )
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=redeem, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


@pytest.mark.slow
@pytest.mark.postgres
def test_double_spend_across_two_server_processes(tmp_path: Path) -> None:
    database = fresh_postgres_database()
    hub = build_hub(Settings().with_overrides(database_url=database))
    admin.add_organisation(hub, "Spender Bank", "financial", "GB")
    key = admin.create_key(hub, "Spender Bank", "double spend")
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    quota = {"SHIELDWALL_ANON_TOKENS_PER_EPOCH": "5"}
    first = start_server(database, tmp_path, extra_env=quota)
    second = start_server(database, tmp_path, extra_env=quota)
    try:
        rounds = 4
        tokens = fetch_tokens(HubClient(first.url, key), Wallet(first.url, tmp_path), rounds)
        # the quota holds across processes too
        with pytest.raises(RateLimited, match="token quota reached: 4 of 5"):
            fetch_tokens(HubClient(second.url, key), Wallet(second.url, tmp_path), 2)
        indicator = _indicator(C2_DOMAIN, "C2", "[domain-name:value = 'cdn-telemetry-sync.com']")
        del indicator["created_by_ref"]
        for token in tokens:
            answers = _race([first.url, second.url], token.to_wire(), indicator)
            assert sorted(r.status_code for r in answers) == [202, 409], [r.text for r in answers]
            refused = next(r for r in answers if r.status_code == 409)
            assert "already been spent" in refused.json()["error"]["description"]
        # a tampered token is refused with a clear error, at either process
        tampered = dict(tokens[0].to_wire(), authenticator=base64.b64encode(bytes(64)).decode())
        forged = httpx.post(
            f"{second.url}/api/v1/anon/submissions",
            json={"token": tampered, "objects": [indicator]},
            timeout=30,
        )
        assert forged.status_code == 403
        assert "the token is not valid" in forged.json()["error"]["description"]
        # and sequentially, at either process, the spent tokens stay spent
        again = httpx.post(
            f"{second.url}/api/v1/anon/submissions",
            json={"token": tokens[0].to_wire(), "objects": [indicator]},
            timeout=30,
        )
        assert again.status_code == 409
    finally:
        stop_server(first)
        stop_server(second)
    check = build_hub(Settings().with_overrides(database_url=database), migrate=False)
    assert isinstance(check.store, Database)
    with check.store.engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM spent_tokens")).scalar_one()
        queued = connection.execute(text("SELECT count(*) FROM anonymous_submissions")).scalar_one()
    check.store.dispose()
    assert rows == rounds and queued == rounds
