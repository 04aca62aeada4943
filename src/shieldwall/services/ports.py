"""The protocols services use to reach the outside world (storage, clock, randomness).

``storage/`` implements ``UnitOfWork``; ``bootstrap.py`` wires a real clock and id factory;
tests pass fixed ones. Records here are plain frozen values: no ORM objects cross this line.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from shieldwall.domain.organisations import Organisation, Role, Sector
from shieldwall.domain.policy import ReaderFilter
from shieldwall.domain.queries import ObjectQuery


class Clock(Protocol):
    """Wall-clock time."""

    def now(self) -> int:
        """Microseconds since the Unix epoch."""
        ...


class IdFactory(Protocol):
    """Sources of fresh identifiers and secrets."""

    def uuid4(self) -> str:
        """A random RFC 4122 version-4 UUID in canonical text form."""
        ...

    def secret(self, nbytes: int) -> str:
        """A URL-safe random string carrying ``nbytes`` bytes of entropy."""
        ...

    def random_bytes(self, nbytes: int) -> bytes:
        """``nbytes`` bytes from a cryptographically secure source."""
        ...


@dataclass(frozen=True, slots=True)
class CollectionRecord:
    """A TAXII collection as stored."""

    pk: int
    collection_id: str
    title: str
    description: str
    alias: str | None
    members_can_read: bool
    members_can_write: bool


@dataclass(frozen=True, slots=True)
class ObjectRow:
    """One stored object version, with the envelope columns."""

    seq: int
    stix_id: str
    stix_type: str
    spec_version: str
    version: int
    date_added: int
    tlp: int
    submitter_org_id: int | None
    body: str
    refs: str | None


@dataclass(frozen=True, slots=True)
class NewObject:
    """An object version ready to store; ``audience`` from ``policy.audience_keys``.

    For a submission anonymous to members, ``submitter_org_id`` is ``None`` and the
    submitter goes to the sealed table as ``sealed_org_id``."""

    stix_id: str
    stix_type: str
    spec_version: str
    version: int
    tlp: int
    audience: frozenset[str]
    submitter_org_id: int | None
    body: str
    refs: str | None
    sealed_org_id: int | None = None


@dataclass(frozen=True, slots=True)
class ExistingVersion:
    """A version already stored for an id (for duplicate and ownership checks).

    ``submitter_org_id`` is the submitter on record, including a sealed (anonymous to
    members) one; ``None`` for unlinkable submissions and hub objects."""

    version: int
    submitter_org_id: int | None
    date_added: int


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An API key as stored: only the hash of its secret."""

    key_id: str
    organisation: Organisation
    secret_hash: str
    revoked: bool


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What may be listed about an API key (never its secret or hash)."""

    key_id: str
    organisation: str
    label: str
    created_at: int
    revoked_at: int | None
    last_used_at: int | None


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A sharing group and its members' names."""

    name: str
    owner: str | None
    description: str
    members: tuple[str, ...]
    disbanded: bool = False


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A TAXII status resource as stored; ``details`` holds successes/failures/pendings."""

    id: str
    org_id: int | None
    collection_pk: int
    request_timestamp: int
    total_count: int
    success_count: int
    failure_count: int
    pending_count: int
    details: str


@dataclass(frozen=True, slots=True)
class TokenEpoch:
    """A VOPRF key epoch: ``seed`` is secret key material (hex), ``public_key`` hex."""

    epoch: int
    seed: str
    public_key: str
    not_before: int
    not_after: int


@dataclass(frozen=True, slots=True)
class AnonymousSubmission:
    """An unlinkable submission: queued (``payload`` = sanitised JSON), then published or
    rejected (``result`` = JSON). ``day`` is days since the Unix epoch, nothing finer."""

    id: str
    receipt_hash: str
    day: int
    collection_pk: int
    status: str
    payload: str | None
    result: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One entry of the hash-chained audit trail (``seq`` is 0 before it is stored)."""

    seq: int
    at: int
    actor: str
    action: str
    detail: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class DraftRecord:
    """A report draft: the source text and the analyst's review choices (JSON)."""

    id: str
    org_id: int
    name: str
    format: str
    source: str
    review: str
    status: str
    created_at: int
    updated_at: int
    published_status_id: str | None


