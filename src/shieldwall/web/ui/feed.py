"""The feed (what the signed-in organisation may read, newest first, filtered and paged) and
one object's page (its facts, score, sightings, ATT&CK techniques, related objects and a
"report a sighting" form).

Contract: every object shown was served by ``services.reading`` (directly, or through
``sightings``, ``assessment`` and ``correlation``, which read through it) with the session's
organisation as reader, so the sharing policy is the API's; an object the reader may not
read is a 404 page. Nothing here decides who sees what.

Paging is TAXII's stateless keyset cursor over one collection (``ObjectQuery.newest_first``
reads the paging index backwards): ``next`` continues to older objects, ``newer`` (a cursor
over the same filters in ascending order) back to newer ones, so both directions cost
O(page). Relative time windows ("last 7 days") are anchored at ``at`` (the moment the first
page was read) so that every page of one listing has the same filters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import InvalidInput, NotFound, ShieldwallError
from shieldwall.domain.extraction import attack
from shieldwall.domain.indicators import matchable
from shieldwall.domain.organisations import Organisation, Role, Sector, parse_country
from shieldwall.domain.queries import (
    Cursor,
    ObjectQuery,
    decode_cursor,
    encode_cursor,
    parse_types,
)
from shieldwall.domain.references import reference_ids
from shieldwall.domain.scope import scope_of
from shieldwall.domain.sightings import NewSighting
from shieldwall.domain.stix_validation import META_TYPES, SCO_TYPES, SDO_TYPES, SRO_TYPES
from shieldwall.domain.timestamps import format_timestamp, parse_timestamp
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, assessment, correlation, reading, sightings
from shieldwall.services.accounts import SessionInfo
from shieldwall.services.admin import DEFAULT_COLLECTION_ALIAS
from shieldwall.services.context import Hub
from shieldwall.web.deps import hub_of
from shieldwall.web.errors import status_of
from shieldwall.web.ui.session import Actor, Viewer, redirect_with
from shieldwall.web.ui.templating import is_htmx, render, safe_url, scope_words

# no prefix: ``home.router`` (under ``/ui``) includes these routes, so ``routes.install_ui``
# adds the whole area with one router
router = APIRouter(include_in_schema=False)

DAY = 86_400_000_000
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
TITLE_LENGTH = 160
MAX_QUERY = 200
RELATED_SHOWN = 50
VERSIONS_CAP = 1000
NEIGHBOURS_CAP = 500
WINDOWS: Mapping[str, tuple[int, str]] = {
    "24h": (DAY, "the last 24 hours"),
    "7d": (7 * DAY, "the last 7 days"),
    "30d": (30 * DAY, "the last 30 days"),
}
ANONYMOUS_MEMBER = "anonymous member"
NOT_STATED = "not named"
TYPE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Intelligence (domain objects)", tuple(sorted(SDO_TYPES))),
    ("Observables (cyber-observable objects)", tuple(sorted(SCO_TYPES))),
    ("Relationships and sightings", tuple(sorted(SRO_TYPES))),
    ("Definitions", tuple(sorted(META_TYPES))),
)
# The feed without a type (and the dashboard's "intelligence"): domain and cyber-observable
# objects, without identities (members and the hub), relationships and sightings (shown on
# the objects they link), and definitions (TLP markings, extensions: every collection
# carries them). ``type=all`` lists everything, custom types included.
ALL_TYPES = "all"
INTELLIGENCE = frozenset((SDO_TYPES - {"identity"}) | SCO_TYPES)
# What a member reports sightings of here (STIX allows any SDO; these are what is seen).
SIGHTABLE = frozenset(
    {
        "indicator",
        "malware",
        "tool",
        "infrastructure",
        "threat-actor",
        "intrusion-set",
        "campaign",
        "attack-pattern",
    }
)
_TECHNIQUE = re.compile(r"^T\d{4}(?:\.\d{3})?$")


# --- presenting objects ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One object in a list: what the feed and the dashboard show of it."""

    stix_id: str
    stix_type: str
    title: str
    tlp: int
    scope: str
    shared_by: str
    added: int


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def short(text: str, length: int = TITLE_LENGTH) -> str:
    """``text`` on one line, cut to ``length`` characters (with an ellipsis)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def title_of(obj: Mapping[str, object]) -> str:
    """What names an object in a list: its name, pattern or value, else a description of
    what it is (``malware uses attack-pattern``, ``sighting of indicator--…``)."""
    for key in ("name", "pattern", "value", "abstract", "opinion", "path", "key", "number"):
        found = obj.get(key)
        if isinstance(found, (str, int)) and not isinstance(found, bool) and str(found).strip():
            return short(str(found))
    kind = obj.get("type")
    if kind == "relationship":
        source = str(obj.get("source_ref", "")).split("--")[0]
        target = str(obj.get("target_ref", "")).split("--")[0]
        return f"{source} {obj.get('relationship_type', 'related-to')} {target}"
    if kind == "sighting":
        return short(f"sighting of {obj.get('sighting_of_ref', '')}")
    hashes = obj.get("hashes")
    if isinstance(hashes, dict) and hashes:
        algorithm, value = sorted(hashes.items())[0]
        return short(f"{algorithm} {value}")
    for key in ("description", "content"):
        found = _text(obj.get(key))
        if found:
            return short(found)
    return str(obj.get("id", ""))


def _is_anonymous_identity(identity: Mapping[str, object]) -> bool:
    """The hub's own "Anonymous member" identity (published by the hub, so it has no
    ``created_by_ref``); anonymous submissions carry it as their ``created_by_ref``."""
    return (
        identity.get("identity_class") == "group"
        and "created_by_ref" not in identity
        and identity.get("name") == "Anonymous member"
    )


@dataclass(frozen=True, slots=True)
class People:
    """Names for identities and submitters: ``names`` maps identity ids (organisations, and
    identity objects the reader may read) to names; ``by_org`` organisation ids to names."""

    names: dict[str, str]
    by_org: dict[int, str]

    def shared_by(self, obj: Mapping[str, object], row: reading.Served) -> str:
        """Who shared the object: its ``created_by_ref`` (the hub's anonymous identity reads
        "anonymous member"), else its attributed submitter, else "not named"."""
        creator = obj.get("created_by_ref")
        if isinstance(creator, str):
            return self.names.get(creator, "an identity not on this hub")
        submitter = row.row.submitter_org_id
        if submitter is not None and submitter in self.by_org:
            return self.by_org[submitter]
        return NOT_STATED


def people(
    hub: Hub,
    reader: Organisation,
    bodies: Iterable[Mapping[str, object]],
    organisations: Sequence[Organisation] | None = None,
) -> People:
    """Names for the creators of ``bodies``: organisations first, then identity objects the
    reader may read (through ``reading``) for the other ``created_by_ref`` values."""
    orgs = admin.list_organisations(hub) if organisations is None else organisations
    names = {o.identity_id: o.name for o in orgs}
    unknown = {
        ref
        for body in bodies
        if isinstance(ref := body.get("created_by_ref"), str) and ref not in names
    }
    if unknown:
        query = ObjectQuery(ids=frozenset(unknown), types=frozenset({"identity"}))
        for _, served in reading.find_everywhere(hub, reader, query, include_exercises=True):
            identity = orjson.loads(served.body)
            name = _text(identity.get("name")) or served.row.stix_id
            names[served.row.stix_id] = (
                ANONYMOUS_MEMBER if _is_anonymous_identity(identity) else name
            )
    return People(names, {o.id: o.name for o in orgs})


def rows_of(
    hub: Hub,
    reader: Organisation,
    served: Sequence[reading.Served],
    organisations: Sequence[Organisation] | None = None,
) -> list[Row]:
    """The list rows of ``served`` (objects ``reading`` gave this reader), in order."""
    bodies = [orjson.loads(item.body) for item in served]
    found = people(hub, reader, bodies, organisations)
    return [
        Row(
            stix_id=item.row.stix_id,
            stix_type=item.row.stix_type,
            title=title_of(body),
            tlp=item.row.tlp,
            scope=scope_words(scope_of(body), found.names),
            shared_by=found.shared_by(body, item),
            added=item.row.date_added,
        )
        for item, body in zip(served, bodies, strict=True)
    ]


# --- the feed --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedFilters:
    """The feed's filters as the form sends them (kept as typed, to show them back)."""

    collection: str = DEFAULT_COLLECTION_ALIAS
    type: str = ""
    tlp: tuple[str, ...] = ()
    sector: str = ""
    country: str = ""
    since: str = ""
    since_date: str = ""
    q: str = ""
    limit: int = PAGE_SIZE

    def params(self, at: int | None = None) -> list[tuple[str, str]]:
        """The non-default filters as query parameters (``at`` anchors a time window)."""
        found: list[tuple[str, str]] = []
        if self.collection != DEFAULT_COLLECTION_ALIAS:
            found.append(("collection", self.collection))
        for name in ("type", "sector", "country", "since", "since_date", "q"):
            value = getattr(self, name)
            if value:
                found.append((name, value))
        found.extend(("tlp", level) for level in self.tlp)
        if self.limit != PAGE_SIZE:
            found.append(("limit", str(self.limit)))
        if at is not None and self.since:
            found.append(("at", str(at)))
        return found

    def url(self, at: int | None = None, **position: str) -> str:
        """``/ui/feed`` with these filters, plus ``next``/``newer`` when given."""
        pairs = self.params(at) + [(k, v) for k, v in position.items() if v]
        return "/ui/feed" + ("?" + urlencode(pairs) if pairs else "")

    @property
    def active(self) -> bool:
        """Whether any filter narrows the listing."""
        return bool(
            self.type
            or self.tlp
            or self.sector
            or self.country
            or self.since
            or self.since_date
            or self.q
        )


