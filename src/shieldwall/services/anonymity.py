"""Anonymous submission (architecture.md §4).

*Anonymous to members* is an attribution mode of ordinary submission (services/ingest.py):
the submitter goes to the sealed table, readable here by operators only, every read
audited.

*Unlinkable* submission uses one-time blind tokens (domain/tokens.py):

1. ``announced_keys``: the epoch public keys, published at a stable URL for clients to pin.
2. ``issue_tokens``: an authenticated member's blinded elements are evaluated with the
   current epoch key; the per-member count per epoch is the quota. The hub learns how many
   tokens a member holds, never which.
3. ``redeem``: a request with no account presents a token and a bundle. The token is checked
   and recorded as spent (a primary key: a double spend fails in every process), the bundle
   is validated and sanitised (domain/anonymise.py) and queued with only the day.
4. ``publish_ready``: once ``anon_batch_size`` submissions wait, or the oldest has waited
   ``anon_max_delay_days``, the batch is shuffled and published in one transaction as the
   "Anonymous member", with no submitter on record.

Nothing here records a client address, user agent, key or precise time for steps 3 and 4.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from shieldwall.domain.anonymise import sanitise
from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import (
    Forbidden,
    InvalidInput,
    InvalidStix,
    NotFound,
    RateLimited,
)
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.scope import SCOPE_EXTENSION_ID, Scope
from shieldwall.domain.sightings import SIGHTING_EXTENSION_ID
from shieldwall.domain.stix_validation import validate_object
from shieldwall.domain.tlp import Tlp
from shieldwall.domain.tokens import (
    evaluate_blinded,
    public_key,
    spent_key,
    verify_token,
)
from shieldwall.services import audit, ingest
from shieldwall.services.admin import ANONYMOUS_IDENTITY_SETTING, DEFAULT_COLLECTION_ALIAS
from shieldwall.services.context import Hub
from shieldwall.services.ports import AnonymousSubmission, TokenEpoch, WriteTx
from shieldwall.services.submission import apply_marking

DAY = 86_400_000_000


def _epoch_length(hub: Hub) -> int:
    return hub.config.anon_epoch_days * DAY


def current_epoch(hub: Hub, now: int) -> int:
    """The epoch number at ``now`` (epochs are ``anon_epoch_days`` long, from the Unix epoch)."""
    return now // _epoch_length(hub)


def _ensure_epoch(tx: WriteTx, hub: Hub, epoch: int) -> TokenEpoch:
    found = tx.token_epochs([epoch])
    if found:
        return found[0]
    seed = hub.ids.random_bytes(32)
    length = _epoch_length(hub)
    record = TokenEpoch(
        epoch, seed.hex(), public_key(seed, epoch).hex(), epoch * length, (epoch + 1) * length
    )
    tx.add_token_epoch(record)
    return tx.token_epochs([epoch])[0]  # another process may have won the race


def announced_keys(hub: Hub) -> list[TokenEpoch]:
    """The keys clients may pin: the current epoch's and the previous one's (tokens stay
    redeemable for one epoch after their own, so none are lost at rotation). Creates the
    current epoch's key on first use."""
    epoch = current_epoch(hub, hub.clock.now())
    with hub.store.write() as tx:
        _ensure_epoch(tx, hub, epoch)
        return tx.token_epochs([epoch - 1, epoch])


@dataclass(frozen=True, slots=True)
class Issued:
    """An issuance answer: the epoch, its public key and the verifiable batch output."""

    epoch: int
    public_key: bytes
    evaluation: bytes
    remaining: int


