"""Anonymous submission at the service level, on both engines.

Anonymous to members (``submission.submit`` with ``Attribution.ANONYMOUS``): sealed
submitter, audited operator look-ups, a tamper-evident audit trail. Unlinkable
(``services.anonymity``): issuance and its quota, redemption (tampering, double spend,
invalid content), batched publication (k, maximum delay, what is published and what is
not kept), receipts, and epoch rotation.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from voprf import ristretto

from conftest import FixedClock, database_url, make_hub
from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
)
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.domain.tokens import TOKEN_INPUT_BYTES
from shieldwall.services import admin, anonymity, audit, reading, submission
from shieldwall.services.admin import ANONYMOUS_IDENTITY_SETTING
from shieldwall.services.context import Hub, HubConfig
from shieldwall.storage.database import Database

DAY = 86_400_000_000
MIDNIGHT = re.compile(r"^\d{4}-\d\d-\d\dT00:00:00\.000Z$")
TIMESTAMPS = ("created", "modified", "valid_from", "valid_until", "published", "first_seen")


# ================================================================= fixtures, helpers


@pytest.fixture
def make(engine_name: str, tmp_path: Path) -> Iterator[Callable[..., Hub]]:
    """Build a hub on this test's engine with a given ``HubConfig`` (one per test)."""
    made: list[Hub] = []

    def build(**config: Any) -> Hub:
        hub = make_hub(database_url(engine_name, tmp_path), HubConfig(**config))
        made.append(hub)
        return hub

    yield build
    for hub in made:
        assert isinstance(hub.store, Database)
        hub.store.dispose()


@dataclass
class Community:
    alpha: Organisation
    beta: Organisation
    gamma: Organisation
    operator: Organisation


def community(hub: Hub) -> Community:
    return Community(
        admin.add_organisation(hub, "Alpha Bank", "financial", "GB"),
        admin.add_organisation(hub, "Beta Bank", "financial", "GB"),
        admin.add_organisation(hub, "Gamma Law", "legal", "US"),
        admin.add_organisation(hub, "Hub Operator", "other", "GB", "operator"),
    )


def anonymous_identity(hub: Hub) -> str:
    with hub.store.read() as tx:
        value = tx.setting(ANONYMOUS_IDENTITY_SETTING)
    assert value
    return value


def sql(hub: Hub, statement: str, **params: Any) -> list[Any]:
    assert isinstance(hub.store, Database)
    with hub.store.engine.begin() as connection:
        result = connection.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def bundle(author: str | None = None, *, day: str = "2024-03-19") -> list[dict[str, Any]]:
    """A small, realistic submission: two indicators, a malware, relationships, a report,
    the author's identity and a custom property; timestamps in the middle of the day."""
    stamp = f"{day}T14:22:07.481Z"
    ids = {
        kind: f"{kind}--{uuid.uuid4()}"
        for kind in ("indicator", "malware", "relationship", "report", "identity")
    }
    second = f"indicator--{uuid.uuid4()}"
    author_ref = {"created_by_ref": author} if author else {}
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": ids["indicator"],
            "created": stamp,
            "modified": stamp,
            **author_ref,
            "name": "QuillDrop C2",
            "pattern": "[domain-name:value = 'cdn-telemetry-sync.com']",
            "pattern_type": "stix",
            "valid_from": stamp,
            "x_internal_case": "M-2024-0173",
        },
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": second,
            "created": stamp,
            "modified": stamp,
            "pattern": "[ipv4-addr:value = '45.77.120.14']",
            "pattern_type": "stix",
            "valid_from": stamp,
        },
        {
            "type": "malware",
            "spec_version": "2.1",
            "id": ids["malware"],
            "created": stamp,
            "modified": stamp,
            **author_ref,
            "name": "QuillDrop",
            "is_family": True,
            "external_references": [
                {"source_name": "mitre-attack", "external_id": "S9999"},
                {"source_name": "internal", "url": "https://tickets.example/M-2024-0173"},
            ],
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": ids["relationship"],
            "created": stamp,
            "modified": stamp,
            "relationship_type": "indicates",
            "source_ref": ids["indicator"],
            "target_ref": ids["malware"],
        },
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": ids["identity"],
            "created": stamp,
            "modified": stamp,
            "name": "Our SOC",
            "identity_class": "organization",
        },
        {
            "type": "report",
            "spec_version": "2.1",
            "id": ids["report"],
            "created": stamp,
            "modified": stamp,
            **author_ref,
            "name": "QuillDrop intrusion",
            "published": stamp,
            "report_types": ["campaign"],
            "object_refs": [
                ids["indicator"],
                second,
                ids["malware"],
                ids["relationship"],
                ids["identity"],
            ],
        },
    ]