def _midnight(text: str) -> int:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date: write it as YYYY-MM-DD") from None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


def feed_query(filters: FeedFilters, at: int) -> ObjectQuery:
    """The newest-first query for ``filters`` (a window counted back from ``at``); raises
    ``InvalidInput`` naming the first filter that is not valid."""
    if filters.type == ALL_TYPES:
        types: frozenset[str] = frozenset()
    else:
        types = parse_types(filters.type) if filters.type else INTELLIGENCE
    try:
        levels = frozenset(int(Tlp.parse(level)) for level in filters.tlp)
    except (ValueError, KeyError, InvalidInput):
        raise InvalidInput("choose TLP levels from the list") from None
    sectors = frozenset({Sector.parse(filters.sector).value}) if filters.sector else frozenset()
    countries = frozenset({parse_country(filters.country)}) if filters.country else frozenset()
    bounds: list[int] = []
    if filters.since:
        if filters.since not in WINDOWS:
            raise InvalidInput("choose a time window from the list")
        bounds.append(at - WINDOWS[filters.since][0])
    if filters.since_date:
        bounds.append(_midnight(filters.since_date) - 1)  # added_after is strict
    if len(filters.q) > MAX_QUERY:
        raise InvalidInput(f"search for at most {MAX_QUERY} characters")
    if not 1 <= filters.limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"show between 1 and {MAX_PAGE_SIZE} objects a page")
    return ObjectQuery(
        types=types,
        tlps=levels,
        text=filters.q.strip() or None,
        added_after=max(bounds) if bounds else None,
        limit=filters.limit,
        submitter_sectors=sectors,
        submitter_countries=countries,
        newest_first=True,
    )


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of the feed: rows newest first, and links to older and newer pages."""

    rows: list[Row]
    older_url: str | None
    newer_url: str | None
    newest_url: str | None


def _position(served: reading.Served) -> Cursor:
    return Cursor(served.row.date_added, served.row.seq)


def listing(
    hub: Hub,
    reader: Organisation,
    filters: FeedFilters,
    query: ObjectQuery,
    at: int,
    older: str | None,
    newer: str | None,
    organisations: Sequence[Organisation] | None = None,
) -> Listing:
    """The page ``older`` (a ``next`` token: objects before it) or ``newer`` (objects after
    it) names, else the newest page, of ``query`` over ``filters.collection``."""
    ascending = replace(query, newest_first=False)
    if newer:
        page = reading.list_objects(
            hub,
            reader,
            filters.collection,
            replace(ascending, cursor=decode_cursor(newer, ascending.fingerprint())),
        )
        items = list(reversed(page.items))
        newer_token = page.next_token
        older_token = encode_cursor(_position(items[-1]), query.fingerprint()) if items else None
    else:
        cursor = decode_cursor(older, query.fingerprint()) if older else None
        page = reading.list_objects(hub, reader, filters.collection, replace(query, cursor=cursor))
        items = page.items
        older_token = page.next_token
        newer_token = None
        if cursor is not None:
            # newer than the newest row shown (or, on an empty page, from the row the
            # cursor names: the oldest row of the page before)
            start = (
                _position(items[0]) if items else Cursor(cursor.date_added, max(0, cursor.seq - 1))
            )
            newer_token = encode_cursor(start, ascending.fingerprint())
    first_page = not older and not newer
    return Listing(
        rows_of(hub, reader, items, organisations),
        filters.url(at, next=older_token) if older_token else None,
        filters.url(at, newer=newer_token) if newer_token else None,
        None if first_page else filters.url(),
    )


def _collections(hub: Hub, reader: Organisation) -> list[tuple[str, str]]:
    """(value, label) of the collections the reader may list objects of (those it may only
    write to are left out of the choice; ``reading`` refuses them anyway)."""
    found: list[tuple[str, str]] = []
    for collection in reading.readable_collections(hub, reader):
        if not (collection.members_can_read or reader.role is Role.OPERATOR):
            continue
        value = collection.alias or collection.collection_id
        label = collection.title + (" (exercise)" if reading.is_exercise(collection) else "")
        found.append((value, label))
    return found


def _chosen_levels(values: Iterable[str]) -> set[Tlp]:
    """The TLP levels ticked (ignoring any that do not parse: the query reports those)."""
    chosen: set[Tlp] = set()
    for value in values:
        try:
            chosen.add(Tlp.parse(value))
        except (ValueError, KeyError, InvalidInput):
            continue
    return chosen


def _wants_fragment(request: Request) -> bool:
    """htmx asked for the results only (not when it restores a page from history)."""
    return is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"


@router.get("/feed")
def feed(
    request: Request,
    session: Viewer,
    collection: Annotated[str, Query(max_length=300)] = DEFAULT_COLLECTION_ALIAS,
    type: Annotated[str, Query(max_length=300)] = "",
    tlp: Annotated[list[str] | None, Query()] = None,
    sector: Annotated[str, Query(max_length=40)] = "",
    country: Annotated[str, Query(max_length=10)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    since_date: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=1000)] = "",
    limit: Annotated[str, Query(max_length=10)] = "",
    next: Annotated[str, Query(max_length=200)] = "",
    newer: Annotated[str, Query(max_length=200)] = "",
    at: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Objects the organisation may read in one collection (default: the shared one),
    newest first, filtered by type, TLP, submitter sector and country, time and text. An
    htmx request gets the ``results`` block only."""
    hub = hub_of(request)
    reader = session.account.organisation
    now = hub.clock.now()
    anchor = int(at) if at.isdigit() and 0 < int(at) <= now and (next or newer) else now
    size = int(limit) if limit.isdigit() else (PAGE_SIZE if not limit else -1)
    filters = FeedFilters(
        collection=collection.strip() or DEFAULT_COLLECTION_ALIAS,
        type=type.strip(),
        tlp=tuple(t for t in (tlp or []) if t),
        sector=sector.strip(),
        country=country.strip(),
        since=since.strip(),
        since_date=since_date.strip(),
        q=q,
        limit=size,
    )
    error = ""
    status = 200
    found: Listing | None = None
    organisations = admin.list_organisations(hub)
    try:
        query = feed_query(filters, anchor)
        found = listing(
            hub, reader, filters, query, anchor, next or None, newer or None, organisations
        )
    except NotFound:
        error = f"there is no collection {filters.collection!r} you may read"
        status = 404
    except ShieldwallError as exc:
        error = exc.message
        status = status_of(exc)[0]
    collections = _collections(hub, reader)
    context = {
        "filters": filters,
        "listing": found,
        "error": error,
        "collections": collections,
        "collection_label": dict(collections).get(filters.collection, filters.collection),
        "type_groups": TYPE_GROUPS,
        "sectors": [s.value for s in Sector],
        "countries": sorted({o.country for o in organisations}),
        "windows": [(key, words) for key, (_, words) in WINDOWS.items()],
        "levels": list(Tlp),
        "chosen_tlps": _chosen_levels(filters.tlp),
        "clear_url": FeedFilters(collection=filters.collection, limit=filters.limit).url(),
        "page_size": PAGE_SIZE,
        "max_query": MAX_QUERY,
    }
    fragment = "results" if _wants_fragment(request) else None
    response = render(
        request, "feed/feed.html", context, session=session, status=status, fragment=fragment
    )
    if fragment is not None:
        response.headers["Vary"] = "HX-Request"
    return response


