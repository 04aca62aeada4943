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
    submitter goes to the sealed table as ``sealed_org_id``. ``refs`` (space-separated ids)
    and ``observables`` are indexed beside the row."""

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
    # observable index keys (domain.observables.keys_of)
    observables: frozenset[tuple[str, str]] = frozenset()
    warned: bool = False  # names a warning-listed value (services.assessment)


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


# alerts


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A government alert: ``stix_id`` is its report's id (its content lives in
    ``objects``, read through the policy). ``victim_org_id`` is set for notifications and
    is the sender's knowledge only. ``state``: ``sending`` while its objects are being
    stored, ``published`` once deliveries are queued."""

    stix_id: str
    kind: str
    sender_org_id: int
    victim_org_id: int | None
    tlp: int
    state: str
    created_at: int


@dataclass(frozen=True, slots=True)
class AckRecord:
    """An organisation's acknowledgement of an alert; ``named``: it agrees to be named to
    the sender."""

    stix_id: str
    org_id: int
    at: int
    named: bool


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """A delivery channel of an organisation: ``kind`` ``webhook`` (``target`` a URL,
    ``secret`` the HMAC key, stored as is because it signs) or ``email`` (an address)."""

    id: str
    org_id: int
    kind: str
    target: str
    secret: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One alert to one organisation over one channel. ``status``: ``pending`` (due at
    ``next_attempt_at``), ``sending`` (leased to a worker until ``next_attempt_at``),
    ``delivered``, ``failed`` (attempts exhausted) or ``skipped`` (nothing to send)."""

    id: str
    alert_id: str
    org_id: int
    channel_id: str | None
    kind: str
    target: str
    status: str
    attempts: int
    next_attempt_at: int
    last_error: str | None
    delivered_at: int | None
    created_at: int


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One attempt of a delivery: when, whether it succeeded, and what happened."""

    delivery_id: str
    attempt: int
    at: int
    ok: bool
    detail: str


# attestations


@dataclass(frozen=True, slots=True)
class TemplateRecord:
    """An attestation questionnaire version (immutable once stored). ``questions`` is the
    JSON list ``domain.attestations.parse_questions`` accepts; ``created_by`` is None for
    the hub's default."""

    name: str
    version: int
    title: str
    questions: str
    created_by: int | None
    created_at: int


@dataclass(frozen=True, slots=True)
class AttestationRecord:
    """One version of a firm's attestation against a template version. ``version`` is
    numbered per firm and template name at publication (None while a draft); ``answers``
    is JSON; ``valid_from``/``valid_until`` are microseconds (0 while unset)."""

    id: str
    firm_org_id: int
    template_name: str
    template_version: int
    version: int | None
    status: str
    answers: str
    valid_from: int
    valid_until: int
    signer_name: str
    signer_title: str
    created_at: int
    published_at: int | None


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """An evidence file's description; its bytes are read with ``evidence_content``.
    ``id`` is random and is the only name the hub stores it under; ``filename`` (checked
    by ``domain.attestations.check_filename``) is for display only."""

    id: str
    attestation_id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: int