class ReadTx(Protocol):
    """Reads inside one consistent transaction."""

    def setting(self, name: str) -> str | None: ...
    def organisation(self, org_id: int) -> Organisation | None: ...
    def organisation_by_name(self, name: str) -> Organisation | None: ...
    def organisations_by_identity(self, identity_ids: Iterable[str]) -> list[Organisation]: ...
    def organisations(self) -> list[Organisation]: ...
    def key(self, key_id: str) -> KeyRecord | None: ...
    def keys(self, org_id: int | None) -> list[KeyInfo]: ...
    def groups(self) -> list[GroupRecord]: ...
    def group(self, name: str) -> GroupRecord | None: ...
    def existing_group_names(self, names: Iterable[str]) -> set[str]: ...
    def assets(self, org_id: int) -> list[tuple[str, str]]: ...
    def collections(self) -> list[CollectionRecord]: ...
    def collection(self, collection_id: str) -> CollectionRecord | None: ...

    def find_objects(
        self, collection_pk: int, query: ObjectQuery, view: ReaderFilter, limit: int
    ) -> list[ObjectRow]:
        """Object versions matching ``query`` that ``view`` admits, in (date_added, seq)
        order, strictly after ``query.cursor``; at most ``limit`` rows. Version filters
        (first/last) are evaluated over the versions ``view`` admits only."""
        ...

    def hidden_ids(self, ids: Iterable[str], view: ReaderFilter) -> set[str]:
        """Those of ``ids`` that the hub stores but of which ``view`` admits no version."""
        ...

    def status(self, status_id: str) -> StatusRecord | None: ...
    def token_epochs(self, epochs: Iterable[int]) -> list[TokenEpoch]: ...
    def tokens_issued(self, org_id: int, epoch: int) -> int: ...
    def submission_by_receipt(self, receipt_hash: str) -> AnonymousSubmission | None: ...

    def queued_submissions(self, lock: bool) -> list[AnonymousSubmission]:
        """Queued unlinkable submissions (``lock``: hold them until commit, PostgreSQL)."""
        ...

    def audit_entries(self) -> list[AuditEntry]: ...
    def draft(self, draft_id: str) -> DraftRecord | None: ...
    def drafts(self, org_id: int) -> list[DraftRecord]: ...


class WriteTx(ReadTx, Protocol):
    """Reads and writes inside one transaction; committed when the block ends cleanly."""

    def set_setting(self, name: str, value: str) -> None: ...
    def add_organisation(
        self, name: str, identity_id: str, sector: Sector, country: str, role: Role, now: int
    ) -> Organisation: ...
    def add_group(
        self, name: str, owner_org_id: int | None, description: str, now: int
    ) -> None: ...
    def delete_group(self, name: str, now: int) -> None: ...
    def add_group_member(self, group: str, org_id: int) -> None: ...
    def remove_group_member(self, group: str, org_id: int) -> None: ...
    def add_asset(self, org_id: int, kind: str, value: str) -> None: ...
    def add_key(self, key_id: str, org_id: int, secret_hash: str, label: str, now: int) -> None: ...
    def revoke_key(self, key_id: str, now: int) -> bool: ...
    def touch_key(self, key_id: str, now: int) -> None: ...
    def add_collection(
        self,
        collection_id: str,
        title: str,
        description: str,
        alias: str | None,
        members_can_read: bool,
        members_can_write: bool,
    ) -> CollectionRecord: ...

    def lock_named(self, name: str) -> None:
        """Serialise transactions taking the same named lock (e.g. first start-up)."""
        ...

    def lock_collection(self, collection_pk: int) -> int:
        """Lock the collection against concurrent adds until commit; return its
        ``last_date_added``."""
        ...

    def set_last_date_added(self, collection_pk: int, date_added: int) -> None: ...
    def existing_versions(
        self, collection_pk: int, stix_ids: Iterable[str]
    ) -> dict[str, list[ExistingVersion]]: ...
    def insert_objects(
        self, collection_pk: int, date_added: int, rows: list[NewObject]
    ) -> None: ...
    def delete_objects(self, seqs: list[int]) -> None: ...
    def insert_status(self, record: StatusRecord) -> None: ...
    def sealed_submitter(self, collection_pk: int, stix_id: str) -> list[int]: ...
    def add_token_epoch(self, epoch: TokenEpoch) -> None: ...

    def add_tokens_issued(self, org_id: int, epoch: int, count: int, quota: int) -> bool:
        """Count ``count`` more tokens for the member in ``epoch`` if that stays within
        ``quota``; return whether it did (atomically)."""
        ...

    def add_lookup_usage(self, org_id: int, day: int, count: int, limit: int) -> bool:
        """Count ``count`` more privately looked-up items for the member on ``day`` unless
        that would exceed ``limit``; False (and nothing counted) when it would."""
        ...

    def spend_token(self, token_hash: str, epoch: int) -> None:
        """Record a token as spent; raise ``Conflict`` if it already was (any process)."""
        ...

    def add_anonymous_submission(self, submission: AnonymousSubmission) -> None: ...

    def finish_submission(self, submission_id: str, status: str, result: str) -> None: ...

    def audit_head(self) -> str:
        """The hash of the last audit entry (all zeros when empty), holding the chain
        against concurrent appends until commit."""
        ...

    def append_audit(self, entry: AuditEntry) -> None: ...
    def save_draft(self, draft: DraftRecord) -> None: ...
    def delete_draft(self, draft_id: str) -> None: ...


class UnitOfWork(Protocol):
    """Opens transactions on the store."""

    def read(self) -> AbstractContextManager[ReadTx]: ...
    def write(self) -> AbstractContextManager[WriteTx]: ...