# --- one object ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reference:
    """An external reference; ``url`` only when it is http(s) (else ``url_text``)."""

    source_name: str
    external_id: str
    description: str
    url: str | None
    url_text: str


@dataclass(frozen=True, slots=True)
class Technique:
    """An ATT&CK technique (or other ATT&CK entity) the object names or relates to;
    ``object_id`` when it is an attack-pattern object the reader may read."""

    external_id: str
    name: str
    url: str | None
    object_id: str | None = None


def references_of(obj: Mapping[str, object]) -> list[Reference]:
    """The object's external references."""
    found: list[Reference] = []
    items = obj.get("external_references")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        url = item.get("url")
        found.append(
            Reference(
                str(item.get("source_name", "")),
                str(item.get("external_id", "")),
                str(item.get("description", "")),
                safe_url(url),
                str(url) if isinstance(url, str) else "",
            )
        )
    return found


def _attack_reference(item: Mapping[str, object]) -> Technique | None:
    if item.get("source_name") != "mitre-attack":
        return None
    external_id = item.get("external_id")
    if not isinstance(external_id, str) or not external_id.strip():
        return None
    external_id = external_id.strip()
    record = attack.technique(external_id) if _TECHNIQUE.match(external_id.upper()) else None
    name = record.name if record is not None else str(item.get("description") or "")
    url = safe_url(item.get("url")) or (record.url if record is not None else None)
    return Technique(external_id, name, url)