@dataclass(frozen=True)
class Token:
    epoch: int
    input: bytes
    output: bytes


def get_tokens(hub: Hub, member: Organisation, count: int) -> list[Token]:
    """Blind, have the hub evaluate, unblind and verify: what the member's client does."""
    epoch = anonymity.announced_keys(hub)[-1].epoch
    inputs = [secrets.token_bytes(TOKEN_INPUT_BYTES) for _ in range(count)]
    blinds = [ristretto.Client.blind(item) for item in inputs]
    issued = anonymity.issue_tokens(hub, member, epoch, [bytes(b.serialize()) for _, b in blinds])
    outputs = ristretto.Client.finalize_batch(
        [client for client, _ in blinds],
        ristretto.VerifiableBatchOutput.deserialize(issued.evaluation),
        ristretto.PublicKey.deserialize(issued.public_key),
    )
    return [Token(issued.epoch, i, bytes(o)) for i, o in zip(inputs, outputs, strict=True)]


def redeem(
    hub: Hub, token: Token, objects: list[dict[str, Any]], tlp: Tlp = Tlp.GREEN
) -> anonymity.Redeemed:
    return anonymity.redeem(hub, token.epoch, token.input, token.output, objects, tlp, None)  # type: ignore[arg-type]


def visible(hub: Hub, reader: Organisation, ids: set[str]) -> dict[str, dict[str, Any]]:
    page = reading.list_objects(hub, reader, "shared", ObjectQuery(ids=frozenset(ids)))
    return {s.row.stix_id: orjson.loads(s.body) for s in page.items}


