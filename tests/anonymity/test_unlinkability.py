"""Unlinkable submission end to end, and the proof that nothing links it back.

Three members of a small community submit incident write-ups with the real command line
(``shieldwall anon tokens`` then ``anon submit``) to a real ``shieldwall serve`` process
(k = 3); a fourth member reads the batch over TAXII and REST. Then everything the hub
keeps or shows is searched for anything that ties a published object to its submitter:

- every row of every table (reflected, so tables added later are checked too);
- the server's log;
- every API answer the fourth member and the operator can get;
- and the operator's own look-up, which must find nothing.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData
from typer.testing import CliRunner, Result

from conftest import LiveServer, start_server, stop_server
from db_dump import Row, references, tokens
from db_dump import dump as dump_all
from shieldwall.bootstrap import build_hub
from shieldwall.cli.main import app
from shieldwall.services import admin
from shieldwall.services.admin import ANONYMOUS_IDENTITY_SETTING
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("anonymity-unlinkability")]

TAXII = "application/taxii+json;version=2.1"
REDACTED = "[REDACTED]"
DAY = 86_400_000_000
NON_MIDNIGHT = re.compile(r"\d{4}-\d\d-\d\dT(?!00:00:00(?:\.0+)?Z)\d\d:\d\d:\d\d")


# ====================================================================== the community


@dataclass
class Member:
    """A member of the demo community, with what would identify it."""

    name: str
    sector: str
    country: str
    domain: str
    cidr: str
    own_address: str
    keywords: list[str]
    staff_email: str
    attacker: dict[str, str]
    # filled in when the community is created
    org_id: int = 0
    identity: str = ""
    key: str = ""
    window: tuple[int, int] = (0, 0)
    receipt: str = ""
    published: list[str] = field(default_factory=list)

    @property
    def key_id(self) -> str:
        return self.key.split("_")[1]

    def identifying_strings(self) -> list[str]:
        return [
            self.name,
            self.identity,
            self.key_id,
            self.key.split("_", 2)[2],
            self.domain,
            self.cidr,
            self.own_address,
            self.staff_email,
            *self.keywords,
        ]


SUBMITTERS = [
    Member(
        name="Albion Bank plc",
        sector="financial",
        country="GB",
        domain="albionbank.co.uk",
        cidr="203.0.113.0/24",
        own_address="203.0.113.45",
        keywords=["Albion Bank", "ACC-99812"],
        staff_email="treasury.ops@albionbank.co.uk",
        attacker={
            "c2": "update.winsvc-telemetry.net",
            "lookalike": "secure-docs-review.com",
            "ip": "45.77.120.14",
            "sha256": "8f3b1c9e6a2d4f7b0c5e9a1d3f6b8c2e4a7d9f1b3c5e7a9d2f4b6c8e0a1c3e5f",
            "malware": "GhostQuill",
        },
    ),
    Member(
        name="Castle & Moat LLP",
        sector="legal",
        country="GB",
        domain="castlemoat.co.uk",
        cidr="198.51.100.0/24",
        own_address="198.51.100.23",
        keywords=["Castle & Moat", "M-2024-0173"],
        staff_email="j.whitfield@castlemoat.co.uk",
        attacker={
            "c2": "cdn-telemetry-sync.com",
            "lookalike": "sharepoint-files-portal.net",
            "ip": "185.212.47.93",
            "sha256": "0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e",
            "malware": "QuillDrop",
        },
    ),
    Member(
        name="Northwind Mutual",
        sector="insurance",
        country="US",
        domain="northwind-mutual.com",
        cidr="192.0.2.0/24",
        own_address="192.0.2.77",
        keywords=["Northwind", "POL-55-0192"],
        staff_email="k.osei@northwind-mutual.com",
        attacker={
            "c2": "reef-exfil-storage.net",
            "lookalike": "claims-portal-review.com",
            "ip": "91.219.236.18",
            "sha256": "5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f",
            "malware": "BlackReef",
        },
    ),
]
READER = ("Harbour Credit Union", "financial", "US", "member")
OPERATOR = ("Hub Operator", "other", "GB", "operator")


def write_up(member: Member, stamp: str) -> list[dict[str, Any]]:
    """A member's export of an incident: indicators, malware, relationships, a report that
    names its own domain, address, staff and case number, and its own identity."""
    a = member.attacker
    ids = {k: f"{k}--{uuid.uuid4()}" for k in ("malware", "report", "identity")}
    indicators = {
        "c2": f"[domain-name:value = '{a['c2']}']",
        "lookalike": f"[domain-name:value = '{a['lookalike']}']",
        "ip": f"[ipv4-addr:value = '{a['ip']}']",
        "sha256": f"[file:hashes.'SHA-256' = '{a['sha256']}']",
    }
    objects: list[dict[str, Any]] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": member.identity,
            "created": stamp,
            "modified": stamp,
            "name": member.name,
            "identity_class": "organization",
            "contact_information": member.staff_email,
        },
        {
            "type": "malware",
            "spec_version": "2.1",
            "id": ids["malware"],
            "created": stamp,
            "modified": stamp,
            "created_by_ref": member.identity,
            "name": a["malware"],
            "is_family": True,
            "malware_types": ["remote-access-trojan"],
            "x_internal_ticket": member.keywords[1],
        },
    ]
    refs = [ids["malware"]]
    for kind, pattern in indicators.items():
        indicator_id = f"indicator--{uuid.uuid4()}"
        relationship_id = f"relationship--{uuid.uuid4()}"
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": indicator_id,
                "created": stamp,
                "modified": stamp,
                "created_by_ref": member.identity,
                "name": f"{a['malware']} {kind}",
                "indicator_types": ["malicious-activity"],
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": stamp,
            }
        )
        objects.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": relationship_id,
                "created": stamp,
                "modified": stamp,
                "relationship_type": "indicates",
                "source_ref": indicator_id,
                "target_ref": ids["malware"],
            }
        )
        refs += [indicator_id, relationship_id]
    objects.append(
        {
            "type": "report",
            "spec_version": "2.1",
            "id": ids["report"],
            "created": stamp,
            "modified": stamp,
            "created_by_ref": member.identity,
            "name": f"{a['malware']} intrusion at {member.keywords[0]}",
            "published": stamp,
            "report_types": ["campaign"],
            "description": (
                f"{a['malware']} reached {member.keywords[0]} (case {member.keywords[1]}) "
                f"through a phishing e-mail to {member.staff_email} pointing at the look-alike "
                f"{a['lookalike']}. The implant beacons to {a['c2']} ({a['ip']}); the dropper "
                f"has SHA-256 {a['sha256']}. Lateral movement reached mail.{member.domain} "
                f"at {member.own_address} over SMB."
            ),
            "external_references": [
                {"source_name": "mitre-attack", "external_id": "T1566.002"},
                {"source_name": "ticket", "url": f"https://itsm.{member.domain}/INC-4711"},
            ],
            "object_refs": [*refs, member.identity],
        }
    )
    return objects


# ========================================================================== the run


def shieldwall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shieldwall.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def in_process(*args: str) -> Result:
    """The command line in this process (for the operator's and the status commands)."""
    return CliRunner().invoke(app, list(args))


def now_micros() -> int:
    return time.time_ns() // 1000


@dataclass
class Scenario:
    server: LiveServer
    database: str
    submitters: list[Member]
    reader_key: str
    operator_key: str
    anonymous_identity: str
    collection_id: str
    published: set[str]
    api_outputs: dict[str, str]
    reveal: Result


def _taxii(server: LiveServer, key: str, path: str) -> httpx.Response:
    response = httpx.get(
        f"{server.api_root}{path}",
        headers={"Authorization": f"Bearer {key}", "Accept": TAXII},
        timeout=30,
    )
    assert response.status_code == 200, (path, response.text)
    return response


def _rest(server: LiveServer, key: str, path: str) -> httpx.Response:
    response = httpx.get(
        f"{server.url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert response.status_code == 200, (path, response.text)
    return response


def one_of_each_type(ids: set[str]) -> list[str]:
    """The per-object endpoints serve what the listings do: ask them for one id per type."""
    first: dict[str, str] = {}
    for object_id in sorted(ids):
        first.setdefault(object_id.split("--")[0], object_id)
    return sorted(first.values())


def _collect_outputs(scenario: Scenario) -> None:
    """Every API answer about the published objects the reader and the operator can get."""
    server, cid = scenario.server, scenario.collection_id
    for who, key in (("reader", scenario.reader_key), ("operator", scenario.operator_key)):
        outputs = scenario.api_outputs
        for path in (f"collections/{cid}/objects/", f"collections/{cid}/manifest/"):
            response = _taxii(server, key, path + "?limit=10000")
            outputs[f"{who} GET {path}"] = response.text
            outputs[f"{who} GET {path} headers"] = json.dumps(dict(response.headers))
        for object_id in one_of_each_type(scenario.published):
            for suffix in ("", "versions/"):
                path = f"collections/{cid}/objects/{object_id}/{suffix}"
                outputs[f"{who} GET {path}"] = _taxii(server, key, path).text
            path = f"/api/v1/objects/{object_id}?all_versions=true"
            outputs[f"{who} GET {path}"] = _rest(server, key, path).text
        path = "/api/v1/objects?limit=10000"
        outputs[f"{who} GET {path}"] = _rest(server, key, path).text
        path = "/api/v1/objects?q=intrusion"
        outputs[f"{who} GET {path}"] = _rest(server, key, path).text
    for member in scenario.submitters:
        path = f"/api/v1/anon/receipts/{member.receipt}"
        scenario.api_outputs[f"anyone GET receipt of {member.name}"] = httpx.get(
            f"{server.url}{path}", timeout=30
        ).text
    scenario.api_outputs["anyone GET /api/v1/anon/keys"] = httpx.get(
        f"{server.url}/api/v1/anon/keys", timeout=30
    ).text
    scenario.api_outputs["anyone GET /metrics"] = httpx.get(
        f"{server.url}/metrics", timeout=30
    ).text


def member_args(server: LiveServer, member: Member, tmp_path: Path, number: int) -> list[str]:
    state = str(tmp_path / f"wallet-{number}")
    return ["--hub", server.url, "--key", member.key, "--state", state]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    tmp_path = tmp_path_factory.mktemp("unlinkable")
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = build_hub(Settings().with_overrides(database_url=database))
    submitters = [Member(**{**m.__dict__, "attacker": dict(m.attacker)}) for m in SUBMITTERS]
    for member in submitters:
        organisation = admin.add_organisation(hub, member.name, member.sector, member.country)
        member.org_id, member.identity = organisation.id, organisation.identity_id
        member.key = admin.create_key(hub, member.name, "anonymous submissions")
        admin.declare_assets(hub, member.name, [member.domain], [member.cidr], member.keywords)
    for name, sector, country, role in (READER, OPERATOR):
        admin.add_organisation(hub, name, sector, country, role)
    reader_key = admin.create_key(hub, READER[0], "reader")
    operator_key = admin.create_key(hub, OPERATOR[0], "operator")
    (collection,) = [c for c in admin.collections(hub) if c.alias == "shared"]
    with hub.store.read() as tx:
        anonymous_identity = tx.setting(ANONYMOUS_IDENTITY_SETTING) or ""
    assert isinstance(hub.store, Database)
    hub.store.dispose()

    server = start_server(database, tmp_path, extra_env={"SHIELDWALL_ANON_BATCH_SIZE": "3"})
    try:
        fetching = [  # the three members fetch their tokens at the same time
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "shieldwall.cli",
                    "anon",
                    "tokens",
                    "--count",
                    "3",
                    *member_args(server, member, tmp_path, number),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for number, member in enumerate(submitters)
        ]
        for process in fetching:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            assert "Fetched 3 tokens" in out
        for number, member in enumerate(submitters):
            common = member_args(server, member, tmp_path, number)
            path = tmp_path / f"incident-{number}.json"
            objects = write_up(member, f"2024-03-{11 + number}T0{number}:4{number}:17.{number}31Z")
            path.write_text(
                json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
            )
            before = now_micros()
            sent = shieldwall("anon", "submit", str(path), "--yes", *common)
            member.window = (before, now_micros())
            assert sent.returncode == 0, sent.stderr
            assert "Removed or redacted before sending" in sent.stdout
            member.receipt = sent.stdout.strip().splitlines()[-1]
        queued = in_process("anon", "status", "--hub", server.url, submitters[0].receipt)
        assert queued.exit_code == 0, queued.output
        assert "Status: queued" in queued.stdout  # nothing is published inside a request
        # The operator's periodic task publishes due batches (every few minutes in a real
        # hub); here the operator runs it once, after every submission has arrived.
        # (--force: this process does not see the server's SHIELDWALL_ANON_BATCH_SIZE=3)
        published_now = in_process("anon", "publish", "--force", "--database", database)
        assert published_now.exit_code == 0, published_now.output
        assert "Published 3 anonymous submissions" in published_now.stdout
        status = in_process("anon", "status", "--hub", server.url, submitters[0].receipt)
        assert status.exit_code == 0, status.output
        assert "Status: published" in status.stdout
        for member in submitters:
            answer = httpx.get(f"{server.url}/api/v1/anon/receipts/{member.receipt}", timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "published", answer.text
            member.published = answer.json()["published"]
        published = {i for m in submitters for i in m.published}
        reveal = in_process(
            "anon", "reveal", sorted(published)[0], "--reason", "x", "--database", database
        )
        made = Scenario(
            server,
            database,
            submitters,
            reader_key,
            operator_key,
            anonymous_identity,
            collection.collection_id,
            published,
            {},
            reveal,
        )
        _collect_outputs(made)
    finally:
        stop_server(server)
    return made


# ======================================================================= the checks


def test_batch_published_and_read_by_a_fourth_member(scenario: Scenario) -> None:
    assert all(m.published for m in scenario.submitters)
    envelope = json.loads(
        scenario.api_outputs[f"reader GET collections/{scenario.collection_id}/objects/"]
    )
    by_id = {o["id"]: o for o in envelope["objects"]}
    assert scenario.published <= set(by_id), "the fourth member does not see the batch"
    manifest = json.loads(
        scenario.api_outputs[f"reader GET collections/{scenario.collection_id}/manifest/"]
    )
    added = {e["date_added"] for e in manifest["objects"] if e["id"] in scenario.published}
    assert len(added) == 1, "the three submissions were not published as one batch"
    for object_id in scenario.published:
        obj = by_id[object_id]
        assert obj["created_by_ref"] == scenario.anonymous_identity
        assert obj.get("object_marking_refs")  # TLP kept
        for name in ("created", "modified", "valid_from", "published"):
            if name in obj:
                assert obj[name].endswith("T00:00:00.000Z"), (name, obj[name])
        assert not [k for k in obj if k.startswith("x_")]
    reports = [by_id[i] for i in scenario.published if i.startswith("report--")]
    assert len(reports) == 3


def test_scrubbed_before_sending_attacker_indicators_kept(scenario: Scenario) -> None:
    envelope = json.loads(
        scenario.api_outputs[f"reader GET collections/{scenario.collection_id}/objects/"]
    )
    published = [o for o in envelope["objects"] if o["id"] in scenario.published]
    text = json.dumps(published).lower()
    reports = [o for o in published if o["type"] == "report"]
    for member in scenario.submitters:
        (report,) = [r for r in reports if member.attacker["malware"] in r["description"]]
        description = report["description"]
        assert REDACTED in description
        for value in member.attacker.values():
            assert value in description, f"attacker indicator {value} lost"
            assert value.lower() in text
        for secret in member.identifying_strings():
            assert secret.lower() not in text, f"{secret} of {member.name} was published"
        patterns = [o["pattern"] for o in published if o["type"] == "indicator"]
        for kind in ("c2", "lookalike", "ip", "sha256"):
            assert any(member.attacker[kind] in p for p in patterns), kind


# -------------------------------------------------------------------- the database


def dump(database: str) -> tuple[MetaData, list[Row]]:
    """Every row of every table, whatever tables exist."""
    metadata, rows = dump_all(database)
    assert {"objects", "organisations", "anonymous_submissions", "spent_tokens"} <= set(
        metadata.tables
    )
    return metadata, rows


def _marks(
    metadata: MetaData,
    row: Row,
    strings: dict[str, set[str]],
    ints: dict[str, tuple[str, str, set[int]]],
) -> set[str]:
    """Which labels of ``strings`` (text found in any cell) and ``ints`` (an integer
    referencing table.column) this row carries."""
    found: set[str] = set()
    table = metadata.tables[row.table]
    cells = [str(v).lower() for v in row.values.values() if isinstance(v, str)]
    for label, needles in strings.items():
        if any(needle.lower() in cell for needle in needles for cell in cells):
            found.add(label)
    for label, (target_table, target_column, values) in ints.items():
        for name, value in row.values.items():
            if (
                isinstance(value, int)
                and value in values
                and references(table.columns[name], target_table, target_column)
            ):
                found.add(label)
    return found


def published_seqs(rows: list[Row], published: set[str]) -> set[int]:
    return {
        r.values["seq"] for r in rows if r.table == "objects" and r.values["stix_id"] in published
    }


def find_links(database: str, scenario: Scenario) -> list[str]:
    """Every row that ties a published object to a submitter, directly or through another
    table. Generic: whatever tables exist, a row "carries" a published object when a text
    cell contains its id or a column referencing ``objects.seq`` holds its seq, and it
    "identifies" a submitter when a text cell contains one of its identifying values or a
    column referencing ``organisations.id`` (by foreign key, or named ``*org_id``) holds its
    id."""
    metadata, rows = dump(database)
    seqs = published_seqs(rows, scenario.published)
    assert len(seqs) >= len(scenario.published)
    submitter_strings = {m.name: set(m.identifying_strings()) for m in scenario.submitters}
    submitter_ints = {m.name: ("organisations", "id", {m.org_id}) for m in scenario.submitters}
    published_strings = {"published": scenario.published}
    published_ints = {"published": ("objects", "seq", seqs)}
    carrying = [r for r in rows if _marks(metadata, r, published_strings, published_ints)]
    identifying = [
        (r, linked)
        for r in rows
        if (linked := _marks(metadata, r, submitter_strings, submitter_ints))
    ]
    assert carrying, "the published objects are not in the database at all"
    assert identifying, "the submitters are not in the database at all"
    problems = [
        f"{row.table} row ties a published object to {linked}: {row.values}"
        for row, linked in identifying
        if row in carrying
    ]
    # Through a second table: an identifier that sits beside a published object (a random
    # id, a receipt digest, ...) and in another table's row that identifies a submitter is
    # a join away from naming it. (Rows of one table share structure, e.g. the audit hash
    # chain, not identity, so only other tables count.)
    for row, linked in identifying:
        mine = set().union(*(tokens(v) for v in row.values.values()))
        for other in carrying:
            if other.table != row.table:
                shared = mine & set().union(*(tokens(v) for v in other.values.values()))
                shared -= scenario.published
                if shared:
                    problems.append(
                        f"{row.table} row of {linked} shares {shared} with a published"
                        f" {other.table} row"
                    )
    return problems


def test_no_row_links_a_published_object_to_its_submitter(scenario: Scenario) -> None:
    problems = find_links(scenario.database, scenario)
    assert problems == [], "\n".join(problems)


def test_the_link_finder_finds_planted_links(scenario: Scenario, tmp_path: Path) -> None:
    """The check above is not vacuous: tables a future change might add are caught."""
    source = scenario.database.removeprefix("sqlite:///")
    copy = tmp_path / "planted.db"
    with sqlite3.connect(source) as original, sqlite3.connect(copy) as planted:
        original.backup(planted)
    alice, bob = scenario.submitters[0], scenario.submitters[1]
    published = sorted(scenario.published)
    with sqlite3.connect(copy) as planted:
        (seq,) = planted.execute(
            "SELECT seq FROM objects WHERE stix_id = ?", (published[1],)
        ).fetchone()
        (submission_id,) = planted.execute("SELECT id FROM anonymous_submissions").fetchone()
        planted.executescript(
            """
            CREATE TABLE moderation_log (submitter_org_id INTEGER, object TEXT);
            CREATE TABLE delivery (object_seq INTEGER REFERENCES objects(seq), note TEXT);
            CREATE TABLE receipt_owner (owner INTEGER REFERENCES organisations(id), ref TEXT);
            """
        )
        planted.execute("INSERT INTO moderation_log VALUES (?, ?)", (alice.org_id, published[0]))
        planted.execute("INSERT INTO delivery VALUES (?, ?)", (seq, f"via key {bob.key_id}"))
        planted.execute("INSERT INTO receipt_owner VALUES (?, ?)", (alice.org_id, submission_id))
    problems = "\n".join(find_links(f"sqlite:///{copy}", scenario))
    assert f"moderation_log row ties a published object to {{'{alice.name}'}}" in problems
    assert f"delivery row ties a published object to {{'{bob.name}'}}" in problems
    assert "receipt_owner row of" in problems and submission_id in problems


def test_no_transport_detail_stored(scenario: Scenario) -> None:
    _, rows = dump(scenario.database)
    for row in rows:
        for value in row.values.values():
            if isinstance(value, str):
                for needle in ("127.0.0.1", "shieldwall-client", "python-httpx"):
                    assert needle not in value, f"{row.table} stores {needle}: {row.values}"


def test_queue_keeps_a_day_and_spent_tokens_no_time(scenario: Scenario) -> None:
    metadata, rows = dump(scenario.database)
    today = {m.window[0] // DAY for m in scenario.submitters} | {
        m.window[1] // DAY for m in scenario.submitters
    }
    queued = [r for r in rows if r.table == "anonymous_submissions"]
    assert len(queued) == 3
    for row in queued:
        assert row.values["day"] in today
        for name, value in row.values.items():
            if isinstance(value, int) and not isinstance(value, bool):
                assert value < 1_000_000, f"anonymous_submissions.{name} = {value} is no day"
            if isinstance(value, str):
                assert not NON_MIDNIGHT.search(value), f"anonymous_submissions.{name}: {value}"
    spent = [r for r in rows if r.table == "spent_tokens"]
    assert len(spent) == 3
    assert not [
        c.name
        for c in metadata.tables["spent_tokens"].columns
        if re.search(r"(^|_)(at|time|date|day|when|created|ts)($|_)", c.name)
    ]
    for row in spent:
        for value in row.values.values():
            if isinstance(value, int):
                assert value < 1_000_000  # an epoch number, never a time


def test_no_precise_time_of_any_submission_is_kept(scenario: Scenario) -> None:
    _, rows = dump(scenario.database)
    for member in scenario.submitters:
        start, end = member.window
        for row in rows:
            for name, value in row.values.items():
                if isinstance(value, int) and start <= value <= end:
                    pytest.fail(
                        f"{row.table}.{name} = {value} falls inside the moment"
                        f" {member.name} submitted"
                    )


# ------------------------------------------------------------------------ the log


def test_server_log_has_no_submission_and_no_address(scenario: Scenario) -> None:
    log = scenario.server.log()
    lines = log.splitlines()
    assert any("/taxii2/" in line for line in lines), "the request log is missing"
    assert not [line for line in lines if "/api/v1/anon/submissions" in line]
    assert not [line for line in lines if "/api/v1/anon/receipts" in line]
    startup = [i for i, line in enumerate(lines) if "Uvicorn running on" in line]
    assert startup, log
    after = lines[startup[-1] + 1 :]
    assert not [line for line in after if "127.0.0.1" in line]
    for needle in ("shieldwall-client", "python-httpx"):
        assert needle not in log
    metrics = scenario.api_outputs["anyone GET /metrics"]
    assert "/api/v1/anon/submissions" not in metrics and "/api/v1/anon/receipts" not in metrics
    for member in scenario.submitters:
        for secret in member.identifying_strings():
            assert secret not in log, f"the server log names {secret}"


# ------------------------------------------------------------------ the API answers


def test_api_answers_carry_nothing_of_the_submitters(scenario: Scenario) -> None:
    assert scenario.api_outputs
    for where, output in scenario.api_outputs.items():
        for item in _published_items(output, scenario.published):
            text = json.dumps(item).lower()
            for member in scenario.submitters:
                for secret in member.identifying_strings():
                    assert secret.lower() not in text, f"{where}: {secret} of {member.name}"
    for where, output in scenario.api_outputs.items():
        for member in scenario.submitters:
            if where.startswith("anyone") or "headers" in where:
                for secret in member.identifying_strings():
                    assert secret.lower() not in output.lower(), f"{where}: {secret}"


def _published_items(output: str, published: set[str]) -> Iterator[Any]:
    """The JSON items of an answer that concern a published object."""
    try:
        document = json.loads(output)
    except ValueError:
        return
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            obj = value.get("object")
            if value.get("id") in published or (
                isinstance(obj, dict) and obj.get("id") in published
            ):
                yield value
            else:
                stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def test_the_operator_cannot_reveal(scenario: Scenario) -> None:
    assert scenario.reveal.exit_code == 3, scenario.reveal.output
    assert "has no sealed submitter" in scenario.reveal.stderr
    for member in scenario.submitters:
        assert member.name not in scenario.reveal.output