@dataclass(frozen=True, slots=True)
class AttestRequestRecord:
    """A requester's request for a firm's attestations of a template."""

    id: str
    requester_org_id: int
    firm_org_id: int
    template_name: str
    message: str
    status: str
    created_at: int
    responded_at: int | None


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A firm's grant to one organisation for its attestations of a template: ``active``
    until revoked. ``last_viewed_version``: the version the grantee last opened."""

    firm_org_id: int
    grantee_org_id: int
    template_name: str
    active: bool
    request_id: str | None
    granted_at: int
    revoked_at: int | None
    last_viewed_version: int | None


# --- federation (services/federation.py) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerRecord:
    """A partner hub as stored. ``secret`` (API key or Basic password *for the partner*) is
    stored as given because it must be sent; nothing lists it. ``types`` empty: all types.
    ``account_org_id``: the local organisation the partner uses to push to us, if any."""

    id: int
    name: str
    api_root: str
    remote_collection: str
    local_collection: str
    direction: str
    auth_kind: str
    username: str | None
    secret: str | None
    types: tuple[str, ...]
    account_org_id: int | None
    enabled: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class PartnerSyncRecord:
    """The sync state of one partner and direction (``pull`` or ``push``): the watermark
    (pull: the partner's ``remote_after``; push: our ``local_date``/``local_seq`` cursor),
    counters and back-off."""

    partner_id: int
    direction: str
    remote_after: str | None = None
    local_date: int | None = None
    local_seq: int | None = None
    transferred: int = 0
    refused: int = 0
    last_attempt_at: int | None = None
    last_success_at: int | None = None
    last_error: str | None = None
    failures: int = 0
    next_attempt_at: int | None = None


# --- exercises (services/exercises.py) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExerciseRunRecord:
    """An exercise run: the scenario YAML as given, its collection, the planner, the clock
    speed (scenario seconds per real second) and the real start (µs)."""

    run_id: str
    name: str
    scenario: str
    collection_pk: int
    planner_org_id: int
    speed: float
    started_at: int


@dataclass(frozen=True, slots=True)
class ExerciseReleaseRecord:
    """An exercise inject released at ``released_at`` (real µs) as these objects."""

    run_id: str
    inject_id: str
    released_at: int
    object_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExerciseAckRecord:
    """A participant's (first) acknowledgement of an exercise inject."""

    run_id: str
    inject_id: str
    org_id: int
    at: int


# --- accounts (services/accounts.py) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A web user of an organisation: ``username`` is lower-case and unique across the hub;
    ``password_hash`` is an argon2id hash in PHC form (never the password)."""

    id: int
    org_id: int
    username: str
    password_hash: str
    is_admin: bool
    disabled: bool
    created_at: int
    last_sign_in: int | None


@dataclass(frozen=True, slots=True)
class WebSessionRecord:
    """A server-side web session, stored under the SHA-256 (hex) of its token only. It acts
    for a user (``user_id``) or an API key (``key_id``) of organisation ``org_id``;
    ``expires_at`` is the end of its idle time (µs), never past the absolute limit."""

    token_hash: str
    user_id: int | None
    key_id: str | None
    org_id: int
    created_at: int
    last_seen: int
    expires_at: int


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

    def warned(self, seqs: Iterable[int] | None) -> set[int]:
        """Those of the object versions ``seqs`` (all when None) flagged on ingest as naming a
        warning-listed value."""
        ...

    def confirmed_indicators(self, stix_ids: Iterable[str] | None) -> set[str]:
        """Those of ``stix_ids`` (all when None) confirmed despite a warning-list hit."""
        ...

    # alerts
    def alert(self, stix_id: str) -> AlertRecord | None: ...

    def alerts(
        self, kind: str | None, before: tuple[int, str] | None, limit: int
    ) -> list[AlertRecord]:
        """Published alerts (of ``kind`` when given), newest first by (created_at, id),
        strictly before ``before``; at most ``limit``. Not filtered by any reader: callers
        pass the ids through ``services.reading``."""
        ...

    def alerts_in_state(self, state: str, created_before: int) -> list[AlertRecord]: ...
    def notifications_sent(self, sender_org_id: int, since: int) -> list[AlertRecord]: ...
    def alert_links(self, advisory_id: str) -> list[str]: ...
    def alert_acks(self, stix_id: str) -> list[AckRecord]: ...
    def acks_by(self, org_id: int, stix_ids: Iterable[str]) -> dict[str, AckRecord]: ...
    def alert_channels(self, org_ids: Iterable[int]) -> list[ChannelRecord]: ...
    def alert_channel(self, channel_id: str) -> ChannelRecord | None: ...
    def delivery(self, delivery_id: str) -> DeliveryRecord | None: ...
    def deliveries(self, org_id: int, limit: int) -> list[DeliveryRecord]:
        """The organisation's deliveries, newest first."""
        ...

    def delivery_attempts(self, delivery_ids: Iterable[str]) -> dict[str, list[DeliveryAttempt]]:
        """Attempts per delivery, oldest first."""
        ...

    def next_delivery_due(self) -> int | None:
        """The earliest ``next_attempt_at`` of deliveries pending or being sent, if any."""
        ...

    # attestations
    def attest_templates(self) -> list[TemplateRecord]: ...
    def attest_template(self, name: str, version: int | None) -> TemplateRecord | None:
        """One version of a template (None: its latest)."""
        ...

    def attestation(self, attestation_id: str) -> AttestationRecord | None: ...
    def attestations_of(self, firm_org_id: int) -> list[AttestationRecord]:
        """Every version (drafts too) of a firm's attestations, newest first."""
        ...

    def attestation_history(self, firm_org_id: int, template_name: str) -> list[AttestationRecord]:
        """Published and superseded versions of one firm and template, newest first."""
        ...

    def current_attestations(self, pairs: Iterable[tuple[int, str]]) -> list[AttestationRecord]:
        """The published version of each (firm, template name) pair that has one."""
        ...

    def expiring_attestations(self, now: int, horizon: int) -> list[AttestationRecord]:
        """Published versions with ``now < valid_until <= horizon``."""
        ...

    def evidence_files(self, attestation_id: str) -> list[EvidenceRecord]: ...
    def evidence_file(self, evidence_id: str) -> EvidenceRecord | None: ...
    def evidence_content(self, evidence_id: str) -> bytes | None: ...
    def attest_request(self, request_id: str) -> AttestRequestRecord | None: ...
    def attest_requests(self, org_id: int) -> list[AttestRequestRecord]:
        """Requests the organisation made or received, newest first."""
        ...

    def attest_grants(
        self, firm_org_id: int | None, grantee_org_id: int | None, template_name: str | None
    ) -> list[GrantRecord]:
        """Grants (active or not) matching every filter that is not None."""
        ...

    # --- federation
    def partners(self) -> list[PartnerRecord]: ...
    def partner(self, name: str) -> PartnerRecord | None: ...
    def partner_syncs(self, partner_id: int) -> list[PartnerSyncRecord]: ...

    def provenance(self, collection_pk: int, stix_ids: Iterable[str]) -> dict[tuple[str, int], str]:
        """(stix id, version) → the partner each pulled version of ``stix_ids`` came from."""
        ...

    # --- exercises
    def exercise_run(self, run_id: str) -> ExerciseRunRecord | None: ...
    def exercise_runs(self) -> list[ExerciseRunRecord]: ...
    def exercise_releases(self, run_id: str) -> list[ExerciseReleaseRecord]: ...
    def exercise_acks(self, run_id: str) -> list[ExerciseAckRecord]: ...

    # accounts
    def user(self, user_id: int) -> UserRecord | None: ...
    def user_by_name(self, username: str) -> UserRecord | None:
        """The user stored under ``username`` (already lower-case), if any."""
        ...

    def users(self, org_id: int | None) -> list[UserRecord]:
        """Users of one organisation (all when None), by user name."""
        ...

    def web_session(self, token_hash: str) -> WebSessionRecord | None: ...


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

    def remove_assets(self, org_id: int) -> None:
        """Forget every declared asset of the organisation."""
        ...

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

    def confirm_indicator(self, stix_id: str, org_id: int, now: int) -> None:
        """Record that ``stix_id`` is confirmed (idempotent: the first confirmation stays)."""
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

    # alerts
    def add_alert(self, record: AlertRecord) -> None: ...

    def set_alert_state(self, stix_id: str, old: str, new: str) -> bool:
        """Move an alert from state ``old`` to ``new``; False (nothing changed) when it was
        not in ``old`` (another process got there first)."""
        ...

    def delete_alert(self, stix_id: str) -> None: ...
    def add_alert_links(self, advisory_id: str, notification_ids: Iterable[str]) -> None: ...

    def save_ack(self, ack: AckRecord) -> AckRecord:
        """Record an acknowledgement, or update ``named`` of an existing one (its time
        stays the first); return what is stored."""
        ...

    def add_alert_channel(self, channel: ChannelRecord) -> None: ...
    def delete_alert_channel(self, channel_id: str) -> None: ...
    def add_deliveries(self, deliveries: list[DeliveryRecord]) -> None: ...

    def claim_deliveries(self, now: int, lease_until: int, limit: int) -> list[DeliveryRecord]:
        """Lease up to ``limit`` deliveries that are due (``pending`` or ``sending`` with
        ``next_attempt_at <= now``, oldest first): each becomes ``sending`` until
        ``lease_until`` with one more attempt counted. Rows another process holds are
        skipped (PostgreSQL ``SKIP LOCKED``). Returns them as updated."""
        ...

    def finish_delivery(self, record: DeliveryRecord) -> None:
        """Store a delivery's status, attempts, next attempt, last error and delivery time."""
        ...

    def add_delivery_attempt(self, attempt: DeliveryAttempt) -> None: ...

    # attestations
    def add_attest_template(self, record: TemplateRecord) -> None:
        """``Conflict`` if that name and version exist (versions are immutable)."""
        ...

    def save_attestation(self, record: AttestationRecord) -> None:
        """Insert or replace one attestation version (services change only drafts)."""
        ...

    def supersede_attestations(self, firm_org_id: int, template_name: str, keep: str) -> None:
        """Mark every published version of the pair but ``keep`` superseded."""
        ...

    def add_evidence_file(self, record: EvidenceRecord, content: bytes) -> None: ...
    def save_attest_request(self, record: AttestRequestRecord) -> None: ...
    def save_attest_grant(self, record: GrantRecord) -> None:
        """Insert or replace the grant of (firm, grantee, template name)."""
        ...

    def claim_attest_reminder(self, attestation_id: str, threshold: int, at: int) -> bool:
        """Record that the reminder is being sent; False if already recorded (by anyone)."""
        ...

    def finish_attest_reminder(self, attestation_id: str, threshold: int, detail: str) -> None: ...

    # --- federation
    def add_partner(self, record: PartnerRecord) -> int:
        """Insert a partner (``record.id`` ignored); return its id. ``Conflict`` if the name
        is taken."""
        ...

    def set_partner_enabled(self, partner_id: int, enabled: bool) -> None: ...
    def delete_partner(self, partner_id: int) -> None: ...
    def save_partner_sync(self, record: PartnerSyncRecord) -> None:
        """Insert or replace the state of (partner, direction)."""
        ...

    def add_provenance(
        self, collection_pk: int, versions: Iterable[tuple[str, int]], partner: str, at: int
    ) -> None:
        """Record that these (stix id, version) came from ``partner``; a version already
        recorded keeps its first partner."""
        ...

    # --- exercises
    def add_exercise_run(self, record: ExerciseRunRecord) -> None: ...
    def add_exercise_release(self, record: ExerciseReleaseRecord) -> bool:
        """Record a release; False (and nothing written) if the inject was released."""
        ...

    def add_exercise_ack(self, record: ExerciseAckRecord) -> bool:
        """Record an acknowledgement; False if the participant had acknowledged it."""
        ...

    def delete_exercise_run(self, run_id: str) -> None:
        """Delete the run with its releases and acknowledgements (exercise tables only)."""
        ...

    def delete_collection(self, collection_pk: int) -> int:
        """Delete a collection with every object version in it (and their index rows),
        the statuses and queued submissions that name it; return the versions deleted
        (used to remove exercise collections)."""
        ...

    # accounts
    def add_user(
        self, org_id: int, username: str, password_hash: str, is_admin: bool, now: int
    ) -> int:
        """Insert a user; return its id. ``Conflict`` if the user name is taken."""
        ...

    def set_user_password(self, user_id: int, password_hash: str) -> None: ...
    def set_user_disabled(self, user_id: int, disabled: bool) -> None: ...
    def set_user_admin(self, user_id: int, is_admin: bool) -> None: ...
    def set_user_signed_in(self, user_id: int, now: int) -> None: ...
    def add_web_session(self, record: WebSessionRecord) -> None: ...
    def touch_web_session(self, token_hash: str, last_seen: int, expires_at: int) -> None: ...
    def delete_web_session(self, token_hash: str) -> None: ...
    def delete_user_sessions(self, user_id: int) -> int:
        """End every session of a user; return how many there were."""
        ...

    def delete_stale_web_sessions(self, now: int, opened_before: int) -> int:
        """Delete sessions idle past ``expires_at <= now`` or opened at or before
        ``opened_before`` (the absolute limit); return how many."""
        ...


class UnitOfWork(Protocol):
    """Opens transactions on the store."""

    def read(self) -> AbstractContextManager[ReadTx]: ...
    def write(self) -> AbstractContextManager[WriteTx]: ...