@dataclass(frozen=True, slots=True)
class Linked:
    """A relationship of the object: its type, whether it points from the object
    (``outgoing``) and the other end (``other`` is None when no object the reader may
    read has that id, e.g. one the hub does not hold)."""

    relationship_id: str
    relationship_type: str
    outgoing: bool
    other_id: str
    other: Row | None


@dataclass(frozen=True, slots=True)
class Neighbours:
    """What the object refers to (readable objects as rows; ids of objects this hub does
    not hold), its relationships, and its ATT&CK entries. ``more``: a bound was reached."""

    refers_to: list[Row]
    unresolved: list[str]
    relationships: list[Linked]
    techniques: list[Technique]
    more: bool


def neighbours(
    hub: Hub, reader: Organisation, obj: Mapping[str, object], organisations: Sequence[Organisation]
) -> Neighbours:
    """The objects around ``obj``, read through ``reading``: those its references name
    (``domain.references.reference_ids``: ``object_refs``, ``source_ref``,
    ``sighting_of_ref``...), the relationships that refer to it and their other ends, and
    its ATT&CK entries (its own ``mitre-attack`` references, techniques named from the
    packaged ATT&CK data as report intake does, and the attack-pattern objects among its
    neighbours). At most ``NEIGHBOURS_CAP`` of each."""
    stix_id = str(obj.get("id", ""))
    referenced = sorted(reference_ids(dict(obj)))
    more = len(referenced) > NEIGHBOURS_CAP
    referenced = referenced[:NEIGHBOURS_CAP]
    relationships: dict[str, dict[str, object]] = {}
    if obj.get("type") != "relationship":
        query = ObjectQuery(types=frozenset({"relationship"}), refers_to=frozenset({stix_id}))
        found = reading.find_everywhere(hub, reader, query, limit=NEIGHBOURS_CAP + 1)
        more = more or len(found) > NEIGHBOURS_CAP
        for _, served in found[:NEIGHBOURS_CAP]:
            relationships[served.row.stix_id] = orjson.loads(served.body)
    ends: dict[str, tuple[str, bool]] = {}
    for rel_id, rel in relationships.items():
        source, target = rel.get("source_ref"), rel.get("target_ref")
        if source == stix_id and isinstance(target, str):
            ends[rel_id] = (target, True)
        elif target == stix_id and isinstance(source, str):
            ends[rel_id] = (source, False)
    wanted = frozenset(referenced) | {other for other, _ in ends.values()}
    served_by_id: dict[str, reading.Served] = {}
    if wanted:
        for _, item in reading.find_everywhere(hub, reader, ObjectQuery(ids=wanted)):
            known = served_by_id.get(item.row.stix_id)
            if known is None or known.row.date_added < item.row.date_added:
                served_by_id[item.row.stix_id] = item
    rows = {r.stix_id: r for r in rows_of(hub, reader, list(served_by_id.values()), organisations)}
    techniques: dict[str, Technique] = {}
    items = obj.get("external_references")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and (technique := _attack_reference(item)) is not None:
            techniques.setdefault(technique.external_id, technique)
    for other_id, served in served_by_id.items():
        if served.row.stix_type != "attack-pattern":
            continue
        pattern = orjson.loads(served.body)
        named = [
            t
            for ref in pattern.get("external_references") or []
            if isinstance(ref, dict) and (t := _attack_reference(ref)) is not None
        ]
        external_id = named[0].external_id if named else ""
        techniques[external_id or other_id] = Technique(
            external_id,
            _text(pattern.get("name")) or (named[0].name if named else ""),
            named[0].url if named else None,
            other_id,
        )
    linked = [
        Linked(
            rel_id,
            str(relationships[rel_id].get("relationship_type", "related-to")),
            out,
            other,
            rows.get(other),
        )
        for rel_id, (other, out) in ends.items()
    ]
    linked.sort(
        key=lambda link: (link.relationship_type, link.other.title if link.other else link.other_id)
    )
    return Neighbours(
        refers_to=sorted(
            (rows[i] for i in referenced if i in rows), key=lambda r: (r.stix_type, r.title)
        ),
        unresolved=[i for i in referenced if i not in rows],
        relationships=linked,
        techniques=sorted(techniques.values(), key=lambda t: (t.external_id or "~", t.name)),
        more=more,
    )


