"""``SqlTx``: every SQL statement Shieldwall runs, behind the ``services.ports`` protocols.

The sharing policy reaches SQL in exactly one place, ``_visible``, which renders the
compiled rule of ``domain.policy`` (see its module docstring). Every object read goes
through ``find_objects`` or ``hidden_ids``, and both use ``_visible``; there is no other
query over ``objects`` that returns rows to a reader.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import NamedFromClause

from shieldwall.domain.errors import Conflict
from shieldwall.domain.organisations import Organisation, Role, Sector
from shieldwall.domain.policy import COMMUNITY_KEY, ReaderFilter
from shieldwall.domain.queries import ObjectQuery, Probe
from shieldwall.domain.tlp import Tlp
from shieldwall.services.ports import (
    AckRecord,
    AlertRecord,
    AnonymousSubmission,
    AttestationRecord,
    AttestRequestRecord,
    AuditEntry,
    ChannelRecord,
    CollectionRecord,
    DeliveryAttempt,
    DeliveryRecord,
    DraftRecord,
    EvidenceRecord,
    ExerciseAckRecord,  # exercises
    ExerciseReleaseRecord,  # exercises
    ExerciseRunRecord,  # exercises
    ExistingVersion,
    GrantRecord,
    GroupRecord,
    KeyInfo,
    KeyRecord,
    NewObject,
    ObjectRow,
    PartnerRecord,
    PartnerSyncRecord,
    StatusRecord,
    TemplateRecord,
    TokenEpoch,
    UserRecord,  # accounts
    WebSessionRecord,  # accounts
)
from shieldwall.storage.schema import (
    alert_acks,
    alert_channels,
    alert_deliveries,
    alert_delivery_attempts,
    alert_links,
    alerts,
    anonymous_submissions,
    api_keys,
    attest_evidence,
    attest_grants,
    attest_reminders,
    attest_requests,
    attest_templates,
    attestations,
    audit_log,
    collections,
    exercise_acks,  # exercises
    exercise_releases,  # exercises
    exercise_runs,  # exercises
    group_members,
    hub_settings,
    indicator_confirmations,
    lookup_usage,
    object_audience,
    object_refs,
    objects,
    observables,
    org_assets,
    organisations,
    partner_provenance,
    partner_sync,
    partners,
    report_drafts,
    sealed_submitters,
    sharing_groups,
    spent_tokens,
    statuses,
    token_epochs,
    token_issuance,
    users,  # accounts
    warned_objects,
    web_sessions,  # accounts
)

_CHUNK = 500
# Module-level aliases keep SQLAlchemy's compiled-statement cache warm.
_O = objects.alias("o")
_OTHER = objects.alias("other")
_OBJECT_COLUMNS = (
    "collection_pk",
    "stix_id",
    "stix_type",
    "spec_version",
    "version",
    "date_added",
    "tlp",
    "community",
    "submitter_org_id",
    "body",
    "refs",
)
T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _probe(probe: Probe) -> ColumnElement[bool]:
    """The observable-index condition for one probe (domain/observables.py)."""
    if probe.keys:
        return and_(observables.c.kind == probe.kind, observables.c.key.in_(probe.keys))
    return and_(
        observables.c.kind == probe.kind,
        observables.c.key >= (probe.low or ""),
        observables.c.key < (probe.high or ""),
    )


def _visible(table: NamedFromClause, view: ReaderFilter) -> ColumnElement[bool]:
    """The compiled sharing rule (domain.policy) as a SQL condition on ``table``."""
    audience_keys = sorted(view.keys - {COMMUNITY_KEY})
    terms: list[ColumnElement[bool]] = [table.c.submitter_org_id == view.org_id]
    if COMMUNITY_KEY in view.keys:
        terms.append(table.c.community.is_(True))
    if view.all_but_red:
        terms.append(table.c.tlp != int(Tlp.RED))
    if audience_keys:
        terms.append(
            exists().where(
                object_audience.c.object_seq == table.c.seq,
                object_audience.c.key.in_(audience_keys),
            )
        )
    # rule 1 for submissions anonymous to members: the submitter is only in the sealed table
    terms.append(
        exists().where(
            sealed_submitters.c.object_seq == table.c.seq,
            sealed_submitters.c.org_id == view.org_id,
        )
    )
    return or_(*terms)


class SqlTx:
    """One transaction on one connection. Implements ``ReadTx`` and ``WriteTx``."""

    def __init__(self, connection: Connection, is_sqlite: bool) -> None:
        self.connection = connection
        self.is_sqlite = is_sqlite

    # --- settings --------------------------------------------------------------------

    def setting(self, name: str) -> str | None:
        value = self.connection.execute(
            select(hub_settings.c.value).where(hub_settings.c.name == name)
        ).scalar_one_or_none()
        return value

    def set_setting(self, name: str, value: str) -> None:
        updated = self.connection.execute(
            update(hub_settings).where(hub_settings.c.name == name).values(value=value)
        )
        if updated.rowcount == 0:
            self.connection.execute(insert(hub_settings).values(name=name, value=value))

    # --- organisations ---------------------------------------------------------------

    def _groups_of(self, org_ids: list[int]) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {org_id: set() for org_id in org_ids}
        for chunk in _chunks(org_ids):
            rows = self.connection.execute(
                select(group_members.c.org_id, sharing_groups.c.name)
                .join(sharing_groups, sharing_groups.c.id == group_members.c.group_id)
                .where(group_members.c.org_id.in_(chunk))
            )
            for org_id, name in rows:
                found[org_id].add(name)
        return found

    def _organisations(self, *conditions: ColumnElement[bool]) -> list[Organisation]:
        rows = self.connection.execute(
            select(organisations).where(*conditions).order_by(organisations.c.name)
        ).all()
        groups = self._groups_of([row.id for row in rows])
        return [
            Organisation(
                id=row.id,
                name=row.name,
                identity_id=row.identity_id,
                sector=Sector(row.sector),
                country=row.country,
                role=Role(row.role),
                groups=frozenset(groups[row.id]),
            )
            for row in rows
        ]

    def organisation(self, org_id: int) -> Organisation | None:
        found = self._organisations(organisations.c.id == org_id)
        return found[0] if found else None

    def organisation_by_name(self, name: str) -> Organisation | None:
        found = self._organisations(organisations.c.name == name)
        return found[0] if found else None

    def organisations_by_identity(self, identity_ids: Iterable[str]) -> list[Organisation]:
        wanted = sorted(set(identity_ids))
        if not wanted:
            return []
        return self._organisations(organisations.c.identity_id.in_(wanted))

    def organisations(self) -> list[Organisation]:
        return self._organisations()

    def add_organisation(
        self, name: str, identity_id: str, sector: Sector, country: str, role: Role, now: int
    ) -> Organisation:
        org_id = self.connection.execute(
            insert(organisations)
            .values(
                name=name,
                identity_id=identity_id,
                sector=sector.value,
                country=country,
                role=role.value,
                created_at=now,
            )
            .returning(organisations.c.id)
        ).scalar_one()
        return Organisation(org_id, name, identity_id, sector, country, role, frozenset())

    # --- sharing groups --------------------------------------------------------------

    def groups(self) -> list[GroupRecord]:
        owner = organisations.alias("owner")
        rows = self.connection.execute(
            select(
                sharing_groups.c.id,
                sharing_groups.c.name,
                sharing_groups.c.description,
                owner.c.name.label("owner"),
                sharing_groups.c.disbanded_at,
            )
            .outerjoin(owner, owner.c.id == sharing_groups.c.owner_org_id)
            .order_by(sharing_groups.c.name)
        ).all()
        members: dict[int, list[str]] = {row.id: [] for row in rows}
        for group_id, org_name in self.connection.execute(
            select(group_members.c.group_id, organisations.c.name)
            .join(organisations, organisations.c.id == group_members.c.org_id)
            .order_by(organisations.c.name)
        ):
            members.setdefault(group_id, []).append(org_name)
        return [
            GroupRecord(
                row.name,
                row.owner,
                row.description,
                tuple(members[row.id]),
                row.disbanded_at is not None,
            )
            for row in rows
        ]

    def group(self, name: str) -> GroupRecord | None:
        for record in self.groups():
            if record.name == name:
                return record
        return None

    def existing_group_names(self, names: Iterable[str]) -> set[str]:
        wanted = sorted(set(names))
        if not wanted:
            return set()
        return set(
            self.connection.execute(
                select(sharing_groups.c.name).where(sharing_groups.c.name.in_(wanted))
            ).scalars()
        )

    def _group_pk(self, name: str) -> int | None:
        value = self.connection.execute(
            select(sharing_groups.c.id).where(sharing_groups.c.name == name)
        ).scalar_one_or_none()
        return value

    def add_group(self, name: str, owner_org_id: int | None, description: str, now: int) -> None:
        self.connection.execute(
            insert(sharing_groups).values(
                name=name, owner_org_id=owner_org_id, description=description, created_at=now
            )
        )

    def delete_group(self, name: str, now: int) -> None:
        group_pk = self._group_pk(name)
        if group_pk is not None:  # the row stays: the name is never reused (admin.delete_group)
            self.connection.execute(
                delete(group_members).where(group_members.c.group_id == group_pk)
            )
            self.connection.execute(
                update(sharing_groups)
                .where(sharing_groups.c.id == group_pk)
                .values(disbanded_at=now)
            )

    def add_group_member(self, group: str, org_id: int) -> None:
        group_pk = self._group_pk(group)
        already = self.connection.execute(
            select(group_members.c.org_id).where(
                group_members.c.group_id == group_pk, group_members.c.org_id == org_id
            )
        ).first()
        if already is None:
            self.connection.execute(insert(group_members).values(group_id=group_pk, org_id=org_id))

    def remove_group_member(self, group: str, org_id: int) -> None:
        group_pk = self._group_pk(group)
        self.connection.execute(
            delete(group_members).where(
                group_members.c.group_id == group_pk, group_members.c.org_id == org_id
            )
        )

    # --- assets ----------------------------------------------------------------------

    def assets(self, org_id: int) -> list[tuple[str, str]]:
        rows = self.connection.execute(
            select(org_assets.c.kind, org_assets.c.value)
            .where(org_assets.c.org_id == org_id)
            .order_by(org_assets.c.kind, org_assets.c.value)
        )
        return [(kind, value) for kind, value in rows]

    def add_asset(self, org_id: int, kind: str, value: str) -> None:
        already = self.connection.execute(
            select(org_assets.c.id).where(
                org_assets.c.org_id == org_id,
                org_assets.c.kind == kind,
                org_assets.c.value == value,
            )
        ).first()
        if already is None:
            self.connection.execute(
                insert(org_assets).values(org_id=org_id, kind=kind, value=value)
            )

    def remove_assets(self, org_id: int) -> None:
        self.connection.execute(delete(org_assets).where(org_assets.c.org_id == org_id))

    # --- API keys --------------------------------------------------------------------

    def key(self, key_id: str) -> KeyRecord | None:
        row = self.connection.execute(
            select(
                api_keys.c.key_id, api_keys.c.org_id, api_keys.c.secret_hash, api_keys.c.revoked_at
            ).where(api_keys.c.key_id == key_id)
        ).first()
        if row is None:
            return None
        organisation = self.organisation(row.org_id)
        if organisation is None:
            return None
        return KeyRecord(row.key_id, organisation, row.secret_hash, row.revoked_at is not None)

    def keys(self, org_id: int | None) -> list[KeyInfo]:
        query = (
            select(api_keys, organisations.c.name.label("org_name"))
            .join(organisations, organisations.c.id == api_keys.c.org_id)
            .order_by(organisations.c.name, api_keys.c.created_at)
        )
        if org_id is not None:
            query = query.where(api_keys.c.org_id == org_id)
        return [
            KeyInfo(
                row.key_id,
                row.org_name,
                row.label,
                row.created_at,
                row.revoked_at,
                row.last_used_at,
            )
            for row in self.connection.execute(query)
        ]

    def add_key(self, key_id: str, org_id: int, secret_hash: str, label: str, now: int) -> None:
        self.connection.execute(
            insert(api_keys).values(
                key_id=key_id, org_id=org_id, secret_hash=secret_hash, label=label, created_at=now
            )
        )

    def revoke_key(self, key_id: str, now: int) -> bool:
        result = self.connection.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)

    def touch_key(self, key_id: str, now: int) -> None:
        self.connection.execute(
            update(api_keys).where(api_keys.c.key_id == key_id).values(last_used_at=now)
        )

    # --- collections -----------------------------------------------------------------

    @staticmethod
    def _collection(row: Any) -> CollectionRecord:
        return CollectionRecord(
            row.id,
            row.collection_id,
            row.title,
            row.description,
            row.alias,
            bool(row.members_can_read),
            bool(row.members_can_write),
        )

    def collections(self) -> list[CollectionRecord]:
        rows = self.connection.execute(select(collections).order_by(collections.c.id))
        return [self._collection(row) for row in rows]

    def collection(self, collection_id: str) -> CollectionRecord | None:
        row = self.connection.execute(
            select(collections).where(
                or_(
                    collections.c.collection_id == collection_id,
                    collections.c.alias == collection_id,
                )
            )
        ).first()
        return None if row is None else self._collection(row)

    def add_collection(
        self,
        collection_id: str,
        title: str,
        description: str,
        alias: str | None,
        members_can_read: bool,
        members_can_write: bool,
    ) -> CollectionRecord:
        pk = self.connection.execute(
            insert(collections)
            .values(
                collection_id=collection_id,
                title=title,
                description=description,
                alias=alias,
                members_can_read=members_can_read,
                members_can_write=members_can_write,
                last_date_added=0,
            )
            .returning(collections.c.id)
        ).scalar_one()
        return CollectionRecord(
            pk, collection_id, title, description, alias, members_can_read, members_can_write
        )

    def lock_named(self, name: str) -> None:
        """Serialise transactions that take the same named lock, until commit."""
        if not self.is_sqlite:  # SQLite's BEGIN IMMEDIATE already serialises writers
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            self.connection.execute(select(func.pg_advisory_xact_lock(key)))

    def lock_collection(self, collection_pk: int) -> int:
        query = select(collections.c.last_date_added).where(collections.c.id == collection_pk)
        if not self.is_sqlite:  # SQLite's BEGIN IMMEDIATE already holds the write lock
            query = query.with_for_update()
        return int(self.connection.execute(query).scalar_one())

    def set_last_date_added(self, collection_pk: int, date_added: int) -> None:
        self.connection.execute(
            update(collections)
            .where(collections.c.id == collection_pk)
            .values(last_date_added=date_added)
        )

    # --- objects ---------------------------------------------------------------------

    def find_objects(
        self, collection_pk: int, query: ObjectQuery, view: ReaderFilter, limit: int
    ) -> list[ObjectRow]:
        o = _O
        conditions: list[ColumnElement[bool]] = [o.c.collection_pk == collection_pk]
        if query.ids:
            conditions.append(o.c.stix_id.in_(sorted(query.ids)))
        if query.types:
            conditions.append(o.c.stix_type.in_(sorted(query.types)))
        if query.spec_versions:
            conditions.append(o.c.spec_version.in_(sorted(query.spec_versions)))
        if query.added_after is not None:
            conditions.append(o.c.date_added > query.added_after)
        if query.tlps:
            conditions.append(o.c.tlp.in_(sorted(query.tlps)))
        if query.refers_to:
            conditions.append(
                o.c.seq.in_(
                    select(object_refs.c.object_seq).where(
                        object_refs.c.ref.in_(sorted(query.refers_to))
                    )
                )
            )
        if query.observables:
            conditions.append(
                o.c.seq.in_(
                    select(observables.c.object_seq).where(
                        or_(*(_probe(probe) for probe in query.observables))
                    )
                )
            )
        if query.text:
            escaped = (
                query.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            conditions.append(func.lower(o.c.body).like(f"%{escaped}%", escape="\\"))
        if query.submitter_sectors or query.submitter_countries:  # feed filters
            chosen_orgs = select(organisations.c.id)
            if query.submitter_sectors:
                chosen_orgs = chosen_orgs.where(
                    organisations.c.sector.in_(sorted(query.submitter_sectors))
                )
            if query.submitter_countries:
                chosen_orgs = chosen_orgs.where(
                    organisations.c.country.in_(sorted(query.submitter_countries))
                )
            conditions.append(o.c.submitter_org_id.in_(chosen_orgs))
        if query.cursor is not None and query.newest_first:  # feed filters
            # the mirror image of the ascending case below (same index, read backwards)
            conditions.append(o.c.date_added <= query.cursor.date_added)
            conditions.append(
                or_(
                    o.c.date_added < query.cursor.date_added,
                    and_(o.c.date_added == query.cursor.date_added, o.c.seq < query.cursor.seq),
                )
            )
        elif query.cursor is not None:
            # The first term is implied by the second but lets the planner seek the paging
            # index instead of scanning every earlier row: a page costs O(page).
            conditions.append(o.c.date_added >= query.cursor.date_added)
            conditions.append(
                or_(
                    o.c.date_added > query.cursor.date_added,
                    and_(o.c.date_added == query.cursor.date_added, o.c.seq > query.cursor.seq),
                )
            )
        conditions.append(_visible(o, view))
        versions = query.versions
        if not versions.all:
            chosen: list[ColumnElement[bool]] = []
            if versions.last:
                chosen.append(~self._other_version(o, view, newer=True))
            if versions.first:
                chosen.append(~self._other_version(o, view, newer=False))
            if versions.exact:
                chosen.append(o.c.version.in_(sorted(versions.exact)))
            conditions.append(or_(*chosen))
        statement = (
            select(
                o.c.seq,
                o.c.stix_id,
                o.c.stix_type,
                o.c.spec_version,
                o.c.version,
                o.c.date_added,
                o.c.tlp,
                o.c.submitter_org_id,
                o.c.body,
                o.c.refs,
            )
            .where(*conditions)
            .order_by(
                *(
                    (o.c.date_added.desc(), o.c.seq.desc())  # feed filters
                    if query.newest_first
                    else (o.c.date_added, o.c.seq)
                )
            )
            .limit(limit)
        )
        # positional unpacking: attribute access on Row costs ~20 µs a row here
        return [
            ObjectRow(seq, stix_id, stix_type, spec, version, added, tlp, submitter, body, refs)
            for seq, stix_id, stix_type, spec, version, added, tlp, submitter, body, refs in (
                self.connection.execute(statement).tuples()
            )
        ]

    @staticmethod
    def _other_version(
        o: NamedFromClause, view: ReaderFilter, *, newer: bool
    ) -> ColumnElement[bool]:
        other = _OTHER
        order = other.c.version > o.c.version if newer else other.c.version < o.c.version
        return exists().where(
            other.c.collection_pk == o.c.collection_pk,
            other.c.stix_id == o.c.stix_id,
            order,
            _visible(other, view),
        )

    def hidden_ids(self, ids: Iterable[str], view: ReaderFilter) -> set[str]:
        wanted = sorted(set(ids))
        hidden: set[str] = set()
        o = _O
        for chunk in _chunks(wanted):
            stored = set(
                self.connection.execute(
                    select(o.c.stix_id).where(o.c.stix_id.in_(chunk)).distinct()
                ).scalars()
            )
            if not stored:
                continue
            readable = set(
                self.connection.execute(
                    select(o.c.stix_id)
                    .where(o.c.stix_id.in_(sorted(stored)), _visible(o, view))
                    .distinct()
                ).scalars()
            )
            hidden |= stored - readable
        return hidden

    def existing_versions(
        self, collection_pk: int, stix_ids: Iterable[str]
    ) -> dict[str, list[ExistingVersion]]:
        wanted = sorted(set(stix_ids))
        found: dict[str, list[ExistingVersion]] = {}
        for chunk in _chunks(wanted):
            rows = self.connection.execute(
                select(
                    objects.c.stix_id,
                    objects.c.version,
                    func.coalesce(objects.c.submitter_org_id, sealed_submitters.c.org_id),
                    objects.c.date_added,
                )
                .outerjoin(sealed_submitters, sealed_submitters.c.object_seq == objects.c.seq)
                .where(objects.c.collection_pk == collection_pk, objects.c.stix_id.in_(chunk))
            )
            for stix_id, version, submitter, date_added in rows.tuples():
                found.setdefault(stix_id, []).append(
                    ExistingVersion(version, submitter, date_added)
                )
        return found

    def insert_objects(self, collection_pk: int, date_added: int, rows: list[NewObject]) -> None:
        if not rows:
            return

        def values(row: NewObject) -> dict[str, object]:
            return {
                "collection_pk": collection_pk,
                "stix_id": row.stix_id,
                "stix_type": row.stix_type,
                "spec_version": row.spec_version,
                "version": row.version,
                "date_added": date_added,
                "tlp": row.tlp,
                "community": COMMUNITY_KEY in row.audience,
                "submitter_org_id": row.submitter_org_id,
                "body": row.body,
                "refs": row.refs,
            }

        # Rows whose only audience key is the community flag need no audience rows and so
        # no RETURNING, which keeps the common case a plain executemany.
        def needs_seq(row: NewObject) -> bool:
            return bool(row.audience - {COMMUNITY_KEY}) or row.sealed_org_id is not None

        plain = [values(row) for row in rows if not needs_seq(row)]
        scoped = [row for row in rows if needs_seq(row)]
        if plain:
            # The driver's own executemany: SQLAlchemy's per-row parameter processing was a
            # tenth of ingest time for bulk submissions (bench/results, W1 profile).
            marker = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"
            statement = (
                f"INSERT INTO objects ({', '.join(_OBJECT_COLUMNS)})"  # noqa: S608 - constants
                f" VALUES ({', '.join([marker] * len(_OBJECT_COLUMNS))})"
            )
            self.connection.exec_driver_sql(
                statement, [tuple(row[c] for c in _OBJECT_COLUMNS) for row in plain]
            )
        audience_rows: list[dict[str, object]] = []
        sealed_rows: list[dict[str, object]] = []
        for chunk in _chunks(scoped):
            result = self.connection.execute(
                insert(objects).returning(objects.c.seq, sort_by_parameter_order=True),
                [values(row) for row in chunk],
            )
            for seq, row in zip(result.scalars(), chunk, strict=True):
                audience_rows.extend(
                    {"object_seq": seq, "key": key} for key in row.audience if key != COMMUNITY_KEY
                )
                if row.sealed_org_id is not None:
                    sealed_rows.append({"object_seq": seq, "org_id": row.sealed_org_id})
        if audience_rows:
            self.connection.execute(insert(object_audience), audience_rows)
        if sealed_rows:
            self.connection.execute(insert(sealed_submitters), sealed_rows)
        self._index(collection_pk, date_added, rows)

    def _index(self, collection_pk: int, date_added: int, rows: list[NewObject]) -> None:
        """Write the observable and reference index rows of a batch just inserted (all its
        rows share ``date_added`` in this locked collection, which finds their seqs)."""
        wanted = [row for row in rows if row.observables or row.refs or row.warned]
        if not wanted:
            return
        seqs = {
            (stix_id, version): seq
            for seq, stix_id, version in self.connection.execute(
                select(objects.c.seq, objects.c.stix_id, objects.c.version).where(
                    objects.c.collection_pk == collection_pk, objects.c.date_added == date_added
                )
            ).tuples()
        }
        keys: list[dict[str, object]] = []
        refs: list[dict[str, object]] = []
        warned: list[dict[str, object]] = []
        for row in wanted:
            seq = seqs[(row.stix_id, row.version)]
            keys.extend({"object_seq": seq, "kind": k, "key": v} for k, v in row.observables)
            refs.extend({"object_seq": seq, "ref": ref} for ref in (row.refs or "").split())
            if row.warned:
                warned.append({"object_seq": seq})
        for chunk in _chunks(keys):
            self.connection.execute(insert(observables), chunk)
        for chunk in _chunks(refs):
            self.connection.execute(insert(object_refs), chunk)
        if warned:
            self.connection.execute(insert(warned_objects), warned)

    def delete_objects(self, seqs: list[int]) -> None:
        for chunk in _chunks(seqs):
            self.connection.execute(
                delete(object_audience).where(object_audience.c.object_seq.in_(chunk))
            )
            self.connection.execute(
                delete(sealed_submitters).where(sealed_submitters.c.object_seq.in_(chunk))
            )
            self.connection.execute(delete(observables).where(observables.c.object_seq.in_(chunk)))
            self.connection.execute(delete(object_refs).where(object_refs.c.object_seq.in_(chunk)))
            self.connection.execute(
                delete(warned_objects).where(warned_objects.c.object_seq.in_(chunk))
            )
            self.connection.execute(delete(objects).where(objects.c.seq.in_(chunk)))

    # --- alerts ----------------------------------------------------------------------

    @staticmethod
    def _alert(row: Any) -> AlertRecord:
        return AlertRecord(
            row.stix_id,
            row.kind,
            row.sender_org_id,
            row.victim_org_id,
            row.tlp,
            row.state,
            row.created_at,
        )

    def alert(self, stix_id: str) -> AlertRecord | None:
        row = self.connection.execute(select(alerts).where(alerts.c.stix_id == stix_id)).first()
        return None if row is None else self._alert(row)

    def alerts(
        self, kind: str | None, before: tuple[int, str] | None, limit: int
    ) -> list[AlertRecord]:
        query = select(alerts).where(alerts.c.state == "published")
        if kind is not None:
            query = query.where(alerts.c.kind == kind)
        if before is not None:
            query = query.where(
                or_(
                    alerts.c.created_at < before[0],
                    and_(alerts.c.created_at == before[0], alerts.c.stix_id < before[1]),
                )
            )
        query = query.order_by(alerts.c.created_at.desc(), alerts.c.stix_id.desc()).limit(limit)
        return [self._alert(row) for row in self.connection.execute(query)]

    def alerts_in_state(self, state: str, created_before: int) -> list[AlertRecord]:
        rows = self.connection.execute(
            select(alerts)
            .where(alerts.c.state == state, alerts.c.created_at < created_before)
            .order_by(alerts.c.created_at)
        )
        return [self._alert(row) for row in rows]

    def notifications_sent(self, sender_org_id: int, since: int) -> list[AlertRecord]:
        rows = self.connection.execute(
            select(alerts)
            .where(
                alerts.c.sender_org_id == sender_org_id,
                alerts.c.kind == "notification",
                alerts.c.state == "published",
                alerts.c.created_at >= since,
            )
            .order_by(alerts.c.created_at)
        )
        return [self._alert(row) for row in rows]

    def alert_links(self, advisory_id: str) -> list[str]:
        return list(
            self.connection.execute(
                select(alert_links.c.notification_id)
                .where(alert_links.c.advisory_id == advisory_id)
                .order_by(alert_links.c.notification_id)
            ).scalars()
        )

    @staticmethod
    def _ack(row: Any) -> AckRecord:
        return AckRecord(row.stix_id, row.org_id, row.at, bool(row.named))

    def alert_acks(self, stix_id: str) -> list[AckRecord]:
        rows = self.connection.execute(
            select(alert_acks).where(alert_acks.c.stix_id == stix_id).order_by(alert_acks.c.at)
        )
        return [self._ack(row) for row in rows]

    def acks_by(self, org_id: int, stix_ids: Iterable[str]) -> dict[str, AckRecord]:
        found: dict[str, AckRecord] = {}
        for chunk in _chunks(sorted(set(stix_ids))):
            rows = self.connection.execute(
                select(alert_acks).where(
                    alert_acks.c.org_id == org_id, alert_acks.c.stix_id.in_(chunk)
                )
            )
            for row in rows:
                found[row.stix_id] = self._ack(row)
        return found

    def save_ack(self, ack: AckRecord) -> AckRecord:
        self._insert_ignoring_duplicates(
            alert_acks,
            {"stix_id": ack.stix_id, "org_id": ack.org_id, "at": ack.at, "named": ack.named},
        )
        key = (alert_acks.c.stix_id == ack.stix_id, alert_acks.c.org_id == ack.org_id)
        self.connection.execute(update(alert_acks).where(*key).values(named=ack.named))
        return self._ack(self.connection.execute(select(alert_acks).where(*key)).one())

    def add_alert(self, record: AlertRecord) -> None:
        self.connection.execute(
            insert(alerts).values(
                stix_id=record.stix_id,
                kind=record.kind,
                sender_org_id=record.sender_org_id,
                victim_org_id=record.victim_org_id,
                tlp=record.tlp,
                state=record.state,
                created_at=record.created_at,
            )
        )

    def set_alert_state(self, stix_id: str, old: str, new: str) -> bool:
        result = self.connection.execute(
            update(alerts)
            .where(alerts.c.stix_id == stix_id, alerts.c.state == old)
            .values(state=new)
        )
        return bool(result.rowcount)

    def delete_alert(self, stix_id: str) -> None:
        self.connection.execute(delete(alerts).where(alerts.c.stix_id == stix_id))

    def add_alert_links(self, advisory_id: str, notification_ids: Iterable[str]) -> None:
        rows = [
            {"advisory_id": advisory_id, "notification_id": n}
            for n in sorted(set(notification_ids))
        ]
        if rows:
            self.connection.execute(insert(alert_links), rows)

    @staticmethod
    def _channel(row: Any) -> ChannelRecord:
        return ChannelRecord(row.id, row.org_id, row.kind, row.target, row.secret, row.created_at)

    def alert_channels(self, org_ids: Iterable[int]) -> list[ChannelRecord]:
        found: list[ChannelRecord] = []
        for chunk in _chunks(sorted(set(org_ids))):
            rows = self.connection.execute(
                select(alert_channels)
                .where(alert_channels.c.org_id.in_(chunk))
                .order_by(alert_channels.c.org_id, alert_channels.c.created_at, alert_channels.c.id)
            )
            found.extend(self._channel(row) for row in rows)
        return found

    def alert_channel(self, channel_id: str) -> ChannelRecord | None:
        row = self.connection.execute(
            select(alert_channels).where(alert_channels.c.id == channel_id)
        ).first()
        return None if row is None else self._channel(row)

    def add_alert_channel(self, channel: ChannelRecord) -> None:
        self.connection.execute(
            insert(alert_channels).values(
                id=channel.id,
                org_id=channel.org_id,
                kind=channel.kind,
                target=channel.target,
                secret=channel.secret,
                created_at=channel.created_at,
            )
        )

    def delete_alert_channel(self, channel_id: str) -> None:
        self.connection.execute(delete(alert_channels).where(alert_channels.c.id == channel_id))

    @staticmethod
    def _delivery(row: Any) -> DeliveryRecord:
        return DeliveryRecord(
            row.id,
            row.alert_id,
            row.org_id,
            row.channel_id,
            row.kind,
            row.target,
            row.status,
            row.attempts,
            row.next_attempt_at,
            row.last_error,
            row.delivered_at,
            row.created_at,
        )

    def delivery(self, delivery_id: str) -> DeliveryRecord | None:
        row = self.connection.execute(
            select(alert_deliveries).where(alert_deliveries.c.id == delivery_id)
        ).first()
        return None if row is None else self._delivery(row)

    def deliveries(self, org_id: int, limit: int) -> list[DeliveryRecord]:
        rows = self.connection.execute(
            select(alert_deliveries)
            .where(alert_deliveries.c.org_id == org_id)
            .order_by(alert_deliveries.c.created_at.desc(), alert_deliveries.c.id)
            .limit(limit)
        )
        return [self._delivery(row) for row in rows]

    def delivery_attempts(self, delivery_ids: Iterable[str]) -> dict[str, list[DeliveryAttempt]]:
        found: dict[str, list[DeliveryAttempt]] = {}
        for chunk in _chunks(sorted(set(delivery_ids))):
            rows = self.connection.execute(
                select(alert_delivery_attempts)
                .where(alert_delivery_attempts.c.delivery_id.in_(chunk))
                .order_by(alert_delivery_attempts.c.id)
            )
            for row in rows:
                found.setdefault(row.delivery_id, []).append(
                    DeliveryAttempt(row.delivery_id, row.attempt, row.at, bool(row.ok), row.detail)
                )
        return found

    def next_delivery_due(self) -> int | None:
        value = self.connection.execute(
            select(func.min(alert_deliveries.c.next_attempt_at)).where(
                alert_deliveries.c.status.in_(("pending", "sending"))
            )
        ).scalar_one_or_none()
        return None if value is None else int(value)

    def add_deliveries(self, deliveries: list[DeliveryRecord]) -> None:
        rows = [
            {
                "id": d.id,
                "alert_id": d.alert_id,
                "org_id": d.org_id,
                "channel_id": d.channel_id,
                "kind": d.kind,
                "target": d.target,
                "status": d.status,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "last_error": d.last_error,
                "delivered_at": d.delivered_at,
                "created_at": d.created_at,
            }
            for d in deliveries
        ]
        for chunk in _chunks(rows):
            self.connection.execute(insert(alert_deliveries), list(chunk))

    def claim_deliveries(self, now: int, lease_until: int, limit: int) -> list[DeliveryRecord]:
        query = (
            select(alert_deliveries.c.id)
            .where(
                alert_deliveries.c.status.in_(("pending", "sending")),
                alert_deliveries.c.next_attempt_at <= now,
            )
            .order_by(alert_deliveries.c.next_attempt_at, alert_deliveries.c.id)
            .limit(limit)
        )
        if not self.is_sqlite:  # SQLite's BEGIN IMMEDIATE already serialises writers
            query = query.with_for_update(skip_locked=True)
        ids = list(self.connection.execute(query).scalars())
        if not ids:
            return []
        self.connection.execute(
            update(alert_deliveries)
            .where(alert_deliveries.c.id.in_(ids))
            .values(
                status="sending",
                next_attempt_at=lease_until,
                attempts=alert_deliveries.c.attempts + 1,
            )
        )
        rows = self.connection.execute(
            select(alert_deliveries)
            .where(alert_deliveries.c.id.in_(ids))
            .order_by(alert_deliveries.c.created_at, alert_deliveries.c.id)
        )
        return [self._delivery(row) for row in rows]

    def finish_delivery(self, record: DeliveryRecord) -> None:
        self.connection.execute(
            update(alert_deliveries)
            .where(alert_deliveries.c.id == record.id)
            .values(
                status=record.status,
                attempts=record.attempts,
                next_attempt_at=record.next_attempt_at,
                last_error=record.last_error,
                delivered_at=record.delivered_at,
            )
        )

    def add_delivery_attempt(self, attempt: DeliveryAttempt) -> None:
        self.connection.execute(
            insert(alert_delivery_attempts).values(
                delivery_id=attempt.delivery_id,
                attempt=attempt.attempt,
                at=attempt.at,
                ok=attempt.ok,
                detail=attempt.detail[:500],
            )
        )

    # --- statuses --------------------------------------------------------------------

    def status(self, status_id: str) -> StatusRecord | None:
        row = self.connection.execute(select(statuses).where(statuses.c.id == status_id)).first()
        if row is None:
            return None
        return StatusRecord(
            row.id,
            row.org_id,
            row.collection_pk,
            row.request_timestamp,
            row.total_count,
            row.success_count,
            row.failure_count,
            row.pending_count,
            row.details,
        )

    def insert_status(self, record: StatusRecord) -> None:
        self.connection.execute(
            insert(statuses).values(
                id=record.id,
                org_id=record.org_id,
                collection_pk=record.collection_pk,
                request_timestamp=record.request_timestamp,
                total_count=record.total_count,
                success_count=record.success_count,
                failure_count=record.failure_count,
                pending_count=record.pending_count,
                details=record.details,
            )
        )

    # --- anonymity -------------------------------------------------------------------

    def sealed_submitter(self, collection_pk: int, stix_id: str) -> list[int]:
        return list(
            self.connection.execute(
                select(sealed_submitters.c.org_id)
                .join(objects, objects.c.seq == sealed_submitters.c.object_seq)
                .where(objects.c.collection_pk == collection_pk, objects.c.stix_id == stix_id)
                .distinct()
            ).scalars()
        )

    @staticmethod
    def _epoch(row: Any) -> TokenEpoch:
        return TokenEpoch(row.epoch, row.seed, row.public_key, row.not_before, row.not_after)

    def token_epochs(self, epochs: Iterable[int]) -> list[TokenEpoch]:
        wanted = sorted(set(epochs))
        rows = self.connection.execute(
            select(token_epochs)
            .where(token_epochs.c.epoch.in_(wanted))
            .order_by(token_epochs.c.epoch)
        )
        return [self._epoch(row) for row in rows]

    def _insert_ignoring_duplicates(self, table: Table, values: dict[str, object]) -> None:
        """INSERT that does nothing when the row exists (a lost race is not an error)."""
        if self.is_sqlite:
            statement: Any = sqlite_insert(table).values(**values).on_conflict_do_nothing()
        else:
            statement = postgresql_insert(table).values(**values).on_conflict_do_nothing()
        self.connection.execute(statement)

    def add_token_epoch(self, epoch: TokenEpoch) -> None:
        self._insert_ignoring_duplicates(
            token_epochs,
            {
                "epoch": epoch.epoch,
                "seed": epoch.seed,
                "public_key": epoch.public_key,
                "not_before": epoch.not_before,
                "not_after": epoch.not_after,
            },
        )

    def tokens_issued(self, org_id: int, epoch: int) -> int:
        value = self.connection.execute(
            select(token_issuance.c.issued).where(
                token_issuance.c.org_id == org_id, token_issuance.c.epoch == epoch
            )
        ).scalar_one_or_none()
        return int(value or 0)

    def _count_within(
        self, table: Table, key: dict[str, int], counter: str, count: int, limit: int
    ) -> bool:
        """Add ``count`` to the ``counter`` column of the row ``key`` (created at 0) unless it
        would pass ``limit``; False, with nothing added, when it would. The UPDATE takes the
        row lock, so concurrent callers queue and no limit is ever overshot."""
        if count > limit:
            return False
        self._insert_ignoring_duplicates(table, {**key, counter: 0})
        column = table.c[counter]
        row = [table.c[name] == value for name, value in key.items()]
        updated = self.connection.execute(
            update(table).where(*row, column + count <= limit).values({counter: column + count})
        )
        return bool(updated.rowcount)

    def add_tokens_issued(self, org_id: int, epoch: int, count: int, quota: int) -> bool:
        key = {"org_id": org_id, "epoch": epoch}
        return self._count_within(token_issuance, key, "issued", count, quota)

    def add_lookup_usage(self, org_id: int, day: int, count: int, limit: int) -> bool:
        key = {"org_id": org_id, "day": day}
        return self._count_within(lookup_usage, key, "evaluated", count, limit)

    def warned(self, seqs: Iterable[int] | None) -> set[int]:
        column = warned_objects.c.object_seq
        if seqs is None:
            return set(self.connection.execute(select(column)).scalars())
        found: set[int] = set()
        for chunk in _chunks(sorted(set(seqs))):
            found.update(self.connection.execute(select(column).where(column.in_(chunk))).scalars())
        return found

    def confirmed_indicators(self, stix_ids: Iterable[str] | None) -> set[str]:
        column = indicator_confirmations.c.stix_id
        if stix_ids is None:
            return set(self.connection.execute(select(column)).scalars())
        found: set[str] = set()
        for chunk in _chunks(sorted(set(stix_ids))):
            found.update(self.connection.execute(select(column).where(column.in_(chunk))).scalars())
        return found

    def confirm_indicator(self, stix_id: str, org_id: int, now: int) -> None:
        if not self.confirmed_indicators([stix_id]):
            self.connection.execute(
                insert(indicator_confirmations).values(
                    stix_id=stix_id, org_id=org_id, confirmed_at=now
                )
            )

    def spend_token(self, token_hash: str, epoch: int) -> None:
        try:
            with self.connection.begin_nested():
                self.connection.execute(
                    insert(spent_tokens).values(token_hash=token_hash, epoch=epoch)
                )
        except IntegrityError:
            raise Conflict("this token has already been spent") from None

    def add_anonymous_submission(self, submission: AnonymousSubmission) -> None:
        self.connection.execute(
            insert(anonymous_submissions).values(
                id=submission.id,
                receipt_hash=submission.receipt_hash,
                day=submission.day,
                collection_pk=submission.collection_pk,
                status=submission.status,
                payload=submission.payload,
                result=submission.result,
            )
        )

    @staticmethod
    def _submission(row: Any) -> AnonymousSubmission:
        return AnonymousSubmission(
            row.id,
            row.receipt_hash,
            row.day,
            row.collection_pk,
            row.status,
            row.payload,
            row.result,
        )

    def queued_submissions(self, lock: bool) -> list[AnonymousSubmission]:
        query = select(anonymous_submissions).where(anonymous_submissions.c.status == "queued")
        if lock and not self.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        return [self._submission(row) for row in self.connection.execute(query)]

    def submission_by_receipt(self, receipt_hash: str) -> AnonymousSubmission | None:
        row = self.connection.execute(
            select(anonymous_submissions).where(
                anonymous_submissions.c.receipt_hash == receipt_hash
            )
        ).first()
        return None if row is None else self._submission(row)

    def finish_submission(self, submission_id: str, status: str, result: str) -> None:
        self.connection.execute(
            update(anonymous_submissions)
            .where(anonymous_submissions.c.id == submission_id)
            .values(status=status, result=result, payload=None)
        )

    # --- audit -----------------------------------------------------------------------

    def audit_head(self) -> str:
        """The last entry's hash, locking the chain until commit (PostgreSQL)."""
        query = select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
        if not self.is_sqlite:
            self.connection.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
        value = self.connection.execute(query).scalar_one_or_none()
        return value or "0" * 64

    def append_audit(self, entry: AuditEntry) -> None:
        self.connection.execute(
            insert(audit_log).values(
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                detail=entry.detail,
                prev_hash=entry.prev_hash,
                hash=entry.hash,
            )
        )

    def audit_entries(self) -> list[AuditEntry]:
        rows = self.connection.execute(select(audit_log).order_by(audit_log.c.seq))
        return [
            AuditEntry(row.seq, row.at, row.actor, row.action, row.detail, row.prev_hash, row.hash)
            for row in rows
        ]

    # --- report drafts ---------------------------------------------------------------

    @staticmethod
    def _draft(row: Any) -> DraftRecord:
        return DraftRecord(
            row.id,
            row.org_id,
            row.name,
            row.format,
            row.source,
            row.review,
            row.status,
            row.created_at,
            row.updated_at,
            row.published_status_id,
        )

    def draft(self, draft_id: str) -> DraftRecord | None:
        row = self.connection.execute(
            select(report_drafts).where(report_drafts.c.id == draft_id)
        ).first()
        return None if row is None else self._draft(row)

    def drafts(self, org_id: int) -> list[DraftRecord]:
        rows = self.connection.execute(
            select(report_drafts)
            .where(report_drafts.c.org_id == org_id)
            .order_by(report_drafts.c.updated_at.desc())
        )
        return [self._draft(row) for row in rows]

    def save_draft(self, draft: DraftRecord) -> None:
        values = {
            "org_id": draft.org_id,
            "name": draft.name,
            "format": draft.format,
            "source": draft.source,
            "review": draft.review,
            "status": draft.status,
            "created_at": draft.created_at,
            "updated_at": draft.updated_at,
            "published_status_id": draft.published_status_id,
        }
        updated = self.connection.execute(
            update(report_drafts).where(report_drafts.c.id == draft.id).values(**values)
        )
        if not updated.rowcount:
            self.connection.execute(insert(report_drafts).values(id=draft.id, **values))

    def delete_draft(self, draft_id: str) -> None:
        self.connection.execute(delete(report_drafts).where(report_drafts.c.id == draft_id))

    # --- attestations ------------------------------------------------------------------

    @staticmethod
    def _template(row: Any) -> TemplateRecord:
        return TemplateRecord(
            row.name, row.version, row.title, row.questions, row.created_by, row.created_at
        )

    def attest_templates(self) -> list[TemplateRecord]:
        rows = self.connection.execute(
            select(attest_templates).order_by(attest_templates.c.name, attest_templates.c.version)
        )
        return [self._template(row) for row in rows]

    def attest_template(self, name: str, version: int | None) -> TemplateRecord | None:
        query = select(attest_templates).where(attest_templates.c.name == name)
        if version is not None:
            query = query.where(attest_templates.c.version == version)
        row = self.connection.execute(
            query.order_by(attest_templates.c.version.desc()).limit(1)
        ).first()
        return None if row is None else self._template(row)

    def add_attest_template(self, record: TemplateRecord) -> None:
        exists_already = self.connection.execute(
            select(attest_templates.c.name).where(
                attest_templates.c.name == record.name,
                attest_templates.c.version == record.version,
            )
        ).first()
        if exists_already is not None:
            raise Conflict(f"template {record.name} version {record.version} exists")
        self.connection.execute(
            insert(attest_templates).values(
                name=record.name,
                version=record.version,
                title=record.title,
                questions=record.questions,
                created_by=record.created_by,
                created_at=record.created_at,
            )
        )

    @staticmethod
    def _attestation(row: Any) -> AttestationRecord:
        return AttestationRecord(
            row.id,
            row.firm_org_id,
            row.template_name,
            row.template_version,
            row.version,
            row.status,
            row.answers,
            row.valid_from,
            row.valid_until,
            row.signer_name,
            row.signer_title,
            row.created_at,
            row.published_at,
        )

    def attestation(self, attestation_id: str) -> AttestationRecord | None:
        row = self.connection.execute(
            select(attestations).where(attestations.c.id == attestation_id)
        ).first()
        return None if row is None else self._attestation(row)

    def attestations_of(self, firm_org_id: int) -> list[AttestationRecord]:
        rows = self.connection.execute(
            select(attestations)
            .where(attestations.c.firm_org_id == firm_org_id)
            .order_by(attestations.c.created_at.desc(), attestations.c.id)
        )
        return [self._attestation(row) for row in rows]

    def attestation_history(self, firm_org_id: int, template_name: str) -> list[AttestationRecord]:
        rows = self.connection.execute(
            select(attestations)
            .where(
                attestations.c.firm_org_id == firm_org_id,
                attestations.c.template_name == template_name,
                attestations.c.status.in_(("published", "superseded")),
            )
            .order_by(attestations.c.version.desc())
        )
        return [self._attestation(row) for row in rows]

    def current_attestations(self, pairs: Iterable[tuple[int, str]]) -> list[AttestationRecord]:
        wanted = sorted(set(pairs))
        found: list[AttestationRecord] = []
        for chunk in _chunks(wanted, 100):
            condition = or_(
                *(
                    and_(attestations.c.firm_org_id == f, attestations.c.template_name == t)
                    for f, t in chunk
                )
            )
            rows = self.connection.execute(
                select(attestations)
                .where(attestations.c.status == "published", condition)
                .order_by(attestations.c.published_at.desc(), attestations.c.id)
            )
            found.extend(self._attestation(row) for row in rows)
        return found

    def expiring_attestations(self, now: int, horizon: int) -> list[AttestationRecord]:
        rows = self.connection.execute(
            select(attestations)
            .where(
                attestations.c.status == "published",
                attestations.c.valid_until > now,
                attestations.c.valid_until <= horizon,
            )
            .order_by(attestations.c.valid_until, attestations.c.id)
        )
        return [self._attestation(row) for row in rows]

    def save_attestation(self, record: AttestationRecord) -> None:
        values = {
            "firm_org_id": record.firm_org_id,
            "template_name": record.template_name,
            "template_version": record.template_version,
            "version": record.version,
            "status": record.status,
            "answers": record.answers,
            "valid_from": record.valid_from,
            "valid_until": record.valid_until,
            "signer_name": record.signer_name,
            "signer_title": record.signer_title,
            "created_at": record.created_at,
            "published_at": record.published_at,
        }
        updated = self.connection.execute(
            update(attestations).where(attestations.c.id == record.id).values(**values)
        )
        if not updated.rowcount:
            self.connection.execute(insert(attestations).values(id=record.id, **values))

    def supersede_attestations(self, firm_org_id: int, template_name: str, keep: str) -> None:
        self.connection.execute(
            update(attestations)
            .where(
                attestations.c.firm_org_id == firm_org_id,
                attestations.c.template_name == template_name,
                attestations.c.status == "published",
                attestations.c.id != keep,
            )
            .values(status="superseded")
        )

    _EVIDENCE_COLUMNS = (
        attest_evidence.c.id,
        attest_evidence.c.attestation_id,
        attest_evidence.c.filename,
        attest_evidence.c.media_type,
        attest_evidence.c.size,
        attest_evidence.c.sha256,
        attest_evidence.c.uploaded_at,
    )

    @staticmethod
    def _evidence(row: Any) -> EvidenceRecord:
        return EvidenceRecord(
            row.id,
            row.attestation_id,
            row.filename,
            row.media_type,
            row.size,
            row.sha256,
            row.uploaded_at,
        )

    def evidence_files(self, attestation_id: str) -> list[EvidenceRecord]:
        rows = self.connection.execute(
            select(*self._EVIDENCE_COLUMNS)
            .where(attest_evidence.c.attestation_id == attestation_id)
            .order_by(attest_evidence.c.uploaded_at, attest_evidence.c.id)
        )
        return [self._evidence(row) for row in rows]

    def evidence_file(self, evidence_id: str) -> EvidenceRecord | None:
        row = self.connection.execute(
            select(*self._EVIDENCE_COLUMNS).where(attest_evidence.c.id == evidence_id)
        ).first()
        return None if row is None else self._evidence(row)

    def evidence_content(self, evidence_id: str) -> bytes | None:
        value = self.connection.execute(
            select(attest_evidence.c.content).where(attest_evidence.c.id == evidence_id)
        ).scalar_one_or_none()
        return None if value is None else bytes(value)

    def add_evidence_file(self, record: EvidenceRecord, content: bytes) -> None:
        self.connection.execute(
            insert(attest_evidence).values(
                id=record.id,
                attestation_id=record.attestation_id,
                filename=record.filename,
                media_type=record.media_type,
                size=record.size,
                sha256=record.sha256,
                content=content,
                uploaded_at=record.uploaded_at,
            )
        )

    @staticmethod
    def _attest_request(row: Any) -> AttestRequestRecord:
        return AttestRequestRecord(
            row.id,
            row.requester_org_id,
            row.firm_org_id,
            row.template_name,
            row.message,
            row.status,
            row.created_at,
            row.responded_at,
        )

    def attest_request(self, request_id: str) -> AttestRequestRecord | None:
        row = self.connection.execute(
            select(attest_requests).where(attest_requests.c.id == request_id)
        ).first()
        return None if row is None else self._attest_request(row)

    def attest_requests(self, org_id: int) -> list[AttestRequestRecord]:
        rows = self.connection.execute(
            select(attest_requests)
            .where(
                or_(
                    attest_requests.c.requester_org_id == org_id,
                    attest_requests.c.firm_org_id == org_id,
                )
            )
            .order_by(attest_requests.c.created_at.desc(), attest_requests.c.id)
        )
        return [self._attest_request(row) for row in rows]

    def save_attest_request(self, record: AttestRequestRecord) -> None:
        values = {
            "requester_org_id": record.requester_org_id,
            "firm_org_id": record.firm_org_id,
            "template_name": record.template_name,
            "message": record.message,
            "status": record.status,
            "created_at": record.created_at,
            "responded_at": record.responded_at,
        }
        updated = self.connection.execute(
            update(attest_requests).where(attest_requests.c.id == record.id).values(**values)
        )
        if not updated.rowcount:
            self.connection.execute(insert(attest_requests).values(id=record.id, **values))

    def attest_grants(
        self, firm_org_id: int | None, grantee_org_id: int | None, template_name: str | None
    ) -> list[GrantRecord]:
        query = select(attest_grants)
        if firm_org_id is not None:
            query = query.where(attest_grants.c.firm_org_id == firm_org_id)
        if grantee_org_id is not None:
            query = query.where(attest_grants.c.grantee_org_id == grantee_org_id)
        if template_name is not None:
            query = query.where(attest_grants.c.template_name == template_name)
        rows = self.connection.execute(
            query.order_by(
                attest_grants.c.firm_org_id,
                attest_grants.c.grantee_org_id,
                attest_grants.c.template_name,
            )
        )
        return [
            GrantRecord(
                row.firm_org_id,
                row.grantee_org_id,
                row.template_name,
                bool(row.active),
                row.request_id,
                row.granted_at,
                row.revoked_at,
                row.last_viewed_version,
            )
            for row in rows
        ]

    def save_attest_grant(self, record: GrantRecord) -> None:
        key = (
            attest_grants.c.firm_org_id == record.firm_org_id,
            attest_grants.c.grantee_org_id == record.grantee_org_id,
            attest_grants.c.template_name == record.template_name,
        )
        values = {
            "active": record.active,
            "request_id": record.request_id,
            "granted_at": record.granted_at,
            "revoked_at": record.revoked_at,
            "last_viewed_version": record.last_viewed_version,
        }
        updated = self.connection.execute(update(attest_grants).where(*key).values(**values))
        if not updated.rowcount:
            self.connection.execute(
                insert(attest_grants).values(
                    firm_org_id=record.firm_org_id,
                    grantee_org_id=record.grantee_org_id,
                    template_name=record.template_name,
                    **values,
                )
            )

    def claim_attest_reminder(self, attestation_id: str, threshold: int, at: int) -> bool:
        values = {
            "attestation_id": attestation_id,
            "threshold_days": threshold,
            "at": at,
            "detail": "sending",
        }
        if self.is_sqlite:
            statement: Any = sqlite_insert(attest_reminders).values(**values)
        else:
            statement = postgresql_insert(attest_reminders).values(**values)
        result = self.connection.execute(statement.on_conflict_do_nothing())
        return bool(result.rowcount)

    def finish_attest_reminder(self, attestation_id: str, threshold: int, detail: str) -> None:
        self.connection.execute(
            update(attest_reminders)
            .where(
                attest_reminders.c.attestation_id == attestation_id,
                attest_reminders.c.threshold_days == threshold,
            )
            .values(detail=detail[:500])
        )

    # --- federation ------------------------------------------------------------------

    @staticmethod
    def _partner(row: Any) -> PartnerRecord:
        return PartnerRecord(
            id=row.id,
            name=row.name,
            api_root=row.api_root,
            remote_collection=row.remote_collection,
            local_collection=row.local_collection,
            direction=row.direction,
            auth_kind=row.auth_kind,
            username=row.username,
            secret=row.secret,
            types=tuple(row.types.split()),
            account_org_id=row.account_org_id,
            enabled=bool(row.enabled),
            created_at=row.created_at,
        )

    def partners(self) -> list[PartnerRecord]:
        rows = self.connection.execute(select(partners).order_by(partners.c.name))
        return [self._partner(row) for row in rows]

    def partner(self, name: str) -> PartnerRecord | None:
        row = self.connection.execute(select(partners).where(partners.c.name == name)).first()
        return None if row is None else self._partner(row)

    def partner_syncs(self, partner_id: int) -> list[PartnerSyncRecord]:
        rows = self.connection.execute(
            select(partner_sync)
            .where(partner_sync.c.partner_id == partner_id)
            .order_by(partner_sync.c.direction)
        )
        return [PartnerSyncRecord(**row._asdict()) for row in rows]

    def provenance(self, collection_pk: int, stix_ids: Iterable[str]) -> dict[tuple[str, int], str]:
        found: dict[tuple[str, int], str] = {}
        for chunk in _chunks(sorted(set(stix_ids))):
            rows = self.connection.execute(
                select(
                    partner_provenance.c.stix_id,
                    partner_provenance.c.version,
                    partner_provenance.c.partner,
                ).where(
                    partner_provenance.c.collection_pk == collection_pk,
                    partner_provenance.c.stix_id.in_(chunk),
                )
            )
            found.update({(row.stix_id, row.version): row.partner for row in rows})
        return found

    def add_partner(self, record: PartnerRecord) -> int:
        try:
            with self.connection.begin_nested():
                result = self.connection.execute(
                    insert(partners).values(
                        name=record.name,
                        api_root=record.api_root,
                        remote_collection=record.remote_collection,
                        local_collection=record.local_collection,
                        direction=record.direction,
                        auth_kind=record.auth_kind,
                        username=record.username,
                        secret=record.secret,
                        types=" ".join(record.types),
                        account_org_id=record.account_org_id,
                        enabled=record.enabled,
                        created_at=record.created_at,
                    )
                )
        except IntegrityError:
            raise Conflict(f"a partner named {record.name!r} already exists") from None
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def set_partner_enabled(self, partner_id: int, enabled: bool) -> None:
        self.connection.execute(
            update(partners).where(partners.c.id == partner_id).values(enabled=enabled)
        )

    def delete_partner(self, partner_id: int) -> None:
        self.connection.execute(delete(partner_sync).where(partner_sync.c.partner_id == partner_id))
        self.connection.execute(delete(partners).where(partners.c.id == partner_id))

    def save_partner_sync(self, record: PartnerSyncRecord) -> None:
        self.connection.execute(
            delete(partner_sync).where(
                partner_sync.c.partner_id == record.partner_id,
                partner_sync.c.direction == record.direction,
            )
        )
        self.connection.execute(
            insert(partner_sync).values(
                partner_id=record.partner_id,
                direction=record.direction,
                remote_after=record.remote_after,
                local_date=record.local_date,
                local_seq=record.local_seq,
                transferred=record.transferred,
                refused=record.refused,
                last_attempt_at=record.last_attempt_at,
                last_success_at=record.last_success_at,
                last_error=None if record.last_error is None else record.last_error[:500],
                failures=record.failures,
                next_attempt_at=record.next_attempt_at,
            )
        )

    def add_provenance(
        self, collection_pk: int, versions: Iterable[tuple[str, int]], partner: str, at: int
    ) -> None:
        for stix_id, version in sorted(set(versions)):
            self._insert_ignoring_duplicates(
                partner_provenance,
                {
                    "collection_pk": collection_pk,
                    "stix_id": stix_id,
                    "version": version,
                    "partner": partner,
                    "received_at": at,
                },
            )

    # --- exercises -------------------------------------------------------------------

    def exercise_run(self, run_id: str) -> ExerciseRunRecord | None:
        row = self.connection.execute(
            select(exercise_runs).where(exercise_runs.c.run_id == run_id)
        ).first()
        return None if row is None else self._exercise_run(row)

    @staticmethod
    def _exercise_run(row: Any) -> ExerciseRunRecord:
        return ExerciseRunRecord(
            row.run_id,
            row.name,
            row.scenario,
            row.collection_pk,
            row.planner_org_id,
            float(row.speed),
            row.started_at,
        )

    def exercise_runs(self) -> list[ExerciseRunRecord]:
        rows = self.connection.execute(
            select(exercise_runs).order_by(exercise_runs.c.started_at, exercise_runs.c.run_id)
        )
        return [self._exercise_run(row) for row in rows]

    def exercise_releases(self, run_id: str) -> list[ExerciseReleaseRecord]:
        rows = self.connection.execute(
            select(exercise_releases)
            .where(exercise_releases.c.run_id == run_id)
            .order_by(exercise_releases.c.released_at, exercise_releases.c.inject_id)
        )
        return [
            ExerciseReleaseRecord(r.run_id, r.inject_id, r.released_at, tuple(r.object_ids.split()))
            for r in rows
        ]

    def exercise_acks(self, run_id: str) -> list[ExerciseAckRecord]:
        rows = self.connection.execute(
            select(exercise_acks)
            .where(exercise_acks.c.run_id == run_id)
            .order_by(exercise_acks.c.at, exercise_acks.c.org_id)
        )
        return [ExerciseAckRecord(r.run_id, r.inject_id, r.org_id, r.at) for r in rows]

    def add_exercise_run(self, record: ExerciseRunRecord) -> None:
        self.connection.execute(
            insert(exercise_runs).values(
                run_id=record.run_id,
                name=record.name[:300],
                scenario=record.scenario,
                collection_pk=record.collection_pk,
                planner_org_id=record.planner_org_id,
                speed=record.speed,
                started_at=record.started_at,
            )
        )

    def add_exercise_release(self, record: ExerciseReleaseRecord) -> bool:
        if self.is_sqlite:
            statement: Any = sqlite_insert(exercise_releases)
        else:
            statement = postgresql_insert(exercise_releases)
        result = self.connection.execute(
            statement.values(
                run_id=record.run_id,
                inject_id=record.inject_id,
                released_at=record.released_at,
                object_ids=" ".join(record.object_ids),
            ).on_conflict_do_nothing()
        )
        return bool(result.rowcount)

    def add_exercise_ack(self, record: ExerciseAckRecord) -> bool:
        if self.is_sqlite:
            statement: Any = sqlite_insert(exercise_acks)
        else:
            statement = postgresql_insert(exercise_acks)
        result = self.connection.execute(
            statement.values(
                run_id=record.run_id, inject_id=record.inject_id, org_id=record.org_id, at=record.at
            ).on_conflict_do_nothing()
        )
        return bool(result.rowcount)

    def delete_exercise_run(self, run_id: str) -> None:
        for table in (exercise_acks, exercise_releases, exercise_runs):
            self.connection.execute(delete(table).where(table.c.run_id == run_id))

    def delete_collection(self, collection_pk: int) -> int:
        seqs = [
            int(seq)
            for seq in self.connection.execute(
                select(objects.c.seq).where(objects.c.collection_pk == collection_pk)
            ).scalars()
        ]
        self.delete_objects(seqs)
        for table in (statuses, anonymous_submissions, partner_provenance):
            self.connection.execute(delete(table).where(table.c.collection_pk == collection_pk))
        self.connection.execute(delete(collections).where(collections.c.id == collection_pk))
        return len(seqs)

    # --- accounts --------------------------------------------------------------------

    @staticmethod
    def _user(row: Any) -> UserRecord:
        return UserRecord(
            id=row.id,
            org_id=row.org_id,
            username=row.username,
            password_hash=row.password_hash,
            is_admin=bool(row.is_admin),
            disabled=bool(row.disabled),
            created_at=row.created_at,
            last_sign_in=row.last_sign_in,
        )

    def user(self, user_id: int) -> UserRecord | None:
        row = self.connection.execute(select(users).where(users.c.id == user_id)).first()
        return None if row is None else self._user(row)

    def user_by_name(self, username: str) -> UserRecord | None:
        row = self.connection.execute(select(users).where(users.c.username == username)).first()
        return None if row is None else self._user(row)

    def users(self, org_id: int | None) -> list[UserRecord]:
        query = select(users).order_by(users.c.username)
        if org_id is not None:
            query = query.where(users.c.org_id == org_id)
        return [self._user(row) for row in self.connection.execute(query)]

    def web_session(self, token_hash: str) -> WebSessionRecord | None:
        row = self.connection.execute(
            select(web_sessions).where(web_sessions.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return WebSessionRecord(
            token_hash=row.token_hash,
            user_id=row.user_id,
            key_id=row.key_id,
            org_id=row.org_id,
            created_at=row.created_at,
            last_seen=row.last_seen,
            expires_at=row.expires_at,
        )

    def add_user(
        self, org_id: int, username: str, password_hash: str, is_admin: bool, now: int
    ) -> int:
        try:
            with self.connection.begin_nested():
                result = self.connection.execute(
                    insert(users).values(
                        org_id=org_id,
                        username=username,
                        password_hash=password_hash,
                        is_admin=is_admin,
                        disabled=False,
                        created_at=now,
                    )
                )
        except IntegrityError:
            raise Conflict(f"the user name {username!r} is taken") from None
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def set_user_password(self, user_id: int, password_hash: str) -> None:
        self.connection.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def set_user_disabled(self, user_id: int, disabled: bool) -> None:
        self.connection.execute(
            update(users).where(users.c.id == user_id).values(disabled=disabled)
        )

    def set_user_admin(self, user_id: int, is_admin: bool) -> None:
        self.connection.execute(
            update(users).where(users.c.id == user_id).values(is_admin=is_admin)
        )

    def set_user_signed_in(self, user_id: int, now: int) -> None:
        self.connection.execute(update(users).where(users.c.id == user_id).values(last_sign_in=now))

    def add_web_session(self, record: WebSessionRecord) -> None:
        self.connection.execute(
            insert(web_sessions).values(
                token_hash=record.token_hash,
                user_id=record.user_id,
                key_id=record.key_id,
                org_id=record.org_id,
                created_at=record.created_at,
                last_seen=record.last_seen,
                expires_at=record.expires_at,
            )
        )

    def touch_web_session(self, token_hash: str, last_seen: int, expires_at: int) -> None:
        self.connection.execute(
            update(web_sessions)
            .where(web_sessions.c.token_hash == token_hash)
            .values(last_seen=last_seen, expires_at=expires_at)
        )

    def delete_web_session(self, token_hash: str) -> None:
        self.connection.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))

    def delete_user_sessions(self, user_id: int) -> int:
        result = self.connection.execute(
            delete(web_sessions).where(web_sessions.c.user_id == user_id)
        )
        return int(result.rowcount)

    def delete_stale_web_sessions(self, now: int, opened_before: int) -> int:
        result = self.connection.execute(
            delete(web_sessions).where(
                or_(web_sessions.c.expires_at <= now, web_sessions.c.created_at <= opened_before)
            )
        )
        return int(result.rowcount)
