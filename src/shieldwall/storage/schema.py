"""The relational schema (SQLAlchemy Core). Alembic migrations create and evolve it.

Timestamps are integer microseconds since the epoch (``BigInteger``): exact, cheap to
compare and identical on both engines. STIX objects are stored whole as JSON text in
``objects.body`` beside the envelope columns TAXII paging and the policy need.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,  # exercises: speed
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")

hub_settings = Table(
    "hub_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("identity_id", String(64), nullable=False, unique=True),
    Column("sector", String(32), nullable=False),
    Column("country", String(2), nullable=False),
    Column("role", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

sharing_groups = Table(
    "sharing_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("owner_org_id", Integer, ForeignKey("organisations.id"), nullable=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    # set when disbanded: the row stays so the name is never reused
    Column("disbanded_at", BigInteger, nullable=True),
)

group_members = Table(
    "group_members",
    metadata,
    Column(
        "group_id",
        Integer,
        ForeignKey("sharing_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "org_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)
Index("ix_group_members_org", group_members.c.org_id)

org_assets = Table(
    "org_assets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", Integer, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(500), nullable=False),
    UniqueConstraint("org_id", "kind", "value", name="uq_org_assets_org_kind_value"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("org_id", Integer, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("label", String(200), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Column("last_used_at", BigInteger, nullable=True),
)

collections = Table(
    "collections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("collection_id", String(36), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("alias", String(64), nullable=True, unique=True),
    Column("members_can_read", Boolean, nullable=False),
    Column("members_can_write", Boolean, nullable=False),
    # Highest date_added handed out in this collection; the row is locked while adding so
    # date_added grows strictly with commit order (a poll with added_after misses nothing).
    Column("last_date_added", BigInteger, nullable=False, server_default="0"),
)

objects = Table(
    "objects",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("collection_pk", Integer, ForeignKey("collections.id"), nullable=False),
    Column("stix_id", String(300), nullable=False),
    Column("stix_type", String(250), nullable=False),
    Column("spec_version", String(8), nullable=False),
    # modified, else created, else 0 for objects that carry no version timestamp (SCOs)
    Column("version", BigInteger, nullable=False),
    Column("date_added", BigInteger, nullable=False),
    Column("tlp", SmallInteger, nullable=False),
    Column("community", Boolean, nullable=False),
    Column("submitter_org_id", Integer, ForeignKey("organisations.id"), nullable=True),
    Column("body", Text, nullable=False),
    # space-separated ids the object refers to (domain.references), NULL when none
    Column("refs", Text, nullable=True),
    UniqueConstraint("collection_pk", "stix_id", "version", name="uq_objects_version"),
)
Index("ix_objects_paging", objects.c.collection_pk, objects.c.date_added, objects.c.seq)
Index("ix_objects_type", objects.c.collection_pk, objects.c.stix_type, objects.c.date_added)
Index("ix_objects_stix_id", objects.c.stix_id)  # references across collections (hidden_ids)

# The observable index (domain/observables.py): one row per object version and key, so it
# grows linearly with observables (no pairwise correlation table). Serves correlation.
observables = Table(
    "observables",
    metadata,
    Column(
        "object_seq",
        BigId,
        ForeignKey("objects.seq", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(16), primary_key=True),
    Column("key", String(520), primary_key=True),
)
Index("ix_observables_key", observables.c.kind, observables.c.key)

# What each object version refers to (domain.references): "which sightings are of X",
# "which reports contain X" are index lookups rather than scans of ``objects.refs``.
object_refs = Table(
    "object_refs",
    metadata,
    Column(
        "object_seq",
        BigId,
        ForeignKey("objects.seq", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("ref", String(300), primary_key=True),
)
Index("ix_object_refs_ref", object_refs.c.ref)

# Indicator versions that named a warning-listed value when they were submitted (checked
# once, on ingest, with the hub's lists of the time).
warned_objects = Table(
    "warned_objects",
    metadata,
    Column(
        "object_seq",
        BigId,
        ForeignKey("objects.seq", ondelete="CASCADE"),
        primary_key=True,
    ),
)

# Indicators on a warning list stay out of matching until their submitter (or an operator)
# confirms them (one row per confirmed indicator id).
indicator_confirmations = Table(
    "indicator_confirmations",
    metadata,
    Column("stix_id", String(300), primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("confirmed_at", BigInteger, nullable=False),
)

object_audience = Table(
    "object_audience",
    metadata,
    Column(
        "object_seq",
        BigId,
        ForeignKey("objects.seq", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(120), primary_key=True),
)

statuses = Table(
    "statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=True),
    Column("collection_pk", Integer, ForeignKey("collections.id"), nullable=False),
    Column("request_timestamp", BigInteger, nullable=False),
    Column("total_count", Integer, nullable=False),
    Column("success_count", Integer, nullable=False),
    Column("failure_count", Integer, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("details", Text, nullable=False),
)

# --- anonymity (architecture.md §4) ---------------------------------------------------

# Who submitted an object "anonymous to members". Only the policy (rule 1) and audited
# operator reads (services/anonymity.reveal_submitter) look here.
sealed_submitters = Table(
    "sealed_submitters",
    metadata,
    Column(
        "object_seq",
        BigId,
        ForeignKey("objects.seq", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False),
)
Index("ix_sealed_submitters_org", sealed_submitters.c.org_id)

# One VOPRF key per epoch; the seed is the secret key material (RFC 9497 DeriveKeyPair).
token_epochs = Table(
    "token_epochs",
    metadata,
    Column("epoch", Integer, primary_key=True, autoincrement=False),
    Column("seed", String(64), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("not_before", BigInteger, nullable=False),
    Column("not_after", BigInteger, nullable=False),
)

# Tokens issued per member per epoch: the rate limit. Knows nothing of what is redeemed.
token_issuance = Table(
    "token_issuance",
    metadata,
    Column("org_id", Integer, ForeignKey("organisations.id"), primary_key=True),
    Column("epoch", Integer, primary_key=True, autoincrement=False),
    Column("issued", Integer, nullable=False),
)

# Private lookups: how many blinded items each member had evaluated per day (the rate limit).
# Never the items: they are blinded, and nothing else about a lookup is kept.
lookup_usage = Table(
    "lookup_usage",
    metadata,
    Column("org_id", Integer, ForeignKey("organisations.id"), primary_key=True),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("evaluated", Integer, nullable=False),
)

# Spent tokens: the primary key makes a double spend fail in every process. No time.
spent_tokens = Table(
    "spent_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("epoch", Integer, nullable=False),
)

# Unlinkable submissions waiting for a batch, already sanitised; no account, address or
# precise time (``day`` is days since the epoch). The row id is random.
anonymous_submissions = Table(
    "anonymous_submissions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("receipt_hash", String(64), nullable=False, unique=True),
    Column("day", Integer, nullable=False),
    Column("collection_pk", Integer, ForeignKey("collections.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("payload", Text, nullable=True),
    Column("result", Text, nullable=True),
)

# --- audit --------------------------------------------------------------------------------

# Hash-chained: each entry's hash covers the previous entry's hash and its own content.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

# --- report intake ----------------------------------------------------------------------

# Drafts are private to the submitting organisation until published.
report_drafts = Table(
    "report_drafts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(300), nullable=False),
    Column("format", String(16), nullable=False),
    Column("source", Text, nullable=False),
    Column("review", Text, nullable=False),  # JSON: redact, removed values, include_benign
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("published_status_id", String(36), nullable=True),
)
Index("ix_report_drafts_org", report_drafts.c.org_id, report_drafts.c.updated_at)

# --- alerts ------------------------------------------------------------------------------

# Government alerts (services/alerts.py). The content is STIX in ``objects`` (read through
# the policy); these rows hold what the hub alone knows: the kind, the sender, the victim
# of a notification (told to its sender only) and the publication state.
alerts = Table(
    "alerts",
    metadata,
    Column("stix_id", String(100), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("sender_org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("victim_org_id", Integer, ForeignKey("organisations.id"), nullable=True),
    Column("tlp", SmallInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
Index("ix_alerts_listing", alerts.c.state, alerts.c.created_at)
Index("ix_alerts_sender", alerts.c.sender_org_id, alerts.c.created_at)

# Which notifications an advisory was written from: private to the hub and the sender,
# never written into the advisory's STIX (a reference could betray the victim).
alert_links = Table(
    "alert_links",
    metadata,
    Column(
        "advisory_id",
        String(100),
        ForeignKey("alerts.stix_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "notification_id",
        String(100),
        ForeignKey("alerts.stix_id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

alert_acks = Table(
    "alert_acks",
    metadata,
    Column(
        "stix_id", String(100), ForeignKey("alerts.stix_id", ondelete="CASCADE"), primary_key=True
    ),
    Column("org_id", Integer, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("named", Boolean, nullable=False),
)

# Delivery channels: webhook secrets are stored as they are, because they sign.
alert_channels = Table(
    "alert_channels",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("target", String(2000), nullable=False),
    Column("secret", String(200), nullable=True),
    Column("created_at", BigInteger, nullable=False),
)
Index("ix_alert_channels_org", alert_channels.c.org_id)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "alert_id", String(100), ForeignKey("alerts.stix_id", ondelete="CASCADE"), nullable=False
    ),
    Column("org_id", Integer, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column(
        "channel_id",
        String(36),
        ForeignKey("alert_channels.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("kind", String(16), nullable=False),
    Column("target", String(2000), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)
Index("ix_alert_deliveries_due", alert_deliveries.c.status, alert_deliveries.c.next_attempt_at)
Index("ix_alert_deliveries_org", alert_deliveries.c.org_id, alert_deliveries.c.created_at)

alert_delivery_attempts = Table(
    "alert_delivery_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        String(36),
        ForeignKey("alert_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempt", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("detail", String(500), nullable=False),
)
Index("ix_alert_delivery_attempts_delivery", alert_delivery_attempts.c.delivery_id)

# --- attestations ------------------------------------------------------------------------

# Security attestations between firms and the organisations that retain them
# (services/attestations.py). Private business documents: never STIX, never in TAXII.
attest_templates = Table(
    "attest_templates",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("questions", Text, nullable=False),
    Column("created_by", Integer, ForeignKey("organisations.id"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

attestations = Table(
    "attestations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("firm_org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("template_name", String(100), nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("version", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("answers", Text, nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("signer_name", String(200), nullable=False),
    Column("signer_title", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("published_at", BigInteger, nullable=True),
    UniqueConstraint("firm_org_id", "template_name", "version", name="uq_attestations_version"),
)
Index("ix_attestations_status", attestations.c.status, attestations.c.valid_until)

attest_evidence = Table(
    "attest_evidence",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "attestation_id",
        String(36),
        ForeignKey("attestations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("filename", String(200), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_at", BigInteger, nullable=False),
)
Index("ix_attest_evidence_attestation", attest_evidence.c.attestation_id)

attest_requests = Table(
    "attest_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("requester_org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("firm_org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("template_name", String(100), nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("responded_at", BigInteger, nullable=True),
)
Index("ix_attest_requests_firm", attest_requests.c.firm_org_id, attest_requests.c.created_at)
Index(
    "ix_attest_requests_requester",
    attest_requests.c.requester_org_id,
    attest_requests.c.created_at,
)

attest_grants = Table(
    "attest_grants",
    metadata,
    Column("firm_org_id", Integer, ForeignKey("organisations.id"), primary_key=True),
    Column("grantee_org_id", Integer, ForeignKey("organisations.id"), primary_key=True),
    Column("template_name", String(100), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("request_id", String(36), nullable=True),
    Column("granted_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Column("last_viewed_version", Integer, nullable=True),
)

# One row per (attestation version, threshold): the reminder is sent at most once.
attest_reminders = Table(
    "attest_reminders",
    metadata,
    Column(
        "attestation_id",
        String(36),
        ForeignKey("attestations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("threshold_days", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("detail", String(500), nullable=False),
)

# --- federation (docs/federation.md) ------------------------------------------------------

# Partner hubs. ``secret`` is the API key or Basic password used *to call the partner*: it
# must be usable, so it is stored as given (like webhook secrets) and never listed again.
partners = Table(
    "partners",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("api_root", String(2000), nullable=False),
    Column("remote_collection", String(300), nullable=False),
    Column("local_collection", String(300), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("auth_kind", String(8), nullable=False),
    Column("username", String(200), nullable=True),
    Column("secret", Text, nullable=True),
    Column("types", Text, nullable=False),
    Column("account_org_id", Integer, ForeignKey("organisations.id"), nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# One row per partner and direction (pull, push): the watermark and the status view.
partner_sync = Table(
    "partner_sync",
    metadata,
    Column("partner_id", Integer, ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("remote_after", String(40), nullable=True),
    Column("local_date", BigInteger, nullable=True),
    Column("local_seq", BigInteger, nullable=True),
    Column("transferred", BigInteger, nullable=False),
    Column("refused", BigInteger, nullable=False),
    Column("last_attempt_at", BigInteger, nullable=True),
    Column("last_success_at", BigInteger, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("failures", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=True),
)

# Which partner an object version came from (pull); kept when the partner is removed.
partner_provenance = Table(
    "partner_provenance",
    metadata,
    Column("collection_pk", Integer, ForeignKey("collections.id"), primary_key=True),
    Column("stix_id", String(300), primary_key=True),
    Column("version", BigInteger, primary_key=True),
    Column("partner", String(100), nullable=False),
    Column("received_at", BigInteger, nullable=False),
)

# --- exercises (docs/exercises.md) ----------------------------------------------------------

# One exercise run: its scenario (the YAML as given), its own collection (alias
# ``exercise-<run id>``), the planner, the clock speed and the real start time.
exercise_runs = Table(
    "exercise_runs",
    metadata,
    Column("run_id", String(40), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("scenario", Text, nullable=False),
    Column("collection_pk", Integer, ForeignKey("collections.id"), nullable=False),
    Column("planner_org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("speed", Float, nullable=False),
    Column("started_at", BigInteger, nullable=False),
)

# An inject released: when (real time) and the ids of the objects it became.
exercise_releases = Table(
    "exercise_releases",
    metadata,
    Column(
        "run_id",
        String(40),
        ForeignKey("exercise_runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("inject_id", String(64), primary_key=True),
    Column("released_at", BigInteger, nullable=False),
    Column("object_ids", Text, nullable=False),
)

# A participant's acknowledgement of an inject (the first one counts).
exercise_acks = Table(
    "exercise_acks",
    metadata,
    Column(
        "run_id",
        String(40),
        ForeignKey("exercise_runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("inject_id", String(64), primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), primary_key=True),
    Column("at", BigInteger, nullable=False),
)

# --- accounts (services/accounts.py) ------------------------------------------------------

# Web users of an organisation; ``username`` is lower-case, unique across the hub, and
# ``password_hash`` an argon2id hash (PHC string), never the password.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_sign_in", BigInteger, nullable=True),
)

# Server-side web sessions, keyed by the SHA-256 (hex) of the token, never the token. A
# session acts for a user or for an API key (``key_id``); ``expires_at`` ends its idle time
# and the absolute limit counts from ``created_at``.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("key_id", String(40), nullable=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)
Index("ix_web_sessions_user", web_sessions.c.user_id)