def _moment(obj: Mapping[str, object], name: str) -> tuple[str, int | None, str] | None:
    value = obj.get(name)
    if not isinstance(value, str):
        return None
    try:
        return name.replace("_", " "), parse_timestamp(value), value
    except InvalidInput:
        return name.replace("_", " "), None, value


TIMES = ("created", "modified", "valid_from", "valid_until", "first_seen", "last_seen", "published")
SHOWN_ELSEWHERE = frozenset(
    {
        "type",
        "spec_version",
        "id",
        "name",
        "description",
        "pattern",
        "labels",
        "external_references",
        "kill_chain_phases",
        "created_by_ref",
        "object_marking_refs",
        "extensions",
        *TIMES,
    }
)


def _standing(
    obj: Mapping[str, object], live: bool, expired_reason: str | None, warned: bool, ok: bool
) -> str:
    if matchable(obj) is None:
        if obj.get("revoked") is True:
            return "Out of matching: revoked by its creator."
        return "Out of matching: it has no STIX pattern."
    if warned and not ok:
        return (
            "Out of matching: it names a value on a warning list (probably benign) and its"
            " submitter has not confirmed it."
        )
    if not live:
        return f"Expired: {expired_reason}. It is no longer matched or exported."
    return "Live: matched, looked up and exported to members who may read it."