def walk(value: object) -> Iterator[tuple[str, object]]:
    """Every (key, value) pair inside a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


# ============================================================ anonymous to members


def test_anonymous_to_members_hides_the_submitter(hub: Hub) -> None:
    people = community(hub)
    alpha = people.alpha
    anonymous = anonymous_identity(hub)
    objects = [o for o in bundle(alpha.identity_id) if o["type"] != "identity"]
    objects[-1]["object_refs"] = objects[-1]["object_refs"][:-1]
    status = submission.submit(
        hub, alpha, "shared", objects, Tlp.GREEN, None, Attribution.ANONYMOUS
    )
    assert (status.success_count, status.failure_count) == (len(objects), 0)
    ids = {o["id"] for o in objects}

    for reader in (alpha, people.beta, people.gamma, people.operator):
        seen = visible(hub, reader, ids)
        assert set(seen) == ids
        text_seen = orjson.dumps(list(seen.values())).decode()
        assert alpha.identity_id not in text_seen and alpha.name not in text_seen
        for obj in seen.values():
            assert obj["created_by_ref"] == anonymous

    # Storage: no submitter on the object rows; the sealed table alone knows.
    rows = published_rows(hub, ids)
    assert len(rows) == len(ids)
    assert {row.submitter_org_id for row in rows} == {None}
    sealed = {
        row.object_seq: row.org_id
        for row in sql(hub, "SELECT object_seq, org_id FROM sealed_submitters")
    }
    assert {sealed[row.seq] for row in rows} == {alpha.id}

    # Others cannot read the status of the request (it would list what alpha sent).
    assert reading.get_status(hub, alpha, status.id).id == status.id
    for other in (people.beta, people.operator):
        with pytest.raises(NotFound):
            reading.get_status(hub, other, status.id)


def test_anonymous_submitter_reads_by_rule_1_and_versions(hub: Hub) -> None:
    people = community(hub)
    objects = [o for o in bundle() if o["type"] == "indicator"]
    red_for_gamma = make_scope(organizations=[people.gamma.identity_id])
    status = submission.submit(
        hub, people.alpha, "shared", objects, Tlp.RED, red_for_gamma, Attribution.ANONYMOUS
    )
    assert status.failure_count == 0
    ids = {o["id"] for o in objects}
    assert set(visible(hub, people.alpha, ids)) == ids  # rule 1: it submitted them
    assert set(visible(hub, people.gamma, ids)) == ids  # named in the RED scope
    assert visible(hub, people.beta, ids) == {}
    assert visible(hub, people.operator, ids) == {}  # RED not naming the operator

    newer = dict(objects[0], modified="2024-03-20T08:00:00.000Z", name="QuillDrop C2 (v2)")
    again = submission.submit(
        hub, people.alpha, "shared", [newer], Tlp.RED, red_for_gamma, Attribution.ANONYMOUS
    )
    assert (again.success_count, again.failure_count) == (1, 0)
    hijack = dict(objects[0], modified="2024-03-21T08:00:00.000Z", name="hijacked")
    refused = submission.submit(
        hub, people.beta, "shared", [hijack], Tlp.RED, red_for_gamma, Attribution.ANONYMOUS
    )
    assert refused.failure_count == 1
    assert (
        "only its submitter may add versions"
        in orjson.loads(refused.details)["failures"][0]["message"]
    )
    latest = visible(hub, people.gamma, {objects[0]["id"]})[objects[0]["id"]]
    assert latest["name"] == "QuillDrop C2 (v2)"


def test_unlinkable_is_not_an_authenticated_attribution(hub: Hub) -> None:
    people = community(hub)
    with pytest.raises(InvalidInput, match="blind token"):
        submission.submit(
            hub, people.alpha, "shared", bundle(), Tlp.GREEN, None, Attribution.UNLINKABLE
        )


def test_reveal_is_for_operators_with_a_reason_and_audited(hub: Hub) -> None:
    people = community(hub)
    objects = [o for o in bundle() if o["type"] == "indicator"]
    submission.submit(hub, people.alpha, "shared", objects, Tlp.GREEN, None, Attribution.ANONYMOUS)
    attributed = [o for o in bundle(people.beta.identity_id) if o["type"] == "malware"]
    submission.submit(hub, people.beta, "shared", attributed, Tlp.GREEN, None)
    target = objects[0]["id"]
    before = len(audit.entries(hub))

    with pytest.raises(Forbidden, match="only operators"):
        anonymity.reveal_submitter(hub, people.beta, target, "curious")
    with pytest.raises(InvalidInput, match="give a reason"):
        anonymity.reveal_submitter(hub, people.operator, target, "   ")
    assert len(audit.entries(hub)) == before  # refused look-ups read nothing

    reason = "takedown request from law enforcement, case 42"
    assert anonymity.reveal_submitter(hub, people.operator, target, reason) == ["Alpha Bank"]
    assert anonymity.reveal_submitter(hub, None, target, "local check") == ["Alpha Bank"]
    with pytest.raises(NotFound, match="no sealed submitter"):
        anonymity.reveal_submitter(hub, people.operator, attributed[0]["id"], "attributed one")

    reads = [e for e in audit.entries(hub) if e.action == "sealed.read"]
    assert [(e.actor, orjson.loads(e.detail)) for e in reads] == [
        ("Hub Operator", {"found": True, "object": target, "reason": reason}),
        ("cli", {"found": True, "object": target, "reason": "local check"}),
        (
            "Hub Operator",
            {"found": False, "object": attributed[0]["id"], "reason": "attributed one"},
        ),
    ]
    assert all("Alpha" not in e.detail for e in reads)  # the answer is not written down
    verification = audit.verify(hub)
    assert verification.problems == []
    assert verification.entries == len(audit.entries(hub))


def test_audit_trail_shows_tampering(hub: Hub) -> None:
    people = community(hub)
    objects = [o for o in bundle() if o["type"] == "indicator"]
    submission.submit(hub, people.alpha, "shared", objects, Tlp.GREEN, None, Attribution.ANONYMOUS)
    anonymity.reveal_submitter(hub, people.operator, objects[0]["id"], "abuse report")
    anonymity.reveal_submitter(hub, people.operator, objects[1]["id"], "abuse report")
    assert audit.verify(hub).problems == []
    first, second = [e for e in audit.entries(hub) if e.action == "sealed.read"]

    # An operator covering its tracks: rewrite the reason of a look-up.
    sql(
        hub,
        "UPDATE audit_log SET detail = :detail WHERE seq = :seq",
        detail=first.detail.replace("abuse report", "routine check"),
        seq=first.seq,
    )
    problems = audit.verify(hub).problems
    assert problems == [f"entry {first.seq}: content does not match its hash"]

    # ... or delete it altogether: the next entry no longer follows its predecessor.
    sql(hub, "DELETE FROM audit_log WHERE seq = :seq", seq=first.seq)
    problems = audit.verify(hub).problems
    assert f"entry {second.seq}: does not follow the entry before it" in problems


# ======================================================================== issuance


def test_keys_are_announced_and_stable(hub: Hub) -> None:
    first = anonymity.announced_keys(hub)
    assert len(first) == 1
    assert first == anonymity.announced_keys(hub)
    assert re.fullmatch(r"[0-9a-f]{64}", first[0].public_key)
    now = hub.clock.now()
    assert first[0].not_before <= now < first[0].not_after


def test_issuance_quota_per_member_per_epoch(make: Callable[..., Hub]) -> None:
    hub = make(anon_tokens_per_epoch=5)
    people = community(hub)
    assert len(get_tokens(hub, people.alpha, 3)) == 3
    with pytest.raises(RateLimited) as refused:
        get_tokens(hub, people.alpha, 3)
    message = refused.value.message
    assert "token quota reached: 3 of 5" in message and "ask for at most 2 now" in message
    assert refused.value.retry_after is not None and refused.value.retry_after > 0
    assert len(get_tokens(hub, people.alpha, 2)) == 2
    with pytest.raises(RateLimited, match="5 of 5"):
        get_tokens(hub, people.alpha, 1)
    assert len(get_tokens(hub, people.beta, 5)) == 5  # the quota is per member
    with pytest.raises(RateLimited):
        get_tokens(hub, people.gamma, 6)  # a first request over the whole quota
    assert len(get_tokens(hub, people.gamma, 5)) == 5
    issued = sql(hub, "SELECT org_id, issued FROM token_issuance")
    assert sorted((row.org_id, row.issued) for row in issued) == sorted(
        [(people.alpha.id, 5), (people.beta.id, 5), (people.gamma.id, 5)]
    )
    # every issuance is audited with the count, never the elements
    issues = [orjson.loads(e.detail) for e in audit.entries(hub) if e.action == "tokens.issue"]
    assert [d["count"] for d in issues] == [3, 2, 5, 5]


def test_issuance_wrong_epoch_and_malformed_elements(hub: Hub) -> None:
    people = community(hub)
    epoch = anonymity.announced_keys(hub)[-1].epoch
    element = bytes(ristretto.Client.blind(b"token")[1].serialize())
    for wrong in (epoch - 1, epoch + 1):
        with pytest.raises(InvalidInput, match=f"current epoch {epoch}, not {wrong}"):
            anonymity.issue_tokens(hub, people.alpha, wrong, [element])
    with pytest.raises(InvalidInput, match="not a valid ristretto255 element"):
        anonymity.issue_tokens(hub, people.alpha, epoch, [element, b"\xff" * 32])
    with pytest.raises(InvalidInput, match="1 to 100"):
        anonymity.issue_tokens(hub, people.alpha, epoch, [])
    # nothing was counted for the refused requests
    issued = anonymity.issue_tokens(hub, people.alpha, epoch, [element])
    assert issued.remaining == hub.config.anon_tokens_per_epoch - 1


# ====================================================================== redemption


def test_redeem_valid_token_is_queued(hub: Hub) -> None:
    people = community(hub)
    (token,) = get_tokens(hub, people.alpha, 1)
    objects = bundle(people.alpha.identity_id)
    redeemed = redeem(hub, token, objects)
    assert redeemed.objects == len(objects) - 1  # the identity is not published
    removed = "\n".join(redeemed.removed)
    assert "identity objects are not published anonymously" in removed
    assert "property x_internal_case removed" in removed
    assert "property created_by_ref removed" in removed
    assert anonymity.receipt_status(hub, redeemed.receipt) == anonymity.ReceiptStatus(
        "queued", [], {}
    )
    with pytest.raises(NotFound):
        anonymity.receipt_status(hub, redeemed.receipt + "x")
    (row,) = sql(hub, "SELECT * FROM anonymous_submissions")
    assert row.status == "queued"
    assert row.day == hub.clock.now() // DAY
    assert redeemed.receipt not in row.receipt_hash  # only a digest of the receipt is kept
    payload = row.payload
    assert people.alpha.identity_id not in payload and "x_internal_case" not in payload
    (spent,) = sql(hub, "SELECT * FROM spent_tokens")
    assert token.input.hex() not in spent.token_hash and spent.epoch == token.epoch


@pytest.mark.parametrize("part", ["input", "authenticator", "epoch"])
def test_tampered_token_is_forbidden(hub: Hub, part: str) -> None:
    people = community(hub)
    (token,) = get_tokens(hub, people.alpha, 1)
    flipped = {
        "input": Token(token.epoch, bytes([token.input[0] ^ 1]) + token.input[1:], token.output),
        "authenticator": Token(token.epoch, token.input, token.output[:-1] + b"\x00"),
        "epoch": Token(token.epoch - 1, token.input, token.output),
    }[part]
    with pytest.raises(Forbidden, match="the token is not valid: it was not issued by this hub"):
        redeem(hub, flipped, bundle())
    assert sql(hub, "SELECT * FROM spent_tokens") == []
    assert redeem(hub, token, bundle()).objects > 0  # the genuine token still works


def test_double_spend_is_a_conflict(hub: Hub) -> None:
    people = community(hub)
    (token,) = get_tokens(hub, people.alpha, 1)
    redeem(hub, token, bundle())
    with pytest.raises(Conflict, match="already been spent"):
        redeem(hub, token, bundle())
    assert len(sql(hub, "SELECT * FROM anonymous_submissions")) == 1


def test_concurrent_double_spend_in_one_process(hub: Hub) -> None:
    people = community(hub)
    (token,) = get_tokens(hub, people.alpha, 1)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def spend() -> None:
        barrier.wait()
        try:
            redeem(hub, token, bundle())
            outcomes.append("queued")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "queued"]
    assert len(sql(hub, "SELECT * FROM anonymous_submissions")) == 1


def test_invalid_content_does_not_spend_the_token(hub: Hub) -> None:
    people = community(hub)
    (token,) = get_tokens(hub, people.alpha, 1)
    broken = bundle()
    del broken[0]["pattern"]
    with pytest.raises(InvalidInput, match=broken[0]["id"]):
        redeem(hub, token, broken)
    with pytest.raises(InvalidInput, match="holds no objects"):
        redeem(hub, token, [])
    only_identity = [o for o in bundle() if o["type"] == "identity"]
    with pytest.raises(InvalidInput, match="nothing is left to publish"):
        redeem(hub, token, only_identity)
    assert sql(hub, "SELECT * FROM spent_tokens") == []
    assert redeem(hub, token, bundle()).objects > 0


# ===================================================================== publication


def published_rows(hub: Hub, ids: set[str]) -> list[Any]:
    return [row for row in sql(hub, "SELECT * FROM objects") if row.stix_id in ids]


def test_batch_publication(make: Callable[..., Hub]) -> None:
    hub = make(anon_batch_size=3)
    people = community(hub)
    anonymous = anonymous_identity(hub)
    submitters = [people.alpha, people.beta, people.gamma]
    tokens = {org.id: get_tokens(hub, org, 1)[0] for org in submitters}
    submitted = {org.id: bundle(org.identity_id) for org in submitters}
    receipts = {}
    for org in submitters[:2]:
        receipts[org.id] = redeem(hub, tokens[org.id], submitted[org.id]).receipt
    # below k: nothing is published
    assert anonymity.publish_ready(hub) == 0
    assert all(anonymity.receipt_status(hub, r).status == "queued" for r in receipts.values())
    submitted_ids = {o["id"] for objects in submitted.values() for o in objects}
    assert published_rows(hub, submitted_ids) == []

    receipts[people.gamma.id] = redeem(
        hub, tokens[people.gamma.id], submitted[people.gamma.id]
    ).receipt
    assert anonymity.publish_ready(hub) == 3
    assert anonymity.publish_ready(hub) == 0  # nothing left waiting

    all_published: set[str] = set()
    for org in submitters:
        status = anonymity.receipt_status(hub, receipts[org.id])
        assert status.status == "published" and status.failed == {}
        published = set(status.published)
        assert len(published) == len(submitted[org.id]) - 1  # without the identity
        assert published.isdisjoint(submitted_ids)  # re-minted ids
        all_published |= published
        objects = visible(hub, people.operator, published)
        assert set(objects) == published
        # ids re-minted consistently: the relationship and the report point at the new ids
        (relationship,) = [o for o in objects.values() if o["type"] == "relationship"]
        (indicator,) = [
            o for o in objects.values() if o["type"] == "indicator" and "domain" in o["pattern"]
        ]
        (malware,) = [o for o in objects.values() if o["type"] == "malware"]
        (report,) = [o for o in objects.values() if o["type"] == "report"]
        assert relationship["source_ref"] == indicator["id"]
        assert relationship["target_ref"] == malware["id"]
        assert set(report["object_refs"]) == published - {report["id"]}
        for obj in objects.values():
            assert obj["created_by_ref"] == anonymous
            for name in TIMESTAMPS:
                if name in obj:
                    assert MIDNIGHT.match(obj[name]), (name, obj[name])
            for key, value in walk(obj):
                assert not key.startswith("x_"), key
                if key == "external_references":
                    assert value == [{"source_name": "mitre-attack", "external_id": "S9999"}]
            body = orjson.dumps(obj).decode()
            assert org.identity_id not in body and org.name not in body
            assert "M-2024-0173" not in body and "Our SOC" not in body

    # One batch: one date_added; no submitter anywhere on or beside the rows.
    rows = published_rows(hub, all_published)
    assert len(rows) == len(all_published)
    assert len({row.date_added for row in rows}) == 1
    assert {row.submitter_org_id for row in rows} == {None}
    seqs = {row.seq for row in rows}
    assert not seqs & {row.object_seq for row in sql(hub, "SELECT * FROM sealed_submitters")}
    assert not [row for row in sql(hub, "SELECT * FROM statuses") if row.org_id is None]
    for row in sql(hub, "SELECT * FROM anonymous_submissions"):
        assert row.status == "published" and row.payload is None
    # the batch is shuffled across submissions: rows are not grouped by submitter
    order = [row.stix_id for row in sorted(rows, key=lambda r: r.seq)]
    owner = {
        object_id: org_id
        for org_id, receipt in receipts.items()
        for object_id in anonymity.receipt_status(hub, receipt).published
    }
    runs = sum(1 for a, b in pairwise(order) if owner[a] != owner[b])
    assert runs > 2, "the batch was published in submission order"


def test_lone_submission_waits_at_most_the_maximum_delay(make: Callable[..., Hub]) -> None:
    hub = make(anon_batch_size=5, anon_max_delay_days=1)
    people = community(hub)
    (token,) = get_tokens(hub, people.alpha, 1)
    receipt = redeem(hub, token, bundle()).receipt
    assert anonymity.publish_ready(hub) == 0
    assert isinstance(hub.clock, FixedClock)
    hub.clock.value += DAY
    assert anonymity.publish_ready(hub) == 1
    status = anonymity.receipt_status(hub, receipt)
    assert status.status == "published" and len(status.published) == 5


def test_forced_publication(make: Callable[..., Hub]) -> None:
    hub = make(anon_batch_size=5)
    people = community(hub)
    (token,) = get_tokens(hub, people.alpha, 1)
    redeem(hub, token, bundle())
    assert anonymity.publish_ready(hub) == 0
    assert anonymity.publish_ready(hub, force=True) == 1


def test_epoch_rotation(make: Callable[..., Hub]) -> None:
    hub = make(anon_epoch_days=7)
    people = community(hub)
    assert isinstance(hub.clock, FixedClock)
    first_epoch = anonymity.announced_keys(hub)[-1]
    old = get_tokens(hub, people.alpha, 2)

    hub.clock.value = first_epoch.not_after + 1000  # into the next epoch
    keys = anonymity.announced_keys(hub)
    assert [k.epoch for k in keys] == [first_epoch.epoch, first_epoch.epoch + 1]
    assert keys[0] == first_epoch and keys[1].public_key != first_epoch.public_key
    with pytest.raises(InvalidInput, match="current epoch"):
        anonymity.issue_tokens(
            hub,
            people.alpha,
            first_epoch.epoch,
            [bytes(ristretto.Client.blind(b"x")[1].serialize())],
        )
    new = get_tokens(hub, people.alpha, 2)  # a fresh quota in the new epoch
    assert {t.epoch for t in new} == {first_epoch.epoch + 1}
    redeem(hub, old[0], bundle())  # previous epoch: still accepted

    hub.clock.value = keys[1].not_after + 1000  # two epochs later
    assert [k.epoch for k in anonymity.announced_keys(hub)] == [
        first_epoch.epoch + 1,
        first_epoch.epoch + 2,
    ]
    with pytest.raises(Forbidden, match=f"tokens of epoch {first_epoch.epoch} are no longer"):
        redeem(hub, old[1], bundle())
    redeem(hub, new[0], bundle())