def issue_tokens(hub: Hub, member: Organisation, epoch: int, blinded: list[bytes]) -> Issued:
    """Evaluate ``blinded`` elements with the current epoch key for an authenticated member.

    Raises ``InvalidInput`` when ``epoch`` is not the current one (the client pinned an old
    key: refresh the announcement) or an element is malformed, and ``RateLimited`` when the
    member's quota for the epoch would be exceeded.
    """
    now = hub.clock.now()
    current = current_epoch(hub, now)
    if epoch != current:
        raise InvalidInput(f"tokens are issued for the current epoch {current}, not {epoch}")
    quota = hub.config.anon_tokens_per_epoch
    with hub.store.write() as tx:
        record = _ensure_epoch(tx, hub, current)
        if not tx.add_tokens_issued(member.id, current, len(blinded), quota):
            used = tx.tokens_issued(member.id, current)
            raise RateLimited(
                f"token quota reached: {used} of {quota} tokens issued to your organisation"
                f" in epoch {current}; ask for at most {max(quota - used, 0)} now",
                retry_after=max(1, (record.not_after - now) // 1_000_000),
            )
        evaluation = evaluate_blinded(bytes.fromhex(record.seed), current, blinded)
        audit.record(
            tx, now, member.name, "tokens.issue", {"epoch": current, "count": len(blinded)}
        )
        remaining = quota - tx.tokens_issued(member.id, current)
    return Issued(current, bytes.fromhex(record.public_key), evaluation, remaining)


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What the anonymous submitter gets back: a receipt and what sanitising removed."""

    receipt: str
    removed: list[str]
    objects: int


def redeem(
    hub: Hub,
    epoch: int,
    token_input: bytes,
    authenticator: bytes,
    items: list[object],
    tlp: Tlp,
    scope: Scope | None,
) -> Redeemed:
    """Accept an unlinkable submission paid for with a token (see the module docstring).

    Raises ``Forbidden`` for a token that is not valid (tampered, unknown or expired epoch),
    ``Conflict`` for a token already spent, ``InvalidInput``/``InvalidStix`` for content that
    is not valid STIX (the token is then not spent).
    """
    now = hub.clock.now()
    current = current_epoch(hub, now)
    if epoch not in (current, current - 1):
        raise Forbidden(f"tokens of epoch {epoch} are no longer accepted (current: {current})")
    with hub.store.read() as tx:
        epochs = tx.token_epochs([epoch])
        anonymous_identity = tx.setting(ANONYMOUS_IDENTITY_SETTING) or ""
        collection = tx.collection(DEFAULT_COLLECTION_ALIAS)
        groups = tx.existing_group_names(scope.groups if scope else ())
        known = {
            o.identity_id
            for o in tx.organisations_by_identity(scope.organizations if scope else ())
        }
    if not epochs or not verify_token(
        bytes.fromhex(epochs[0].seed), epoch, token_input, authenticator
    ):
        raise Forbidden("the token is not valid: it was not issued by this hub for that epoch")
    assert collection is not None
    if not items:
        raise InvalidInput("the submission holds no objects")
    if len(items) > hub.config.max_objects_per_request:
        raise InvalidInput(f"at most {hub.config.max_objects_per_request} objects per submission")
    objects: list[dict[str, object]] = []
    for item in items:
        validate_object(item)  # raises InvalidStix naming the object and the problem
        assert isinstance(item, dict)
        objects.append(item)
    if scope is not None:
        if scope.groups - groups:
            raise InvalidInput(
                f"scope names unknown groups: {', '.join(sorted(scope.groups - groups))}"
            )
        if scope.organizations - known:
            raise InvalidInput("scope names organisations this hub does not know")
    marked = [obj for obj in apply_marking(list(objects), tlp, scope) if isinstance(obj, dict)]
    fresh = iter([hub.ids.uuid4() for _ in range(len(marked))])
    cleaned = sanitise(
        marked, anonymous_identity, fresh, frozenset({SCOPE_EXTENSION_ID, SIGHTING_EXTENSION_ID})
    )
    if not cleaned.objects:
        raise InvalidInput("nothing is left to publish once identifying objects are removed")
    for obj in cleaned.objects:  # sanitising must keep valid STIX; check before spending
        try:
            validate_object(obj)
        except InvalidStix as exc:
            raise InvalidInput(f"after anonymising, an object is not valid: {exc.message}") from exc
    receipt = "rcpt_" + hub.ids.secret(32)  # the prefix keeps a leading "-" off the command line
    with hub.store.write() as tx:
        tx.spend_token(spent_key(epoch, token_input), epoch)
        tx.add_anonymous_submission(
            AnonymousSubmission(
                id=hub.ids.uuid4(),
                receipt_hash=hashlib.sha256(receipt.encode()).hexdigest(),
                day=now // DAY,
                collection_pk=collection.pk,
                status="queued",
                payload=orjson.dumps(cleaned.objects).decode(),
                result=None,
            )
        )
    return Redeemed(receipt, cleaned.removed, len(cleaned.objects))


def publish_ready(hub: Hub, *, force: bool = False) -> int:
    """Publish the waiting submissions as one shuffled batch when enough wait (or the
    oldest waited long enough, or ``force``); return how many were published.

    Safe to run in several processes at once: publication is idempotent (same ids and
    versions), so a race publishes nothing twice.
    """
    now = hub.clock.now()
    with hub.store.read() as tx:
        queued = tx.queued_submissions(lock=False)
    if not queued:
        return 0
    oldest = min(s.day for s in queued)
    due = oldest + hub.config.anon_max_delay_days <= now // DAY
    if not (force or due or len(queued) >= hub.config.anon_batch_size):
        return 0
    with hub.store.read() as tx:
        collection_ids = {record.pk: record.collection_id for record in tx.collections()}
    for collection_pk in sorted({s.collection_pk for s in queued}):
        batch = [s for s in queued if s.collection_pk == collection_pk]
        payloads = {s.id: orjson.loads(s.payload or "[]") for s in batch}
        shuffled = sorted(
            ((hub.ids.uuid4(), obj) for objects in payloads.values() for obj in objects),
            key=lambda pair: pair[0],
        )  # sorting on fresh random ids: a random permutation across submissions
        status = ingest.add_objects(
            hub,
            None,
            collection_ids[collection_pk],
            [obj for _, obj in shuffled],
            Attribution.UNLINKABLE,
        )
        failed = {f["id"]: f.get("message", "") for f in orjson.loads(status.details)["failures"]}
        with hub.store.write() as tx:
            for submission in batch:
                ids = [str(obj["id"]) for obj in payloads[submission.id]]
                problems = {i: failed[i] for i in ids if i in failed}
                result = {"published": [i for i in ids if i not in problems], "failed": problems}
                tx.finish_submission(submission.id, "published", orjson.dumps(result).decode())
    return len(queued)


@dataclass(frozen=True, slots=True)
class ReceiptStatus:
    """What a receipt tells its holder."""

    status: str
    published: list[str]
    failed: dict[str, str]


def receipt_status(hub: Hub, receipt: str) -> ReceiptStatus:
    """The status of the submission a receipt was given for; ``NotFound`` if unknown."""
    with hub.store.read() as tx:
        found = tx.submission_by_receipt(hashlib.sha256(receipt.encode()).hexdigest())
    if found is None:
        raise NotFound("no submission for this receipt")
    if found.status == "queued":
        return ReceiptStatus("queued", [], {})
    result = orjson.loads(found.result or "{}")
    return ReceiptStatus(
        found.status, list(result.get("published", [])), dict(result.get("failed", {}))
    )


def reveal_submitter(
    hub: Hub, operator: Organisation | None, object_id: str, reason: str
) -> list[str]:
    """Who submitted an object anonymously to members: operators only, always audited.

    ``operator`` is ``None`` for the local command line. Raises ``Forbidden`` for anyone
    else and ``NotFound`` when the object has no sealed submitter (not anonymous, or
    unlinkable: nobody knows that one).
    """
    if operator is not None and operator.role is not Role.OPERATOR:
        raise Forbidden("only operators may read the sealed submitter table")
    if not reason.strip():
        raise InvalidInput("give a reason: sealed reads are audited")
    actor = operator.name if operator is not None else "cli"
    with hub.store.write() as tx:
        collection = tx.collection(DEFAULT_COLLECTION_ALIAS)
        assert collection is not None
        org_ids = tx.sealed_submitter(collection.pk, object_id)
        names = [o.name for o in (tx.organisation(i) for i in org_ids) if o is not None]
        audit.record(
            tx,
            hub.clock.now(),
            actor,
            "sealed.read",
            {"object": object_id, "reason": reason.strip()[:500], "found": bool(names)},
        )
    if not names:
        raise NotFound(f"{object_id} has no sealed submitter")
    return names
