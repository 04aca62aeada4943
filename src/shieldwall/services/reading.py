"""Reading objects: lists, manifests, versions, one object, deletion, status.

Every object read goes through ``_page``: storage's ``find_objects`` applies the sharing
policy in SQL, then ``domain.references`` withholds or trims what refers to objects the
reader may not see. Nothing here returns a row that did not pass both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import orjson

from shieldwall.domain.errors import Forbidden, NotFound
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.policy import ReaderFilter, reader_filter
from shieldwall.domain.queries import Cursor, ObjectQuery, VersionFilter, encode_cursor
from shieldwall.domain.references import redact_references
from shieldwall.domain.versions import version_text
from shieldwall.services.context import Hub
from shieldwall.services.ports import CollectionRecord, ObjectRow, ReadTx, StatusRecord

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"


@dataclass(frozen=True, slots=True)
class Served:
    """One object version as this reader receives it (``body`` is JSON text)."""

    row: ObjectRow
    body: str


@dataclass(frozen=True, slots=True)
class Page:
    """A page of results and where the next one starts."""

    items: list[Served]
    more: bool
    next_token: str | None

    @property
    def date_added_first(self) -> int | None:
        return self.items[0].row.date_added if self.items else None

    @property
    def date_added_last(self) -> int | None:
        return self.items[-1].row.date_added if self.items else None


EXERCISE_PREFIX = "exercise"


def is_exercise(collection: CollectionRecord) -> bool:
    """Whether the collection holds exercise content (its alias starts with ``exercise``):
    readable over TAXII by participants, but never part of the hub-wide reads below
    (matching, lookup, sightings, correlation, exports), so nothing from an exercise mixes
    with real intelligence."""
    return (collection.alias or "").startswith(EXERCISE_PREFIX)


def _may_read(collection: CollectionRecord, reader: Organisation) -> bool:
    """Whether the reader may read objects of the collection at all (the policy then decides
    object by object)."""
    return collection.members_can_read or reader.role is Role.OPERATOR


def _readable_collection(tx: ReadTx, collection_id: str, reader: Organisation) -> CollectionRecord:
    record = tx.collection(collection_id)
    if record is None or not _may_read(record, reader):
        raise NotFound("no such collection")
    return record


def _present(tx: ReadTx, rows: list[ObjectRow], view: ReaderFilter) -> list[Served]:
    """Apply ``domain.references`` to rows the policy admitted."""
    referenced: set[str] = set()
    for row in rows:
        if row.refs:
            referenced.update(row.refs.split(" "))
    hidden = tx.hidden_ids(referenced, view) if referenced else set()
    served: list[Served] = []
    for row in rows:
        if not row.refs or hidden.isdisjoint(row.refs.split(" ")):
            served.append(Served(row, row.body))
            continue
        redacted = redact_references(orjson.loads(row.body), hidden)
        if redacted is not None:
            served.append(Served(row, orjson.dumps(redacted).decode()))
    return served


def _page(tx: ReadTx, collection: CollectionRecord, query: ObjectQuery, view: ReaderFilter) -> Page:
    """One page of what the reader receives. Rows withheld by ``domain.references`` are
    skipped *before* ``more`` and ``next`` are decided, so neither betrays them: the page
    reads on until ``limit`` objects can be served and one more is known to follow."""
    served: list[Served] = []
    cursor = query.cursor
    while len(served) <= query.limit:
        wanted = query.limit + 1 - len(served)
        rows = tx.find_objects(collection.pk, replace(query, cursor=cursor), view, wanted)
        served.extend(_present(tx, rows, view))
        if len(rows) < wanted:
            break  # the collection holds no more rows for this reader
        cursor = Cursor(rows[-1].date_added, rows[-1].seq)
    more = len(served) > query.limit
    items = served[: query.limit]
    token = None
    if more and items:
        last = items[-1].row
        token = encode_cursor(Cursor(last.date_added, last.seq), query.fingerprint())
    return Page(items, more, token)


def list_objects(hub: Hub, reader: Organisation, collection_id: str, query: ObjectQuery) -> Page:
    """Objects of a collection the reader may read, filtered and paged (TAXII 2.1 §5.3)."""
    with hub.store.read() as tx:
        collection = _readable_collection(tx, collection_id, reader)
        return _page(tx, collection, query, reader_filter(reader))


def get_object(
    hub: Hub, reader: Organisation, collection_id: str, object_id: str, query: ObjectQuery
) -> Page:
    """Versions of one object (TAXII 2.1 §5.5); ``NotFound`` when the reader sees none."""
    page = list_objects(hub, reader, collection_id, replace(query, ids=frozenset({object_id})))
    if not page.items and query.cursor is None:
        raise NotFound(f"no object {object_id} in this collection")
    return page


def list_versions(
    hub: Hub, reader: Organisation, collection_id: str, object_id: str, query: ObjectQuery
) -> Page:
    """All versions of an object the reader may see (TAXII 2.1 §5.7)."""
    every = replace(query, ids=frozenset({object_id}), versions=VersionFilter(last=False, all=True))
    page = list_objects(hub, reader, collection_id, every)
    if not page.items and query.cursor is None:
        raise NotFound(f"no object {object_id} in this collection")
    return page


def manifest_entry(served: Served) -> dict[str, str]:
    """A TAXII manifest record (TAXII 2.1 §5.2.1)."""
    row = served.row
    return {
        "id": row.stix_id,
        "date_added": version_text_exact(row.date_added),
        "version": version_text(row.version, row.date_added),
        "media_type": STIX_MEDIA_TYPE,
    }


def version_text_exact(micros: int) -> str:
    """``date_added`` with full microsecond precision (what ``added_after`` compares with)."""
    from shieldwall.domain.timestamps import format_timestamp

    return format_timestamp(micros)


def delete_object(
    hub: Hub, reader: Organisation, collection_id: str, object_id: str, query: ObjectQuery
) -> int:
    """Delete the versions of an object selected by ``query`` (TAXII 2.1 §5.6).

    Only the submitter of every selected version, or an operator, may delete. Raises
    ``NotFound`` when the reader sees no such version, ``Forbidden`` otherwise.
    Returns the number of versions deleted.
    """
    selected = replace(query, ids=frozenset({object_id}), limit=100_000, cursor=None)
    view = reader_filter(reader)
    with hub.store.write() as tx:
        collection = _readable_collection(tx, collection_id, reader)
        rows = tx.find_objects(collection.pk, selected, view, selected.limit)
        if not rows:
            raise NotFound(f"no object {object_id} in this collection")
        if reader.role is not Role.OPERATOR and any(r.submitter_org_id != reader.id for r in rows):
            # a submission anonymous to members has its submitter in the sealed table only
            sealed = tx.sealed_submitter(collection.pk, object_id)
            if sealed != [reader.id] or any(r.submitter_org_id is not None for r in rows):
                raise Forbidden("only the organisation that submitted an object may delete it")
        tx.delete_objects([row.seq for row in rows])
        return len(rows)


def get_status(hub: Hub, reader: Organisation, status_id: str) -> StatusRecord:
    """A status resource; only the organisation that made the request may read it (it lists
    that organisation's object ids, so not even operators see others' statuses)."""
    with hub.store.read() as tx:
        record = tx.status(status_id)
    if record is None or record.org_id != reader.id:
        raise NotFound(f"no status {status_id}")
    return record


def readable_collections(hub: Hub, reader: Organisation) -> list[CollectionRecord]:
    """Collections the reader may see."""
    with hub.store.read() as tx:
        return [
            c
            for c in tx.collections()
            if c.members_can_read or c.members_can_write or reader.role is Role.OPERATOR
        ]


INDICATOR_PAGE = 5000


def indicators_since(
    hub: Hub, reader: Organisation, cursors: dict[str, Cursor]
) -> tuple[list[tuple[str, Served]], dict[str, Cursor]]:
    """``(collection id, served)`` for the newest version the reader may read of every
    indicator added (in any collection it may read) after ``cursors[collection_id]`` (from
    the start for collections not named), and the cursors to pass next time. One
    transaction, page by page through ``_page``: the policy and ``domain.references`` as
    for every other read. Exercise collections are left out (``is_exercise``)."""
    view = reader_filter(reader)
    served: list[tuple[str, Served]] = []
    advanced = dict(cursors)
    query = ObjectQuery(types=frozenset({"indicator"}), limit=INDICATOR_PAGE)
    with hub.store.read() as tx:
        for collection in tx.collections():
            if not _may_read(collection, reader) or is_exercise(collection):
                continue
            cursor = cursors.get(collection.collection_id)
            while True:
                page = _page(tx, collection, replace(query, cursor=cursor), view)
                served.extend((collection.collection_id, item) for item in page.items)
                if page.items:
                    last = page.items[-1].row
                    cursor = Cursor(last.date_added, last.seq)
                if not page.more:
                    break
            if cursor is not None:
                advanced[collection.collection_id] = cursor
    return served, advanced


def find_everywhere(
    hub: Hub,
    reader: Organisation,
    query: ObjectQuery,
    limit: int | None = None,
    *,
    include_exercises: bool = False,
) -> list[tuple[str, Served]]:
    """``(collection id, served)`` for what ``query`` selects in every collection the reader
    may read, through ``_page`` (the policy and ``domain.references``), in one transaction;
    at most ``limit`` items in all (every one when None). Sightings, correlation and
    clusters read through here. Exercise collections are left out (``is_exercise``) unless
    ``include_exercises``."""
    view = reader_filter(reader)
    found: list[tuple[str, Served]] = []
    page_size = min(INDICATOR_PAGE, limit + 1) if limit is not None else INDICATOR_PAGE
    with hub.store.read() as tx:
        for collection in tx.collections():
            if not _may_read(collection, reader):
                continue
            if is_exercise(collection) and not include_exercises:
                continue
            cursor = None
            while limit is None or len(found) < limit:
                page = _page(tx, collection, replace(query, cursor=cursor, limit=page_size), view)
                found.extend((collection.collection_id, item) for item in page.items)
                if not page.more:
                    break
                last = page.items[-1].row
                cursor = Cursor(last.date_added, last.seq)
    return found if limit is None else found[:limit]


def object_anywhere(hub: Hub, reader: Organisation, object_id: str) -> tuple[str, Served]:
    """The newest version the reader may read of ``object_id`` in any collection it may
    read, exercise collections included (the most recently added if several collections
    hold it); ``NotFound`` if none."""
    found = find_everywhere(
        hub, reader, ObjectQuery(ids=frozenset({object_id})), include_exercises=True
    )
    if not found:
        raise NotFound(f"no object {object_id}")
    return max(found, key=lambda item: (item[1].row.version, item[1].row.date_added))