def detail(hub: Hub, reader: Organisation, stix_id: str) -> dict[str, object]:
    """Everything the object page shows; ``NotFound`` when the reader may not read it."""
    collection_id, served = reading.object_anywhere(hub, reader, stix_id)
    obj = orjson.loads(served.body)
    organisations = admin.list_organisations(hub)
    found = people(hub, reader, [obj], organisations)
    scope = scope_of(obj)
    now = hub.clock.now()
    is_indicator = served.row.stix_type == "indicator"
    context: dict[str, object] = {
        "object": obj,
        "stix_id": served.row.stix_id,
        "stix_type": served.row.stix_type,
        "title": title_of(obj),
        "name": _text(obj.get("name")),
        "description": _text(obj.get("description")),
        "pattern": obj.get("pattern") if isinstance(obj.get("pattern"), str) else None,
        "pattern_type": str(obj.get("pattern_type", "")),
        "tlp": Tlp(served.row.tlp),
        "scope": scope_words(scope, found.names),
        "community": scope.is_community,
        "shared_by": found.shared_by(obj, served),
        "added": served.row.date_added,
        "collection": collection_id,
        "times": [t for name in TIMES if (t := _moment(obj, name)) is not None],
        "labels": [str(label) for label in obj.get("labels") or [] if isinstance(label, str)],
        "references": references_of(obj),
        "kill_chain": [
            (str(p.get("kill_chain_name", "")), str(p.get("phase_name", "")))
            for p in obj.get("kill_chain_phases") or []
            if isinstance(p, dict)
        ],
        "around": neighbours(hub, reader, obj, organisations),
        "other_properties": [
            (key, plain(value))
            for key, value in obj.items()
            if key not in SHOWN_ELSEWHERE
            and not key.startswith("x_")
            and not key.endswith(("_ref", "_refs"))  # under "Refers to"
        ][:30],
        "raw": orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode(),
        "neighbours_cap": NEIGHBOURS_CAP,
        "sightable": served.row.stix_type in SIGHTABLE,
        "score": None,
        "standing": None,
        "warnings": [],
    }
    summary = sightings.summary(hub, reader, stix_id)
    context["sightings"] = summary
    if is_indicator:
        scored = assessment.score_of(hub, obj, summary, now)
        hits = assessment.warnings_of(hub, obj)
        warned = served.row.seq in assessment.warned(hub, [served.row.seq])
        ok = stix_id in assessment.confirmed(hub, [stix_id])
        context["score"] = scored
        context["standing"] = _standing(obj, not scored.expired, scored.reason, warned, ok)
        context["warnings"] = assessment.hits_json(hits)
    related = correlation.related(hub, reader, stix_id, hub.config.correlation_cap)
    context["related"] = [(r, Tlp.parse(r.tlp)) for r in related.related[:RELATED_SHOWN]]
    context["correlation_cap"] = hub.config.correlation_cap
    context["related_total"] = len(related.related)
    context["too_common"] = related.too_common
    ids = frozenset({stix_id} | {r.stix_id for r in related.related})
    context["containers"] = correlation.containers(hub, reader, ids)
    versions = reading.list_versions(
        hub, reader, collection_id, stix_id, ObjectQuery(limit=VERSIONS_CAP)
    )
    context["versions"] = len(versions.items)
    context["versions_more"] = versions.more
    return context


def _object_page(
    request: Request,
    session: SessionInfo,
    stix_id: str,
    *,
    form: Mapping[str, object] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    context = detail(hub_of(request), session.account.organisation, stix_id)
    context["form"] = form or {"count": "1", "anonymous": False, "false_positive": False}
    context["error"] = error
    return render(request, "feed/object.html", context, session=session, status=status)


@router.get("/objects/{stix_id}")
def object_page(request: Request, session: Viewer, stix_id: str) -> HTMLResponse:
    """One object the organisation may read (a 404 page otherwise)."""
    return _object_page(request, session, stix_id)


@router.post("/objects/{stix_id}/sightings")
async def report_sighting(
    request: Request,
    session: Actor,
    stix_id: str,
    count: Annotated[str, Form(max_length=20)] = "1",
    anonymous: Annotated[str, Form(max_length=10)] = "",
    false_positive: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record a sighting of the object (``services.sightings.record``, as ``POST
    /api/v1/sightings`` does), attributed or anonymous to members, and go back to it."""
    hub = hub_of(request)
    reader = session.account.organisation
    form = {"count": count, "anonymous": bool(anonymous), "false_positive": bool(false_positive)}
    try:
        if not count.strip().isdigit():
            raise InvalidInput("count must be a whole number between 1 and 999999999")
        report = NewSighting(stix_id, int(count.strip()), None, None, bool(false_positive), None)
        attribution = Attribution.ANONYMOUS if anonymous else Attribution.ATTRIBUTED
        recorded = await run_in_threadpool(
            sightings.record, hub, reader, [report], attribution, None, None
        )
        if not recorded.sightings:
            raise InvalidInput(
                "the sighting was not stored: "
                + "; ".join(
                    str(d.get("message", ""))
                    for d in orjson.loads(recorded.status.details).get("failures", [])
                )
            )
    except NotFound:
        raise
    except ShieldwallError as exc:
        return await run_in_threadpool(
            _object_page,
            request,
            session,
            stix_id,
            form=form,
            error=exc.message,
            status=status_of(exc)[0],
        )
    what = "false-positive report" if false_positive else "sighting"
    who = "anonymously (counted, never named)" if anonymous else f"as {reader.name}"
    return redirect_with(f"/ui/objects/{stix_id}", f"Your {what} was recorded {who}.")


def plain(value: object) -> str:
    """A property value in words: text as is, lists of text joined with commas, anything
    else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(str(item) for item in value)
    return orjson.dumps(value).decode()


def day_of(micros: int) -> str:
    """``2026-11-23`` (UTC) of a moment."""
    return format_timestamp(micros)[:10]
