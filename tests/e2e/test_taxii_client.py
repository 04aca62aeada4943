"""End to end with the real ``taxii2-client`` against a live ``shieldwall serve`` process.

Every response the client receives passes through :class:`Conformance` (a ``requests``
response hook): its Content-Type must be TAXII 2.1, its body must follow the TAXII 2.1
resource rules (§3.6.1 error, §4.1 discovery, §4.2 API root, §4.3.1 status, §5.1
collections, §5.2 collection, §5.3 manifest, §3.7 envelope, §5.8 versions), and every
STIX object in it must pass ``stix2-validator``. The tests then check what the filters,
paging, versions, status and deletion return against the manifest and each other.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from conftest import OASIS_EXAMPLES, LiveServer

pytestmark = [pytest.mark.slow]

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
TIMESTAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$")
IDENTIFIER = re.compile(
    r"^[a-z][a-z0-9-]*[a-z0-9]--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
TLP2_IDS = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP1_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    TLP1_AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 §2.9


# --------------------------------------------------------------------------- helpers


def micros(text: str) -> int:
    """An RFC 3339 UTC timestamp as microseconds since the epoch (exact, no float)."""
    match = TIMESTAMP.match(text)
    assert match, f"{text!r} is not an RFC 3339 UTC timestamp"
    moment = datetime(*(int(g) for g in match.groups()[:6]), tzinfo=UTC)
    fraction = ((match.group(7) or "") + "000000")[:6]
    return int(moment.timestamp()) * 1_000_000 + int(fraction)


def stix_version(obj: dict[str, Any]) -> str | None:
    """The TAXII version of a STIX object: ``modified``, else ``created`` (None for SCOs)."""
    value = obj.get("modified", obj.get("created"))
    return str(value) if value is not None else None


def oasis_bundles() -> list[tuple[str, dict[str, Any]]]:
    paths = sorted(Path(OASIS_EXAMPLES).glob("*.json"))
    assert paths, f"no OASIS example bundles in {OASIS_EXAMPLES}"
    return [(p.name, json.loads(p.read_text())) for p in paths]


def indicator(
    modified: str = "2024-01-01T00:00:00.000Z", *, oid: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid or f"indicator--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "name": "e2e indicator",
        "pattern": "[ipv4-addr:value = '203.0.113.7']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    body.update(extra)
    return body


# ------------------------------------------------------------------ TAXII 2.1 rules

Check = Callable[[object, str], None]


def _string(value: object, where: str) -> None:
    assert isinstance(value, str), f"{where} must be a string, not {value!r}"


def _nonempty_string(value: object, where: str) -> None:
    assert isinstance(value, str), f"{where} must be a string, not {value!r}"
    assert value.strip(), f"{where} must not be empty"


def _boolean(value: object, where: str) -> None:
    assert isinstance(value, bool), f"{where} must be a boolean, not {value!r}"


def _count(value: object, where: str) -> None:
    assert isinstance(value, int), f"{where} must be an integer, not {value!r}"
    assert not isinstance(value, bool), f"{where} must be an integer, not {value!r}"
    assert value >= 0, f"{where} must not be negative"


def _timestamp(value: object, where: str) -> None:
    assert isinstance(value, str), f"{where} must be a timestamp string, not {value!r}"
    assert TIMESTAMP.match(value), f"{where}: {value!r} is not an RFC 3339 UTC timestamp"
    micros(value)


def _identifier(value: object, where: str) -> None:
    assert isinstance(value, str), f"{where} must be a STIX identifier, not {value!r}"
    assert IDENTIFIER.match(value), f"{where}: {value!r} is not a STIX identifier"


def _list_of(check: Check) -> Check:
    def checker(value: object, where: str) -> None:
        assert isinstance(value, list), f"{where} must be a list, not {value!r}"
        for index, item in enumerate(value):
            check(item, f"{where}[{index}]")

    return checker


def _resource(required: dict[str, Check], optional: dict[str, Check]) -> Check:
    """A TAXII resource: a JSON object with these properties and no others."""

    def checker(value: object, where: str) -> None:
        assert isinstance(value, dict), f"{where} must be a JSON object, not {value!r}"
        missing = sorted(set(required) - set(value))
        assert not missing, f"{where} lacks required properties {missing}: {value}"
        unknown = sorted(set(value) - set(required) - set(optional))
        assert not unknown, f"{where} has properties TAXII 2.1 does not define: {unknown}"
        for key, item in value.items():
            (required.get(key) or optional[key])(item, f"{where}.{key}")

    return checker


def _json_object(value: object, where: str) -> None:
    assert isinstance(value, dict), f"{where} must be a JSON object, not {value!r}"


def _stix_media_type(value: object, where: str) -> None:
    assert value == STIX, f"{where} must be {STIX}, not {value!r}"


def _status_details(value: object, where: str) -> None:
    # TAXII 2.1 §4.3.1: id and version are required.
    _resource({"id": _nonempty_string, "version": _timestamp}, {"message": _string})(value, where)


check_discovery = _resource(
    {"title": _nonempty_string},
    {
        "description": _string,
        "contact": _string,
        "default": _nonempty_string,
        "api_roots": _list_of(_nonempty_string),
    },
)
check_api_root = _resource(
    {"title": _nonempty_string, "versions": _list_of(_string), "max_content_length": _count},
    {"description": _string},
)
check_collection = _resource(
    {
        "id": _nonempty_string,
        "title": _nonempty_string,
        "can_read": _boolean,
        "can_write": _boolean,
    },
    {"description": _string, "alias": _nonempty_string, "media_types": _list_of(_string)},
)
check_collections = _resource({}, {"collections": _list_of(check_collection)})
check_manifest_record = _resource(
    {"id": _identifier, "date_added": _timestamp, "version": _timestamp},
    {"media_type": _stix_media_type},
)
_STATUS_REQUIRED: dict[str, Check] = {
    "id": _nonempty_string,
    "status": _string,
    "total_count": _count,
    "success_count": _count,
    "failure_count": _count,
    "pending_count": _count,
}
_STATUS_OPTIONAL: dict[str, Check] = {
    "request_timestamp": _timestamp,
    "successes": _list_of(_status_details),
    "failures": _list_of(_status_details),
    "pendings": _list_of(_status_details),
}
check_error = _resource(
    {"title": _nonempty_string},
    {
        "description": _string,
        "error_id": _string,
        "error_code": _string,
        "http_status": _string,
        "external_details": _string,
        "details": _json_object,
    },
)


def _paged(items_key: str, item_check: Check) -> Check:
    """Envelope, manifest and versions resources: ``more``, ``next`` when more, items."""
    base = _resource({}, {"more": _boolean, "next": _nonempty_string, items_key: item_check})

    def checker(value: object, where: str) -> None:
        base(value, where)
        assert isinstance(value, dict)
        assert "more" in value, f"{where}: this server always says whether there is more"
        assert ("next" in value) == value["more"], f"{where}: next must be given iff more"

    return checker


check_envelope = _paged("objects", _list_of(_json_object))
check_manifest = _paged("objects", _list_of(check_manifest_record))
check_versions = _paged("versions", _list_of(_timestamp))


def check_status(value: object, where: str = "status") -> None:
    _resource(_STATUS_REQUIRED, _STATUS_OPTIONAL)(value, where)
    assert isinstance(value, dict)
    assert value["status"] in ("complete", "pending"), value["status"]
    assert (value["status"] == "complete") == (value["pending_count"] == 0)
    for name in ("success", "failure", "pending"):
        listed = value.get(f"{name}es" if name == "success" else f"{name}s")
        if listed is not None:
            assert len(listed) == value[f"{name}_count"], f"{where}: {name} count mismatch"
    assert value["total_count"] == (
        value["success_count"] + value["failure_count"] + value["pending_count"]
    )


_validated: set[str] = set()


def assert_valid_stix(obj: object) -> None:
    """``stix2-validator`` (STIX 2.1) must accept ``obj``; results are cached by content."""
    assert isinstance(obj, dict), f"not a STIX object: {obj!r}"
    key = json.dumps(obj, sort_keys=True)
    if key in _validated:
        return
    result = validate_instance(obj, ValidationOptions(version="2.1"))
    errors = [str(e) for e in result.errors]
    if not result.is_valid:
        print(json.dumps(obj, indent=1))
        for error in errors:
            print("stix2-validator:", error)
    assert result.is_valid, f"{obj.get('id')}: {errors}"
    _validated.add(key)


_ROUTES: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("discovery", r"^/taxii2/$"),
        ("api_root", r"^/taxii2/[^/]+/$"),
        ("status", r"^/taxii2/[^/]+/status/[^/]+/$"),
        ("collections", r"^/taxii2/[^/]+/collections/$"),
        ("collection", r"^/taxii2/[^/]+/collections/[^/]+/$"),
        ("manifest", r"^/taxii2/[^/]+/collections/[^/]+/manifest/$"),
        ("objects", r"^/taxii2/[^/]+/collections/[^/]+/objects/$"),
        ("object", r"^/taxii2/[^/]+/collections/[^/]+/objects/[^/]+/$"),
        ("versions", r"^/taxii2/[^/]+/collections/[^/]+/objects/[^/]+/versions/$"),
    )
]


def check_taxii_response(
    method: str, url: str, status: int, headers: Any, body: bytes
) -> dict[str, Any] | None:
    """Check one TAXII response against the rules above; return its JSON body."""
    path = urlsplit(url).path
    content_type = headers.get("content-type")
    assert content_type == TAXII, f"{method} {path} -> {status}: Content-Type {content_type!r}"
    if status >= 400:
        data = json.loads(body)
        check_error(data, f"error {method} {path}")
        assert data.get("http_status") == str(status), data
        assert data.get("description"), f"{method} {path}: the error does not say what is wrong"
        return dict(data)
    if method == "DELETE":
        assert status == 200, f"DELETE {path} -> {status}"
        return None
    kind = next((k for k, pattern in _ROUTES if pattern.match(path)), None)
    assert kind is not None, f"unexpected TAXII path {path}"
    data = json.loads(body)
    where = f"{method} {path}"
    if method == "POST":
        assert kind == "objects", f"unexpected {where}"
        assert status == 202, f"{where} -> {status}"
        check_status(data, where)
        return dict(data)
    assert status == 200, f"{where} -> {status}"
    if kind in ("objects", "object"):
        check_envelope(data, where)
        for obj in data.get("objects", []):
            assert_valid_stix(obj)
    checks: dict[str, Callable[[object, str], None]] = {
        "discovery": check_discovery,
        "api_root": check_api_root,
        "status": check_status,
        "collections": check_collections,
        "collection": check_collection,
        "manifest": check_manifest,
        "versions": check_versions,
    }
    if kind in checks:
        checks[kind](data, where)
    if kind in ("objects", "object", "manifest", "versions"):
        items = data.get("objects") or data.get("versions")
        first = headers.get("x-taxii-date-added-first")
        last = headers.get("x-taxii-date-added-last")
        if items:
            assert first, f"{where}: X-TAXII-Date-Added-First missing"
            assert last, f"{where}: X-TAXII-Date-Added-Last missing"
            _timestamp(first, "X-TAXII-Date-Added-First")
            _timestamp(last, "X-TAXII-Date-Added-Last")
            assert micros(first) <= micros(last)
        if kind == "manifest" and items:
            assert micros(first) == micros(items[0]["date_added"]), (first, items[0])
            assert micros(last) == micros(items[-1]["date_added"]), (last, items[-1])
    return dict(data)


class Conformance:
    """A ``requests`` response hook that checks every TAXII response the client gets."""

    def __init__(self) -> None:
        self.responses: list[requests.Response] = []

    def __call__(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        request = response.request
        check_taxii_response(
            str(request.method),
            str(request.url),
            response.status_code,
            response.headers,
            response.content,
        )
        self.responses.append(response)

    @property
    def last(self) -> requests.Response:
        return self.responses[-1]


# --------------------------------------------------------------------------- fixtures


class Client:
    """One organisation's view through taxii2-client, with every response checked."""

    def __init__(self, server: LiveServer, handle: str) -> None:
        self.key = server.keys[handle]
        self.server = Server(server.taxii, user="x", password=self.key)
        self.conformance = Conformance()
        self.server._conn.session.hooks["response"].append(self.conformance)
        root = self.server.default
        assert root is not None
        # Each ApiRoot has its own connection (shared by its collections): hook it too.
        root._conn.session.hooks["response"].append(self.conformance)
        self.api_root: ApiRoot = root
        shared = [c for c in self.api_root.collections if c.alias == "shared"]
        assert len(shared) == 1, [c.alias for c in self.api_root.collections]
        self.collection: Collection = shared[0]

    @property
    def last(self) -> requests.Response:
        return self.conformance.last

    def close(self) -> None:
        self.api_root.close()
        self.server.close()


@pytest.fixture(scope="module")
def clients(live_server: LiveServer) -> Iterator[dict[str, Client]]:
    made = {handle: Client(live_server, handle) for handle in ("us-bank", "gb-bank")}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(scope="module")
def us(clients: dict[str, Client]) -> Client:
    return clients["us-bank"]


@pytest.fixture(scope="module")
def gb(clients: dict[str, Client]) -> Client:
    return clients["gb-bank"]


@pytest.fixture(scope="module")
def loaded(us: Client) -> dict[str, Any]:
    """Every OASIS example bundle added by us-bank; the statuses and submitted objects."""
    statuses: dict[str, dict[str, Any]] = {}
    submitted: dict[tuple[str, str | None], dict[str, Any]] = {}
    successes = failures = 0
    for name, bundle in oasis_bundles():
        status = us.collection.add_objects(bundle)
        raw = status._raw
        statuses[name] = raw
        assert status.status == "complete", raw
        successes += raw["success_count"]
        failures += raw["failure_count"]
        assert raw["failure_count"] == 0, f"{name}: {raw.get('failures')}"
        assert raw["success_count"] == raw["total_count"] == len(bundle["objects"]), raw
        assert sorted(d["id"] for d in raw["successes"]) == sorted(
            o["id"] for o in bundle["objects"]
        )
        for detail in raw["successes"]:
            owner = next(o for o in bundle["objects"] if o["id"] == detail["id"])
            claimed = stix_version(owner)
            # objects without created/modified (SCOs) are versioned by their date_added
            if claimed is not None:
                assert micros(detail["version"]) == micros(claimed)
            else:
                assert micros(detail["version"]) > 0
        for obj in bundle["objects"]:
            submitted[(obj["id"], stix_version(obj))] = obj
    total = sum(len(b["objects"]) for _, b in oasis_bundles())
    assert (successes, failures) == (total, 0)
    return {"statuses": statuses, "submitted": submitted, "total": total}


def read(client: Client, **filters: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Objects and manifest for the same filters; check they agree with each other and with
    the X-TAXII-Date-Added headers. Returns (objects, manifest records)."""
    envelope = client.collection.get_objects(**filters)
    object_headers = client.last.headers
    manifest = client.collection.get_manifest(**filters)
    objects = envelope.get("objects", [])
    records = manifest.get("objects", [])
    assert envelope["more"] == manifest["more"]
    assert [o["id"] for o in objects] == [r["id"] for r in records]
    for obj, record in zip(objects, records, strict=True):
        version = stix_version(obj)
        expected = record["date_added"] if version is None else version
        assert micros(record["version"]) == micros(expected), (obj["id"], record)
    added = [micros(r["date_added"]) for r in records]
    assert added == sorted(added), "objects are not ordered by date_added"
    if records:
        first = object_headers["X-TAXII-Date-Added-First"]
        last = object_headers["X-TAXII-Date-Added-Last"]
        assert micros(first) == micros(records[0]["date_added"])
        assert micros(last) == micros(records[-1]["date_added"])
    else:
        assert "X-TAXII-Date-Added-First" not in object_headers
    return objects, records


def keys(records: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["id"], micros(r["version"])) for r in records]


# ----------------------------------------------------------------------------- tests


def test_discovery_api_root_and_collections(live_server: LiveServer, us: Client) -> None:
    server = us.server
    assert server.title
    assert server.default is not None
    assert server.default.url == live_server.api_root
    assert [root.url for root in server.api_roots] == [live_server.api_root]

    root = us.api_root
    assert root.title
    assert TAXII in root.versions
    assert isinstance(root.max_content_length, int)
    assert root.max_content_length > 0

    collection = us.collection
    assert collection.alias == "shared"
    assert collection.can_read is True
    assert collection.can_write is True
    assert STIX in collection.media_types
    # taxii2-client insists on the id in collection URLs; the alias addresses it as well.
    by_alias = us.server._conn.get(f"{live_server.api_root}collections/shared/")
    assert by_alias == collection._raw


def test_bearer_key_works_like_basic(live_server: LiveServer, us: Client) -> None:
    basic = us.server._conn.get(f"{live_server.api_root}collections/")
    response = httpx.get(
        f"{live_server.api_root}collections/",
        headers={"Authorization": f"Bearer {us.key}", "Accept": TAXII},
    )
    assert response.status_code == 200
    data = check_taxii_response(
        "GET", str(response.url), response.status_code, response.headers, response.content
    )
    assert data == basic


def test_every_oasis_object_is_stored_and_served_back_valid(
    us: Client, loaded: dict[str, Any]
) -> None:
    objects, _ = read(us, version="all")
    assert len(objects) < 1000, "the collection no longer fits one page; page through it"
    served = {(o["id"], stix_version(o)): o for o in objects}
    for key, original in loaded["submitted"].items():
        assert key in served, f"{key} was reported stored but is not served"
        back = served[key]
        # Markings leave the hub explicit and in TLP 2.0; everything else is unchanged.
        assert {k: v for k, v in back.items() if k != "object_marking_refs"} == {
            k: v for k, v in original.items() if k != "object_marking_refs"
        }
        if original["id"] in TLP1_IDS | TLP2_IDS:
            assert back == original  # predefined TLP definitions are stored as defined
            continue
        refs = back["object_marking_refs"]
        assert refs[0] in TLP2_IDS
        kept = [r for r in original.get("object_marking_refs", []) if r not in TLP1_IDS | TLP2_IDS]
        assert refs[1:] == kept


def test_match_id(us: Client, loaded: dict[str, Any]) -> None:
    _, records = read(us)
    ids = [r["id"] for r in records]
    one = ids[len(ids) // 2]
    objects, found = read(us, id=one)
    assert [o["id"] for o in objects] == [one]
    several = [ids[3], ids[-1], ids[len(ids) // 3]]
    objects, found = read(us, id=several)
    assert keys(found) == [k for k in keys(records) if k[0] in several]
    assert {o["id"] for o in objects} == set(several)
    objects, found = read(us, id=f"indicator--{uuid.uuid4()}")
    assert objects == found == []


def test_match_type(us: Client, loaded: dict[str, Any]) -> None:
    _, records = read(us)
    objects, found = read(us, type="indicator")
    assert objects
    assert {o["type"] for o in objects} == {"indicator"}
    assert keys(found) == [k for k in keys(records) if k[0].startswith("indicator--")]
    wanted = ["malware", "threat-actor", "relationship"]
    objects, found = read(us, type=wanted)
    assert {o["type"] for o in objects} == set(wanted)
    assert keys(found) == [k for k in keys(records) if k[0].split("--")[0] in wanted]
    objects, found = read(us, type="x-no-such-type")
    assert objects == []


def test_match_version_across_the_collection(us: Client, loaded: dict[str, Any]) -> None:
    _, every = read(us, version="all")
    by_id: dict[str, list[int]] = {}
    for object_id, version in keys(every):
        by_id.setdefault(object_id, []).append(version)
    _, first = read(us, version="first")
    assert keys(first) == [k for k in keys(every) if k[1] == min(by_id[k[0]])]
    _, last = read(us, version="last")
    assert keys(last) == [k for k in keys(every) if k[1] == max(by_id[k[0]])]
    _, default = read(us)
    assert keys(default) == keys(last)
    # The version most objects share (poisonivy has many objects of one timestamp).
    shared = Counter(r["version"] for r in every).most_common(1)[0][0]
    _, exact = read(us, version=shared)
    assert len(exact) > 1
    assert keys(exact) == [k for k in keys(every) if k[1] == micros(shared)]
    _, both = read(us, version=["first", shared])
    assert keys(both) == [k for k in keys(every) if k in set(keys(first)) | set(keys(exact))]


def test_match_spec_version(us: Client, loaded: dict[str, Any]) -> None:
    _, default = read(us)
    _, v21 = read(us, spec_version="2.1")
    assert keys(v21) == keys(default)
    objects, v20 = read(us, spec_version="2.0")
    assert objects == v20 == []


def test_added_after_from_a_previous_page(us: Client, loaded: dict[str, Any]) -> None:
    _, every = read(us, version="all")
    us.collection.get_objects(limit=10, version="all")
    after = us.last.headers["X-TAXII-Date-Added-Last"]
    objects, later = read(us, version="all", added_after=after)
    assert later, "the OASIS bundles were added after the first page"
    assert all(micros(r["date_added"]) > micros(after) for r in later)
    assert keys(later) == [
        (r["id"], micros(r["version"])) for r in every if micros(r["date_added"]) > micros(after)
    ]
    last = later[-1]["date_added"]
    objects, none = read(us, version="all", added_after=last)
    assert objects == none == []


@pytest.mark.parametrize(
    ("per_page", "filters"),
    [(1, {"type": ["threat-actor", "campaign", "vulnerability", "file"]}), (7, {}), (50, {})],
)
def test_limit_and_next_walk_every_page(
    us: Client, loaded: dict[str, Any], per_page: int, filters: dict[str, Any]
) -> None:
    _, every = read(us, version="all", **filters)
    assert every
    pages = as_pages(us.collection.get_objects, per_page, version="all", **filters)
    object_pages = [(envelope, us.last.headers) for envelope in pages]
    manifest_pages = list(as_pages(us.collection.get_manifest, per_page, version="all", **filters))
    assert len(object_pages) == len(manifest_pages) == -(-len(every) // per_page)
    walked: list[dict[str, Any]] = []
    for index, ((envelope, headers), manifest) in enumerate(
        zip(object_pages, manifest_pages, strict=True)
    ):
        final = index == len(object_pages) - 1
        assert envelope["more"] is manifest["more"] is (not final)
        assert ("next" in envelope) is (not final)
        page = manifest.get("objects", [])
        assert 0 < len(page) <= per_page
        assert [o["id"] for o in envelope["objects"]] == [r["id"] for r in page]
        assert micros(headers["X-TAXII-Date-Added-First"]) == micros(page[0]["date_added"])
        assert micros(headers["X-TAXII-Date-Added-Last"]) == micros(page[-1]["date_added"])
        walked.extend(page)
    assert len(set(keys(walked))) == len(walked), "a version was served twice"
    assert keys(walked) == keys(every), "pages differ from the unpaged listing"


def test_versions_of_an_object(us: Client) -> None:
    oid = f"indicator--{uuid.uuid4()}"
    v1, v2 = "2024-01-01T00:00:00.000Z", "2024-06-01T12:30:00.123Z"
    first_status = us.collection.add_objects({"objects": [indicator(v1, oid=oid)]})
    second_status = us.collection.add_objects(
        {"objects": [indicator(v2, oid=oid, description="second version")]}
    )
    assert first_status.success_count == second_status.success_count == 1

    def versions_of(**filters: Any) -> list[str | None]:
        envelope = us.collection.get_object(oid, **filters)
        return [stix_version(o) for o in envelope["objects"]]

    assert versions_of() == [v2]
    assert versions_of(version="last") == [v2]
    assert versions_of(version="first") == [v1]
    assert versions_of(version="all") == [v1, v2]
    assert versions_of(version=v1) == [v1]
    assert versions_of(version=v2) == [v2]
    assert versions_of(version=["first", "last"]) == [v1, v2]
    assert us.collection.get_object(oid)["objects"][0]["description"] == "second version"

    objects, records = read(us, id=oid, version="all")
    assert [stix_version(o) for o in objects] == [v1, v2]
    assert [r["version"] for r in records] == [v1, v2]
    assert micros(records[0]["date_added"]) < micros(records[1]["date_added"])
    _, latest = read(us, id=oid)
    assert [r["version"] for r in latest] == [v2]

    versions = us.collection.object_versions(oid)
    headers = us.last.headers
    assert versions["more"] is False
    assert [micros(v) for v in versions["versions"]] == [micros(v1), micros(v2)]
    assert micros(headers["X-TAXII-Date-Added-First"]) == micros(records[0]["date_added"])
    assert micros(headers["X-TAXII-Date-Added-Last"]) == micros(records[1]["date_added"])
    paged = list(as_pages(lambda **kw: us.collection.object_versions(oid, **kw), per_request=1))
    assert [p["versions"] for p in paged] == [[v1], [v2]]
    paged = list(
        as_pages(lambda **kw: us.collection.get_object(oid, **kw), per_request=1, version="all")
    )
    assert [[stix_version(o) for o in p["objects"]] for p in paged] == [[v1], [v2]]


def test_status_endpoint(us: Client, gb: Client, loaded: dict[str, Any]) -> None:
    # The status of an OASIS add, fetched again, is what add returned.
    name, returned = next(iter(loaded["statuses"].items()))
    again = us.api_root.get_status(returned["id"])._raw
    assert again == returned, name

    valid = indicator()
    no_pattern = indicator()
    del no_pattern["pattern"]
    bad_pattern = indicator(pattern="[ipv4-addr:value = '203.0.113.7'")
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "no is_family",
    }
    status = us.collection.add_objects({"objects": [valid, no_pattern, bad_pattern, malware]})
    raw = status._raw
    assert status.status == "complete"
    assert (raw["total_count"], raw["success_count"], raw["failure_count"]) == (4, 1, 3)
    assert [d["id"] for d in raw["successes"]] == [valid["id"]]
    failures = {d["id"]: d["message"] for d in raw["failures"]}
    assert set(failures) == {no_pattern["id"], bad_pattern["id"], malware["id"]}
    assert "pattern is required" in failures[no_pattern["id"]]
    assert "pattern does not parse" in failures[bad_pattern["id"]]
    assert "is_family" in failures[malware["id"]]

    fetched = us.api_root.get_status(status.id)._raw
    assert fetched == raw

    with pytest.raises(requests.HTTPError) as caught:
        gb.api_root.get_status(status.id)
    assert caught.value.response.status_code == 404
    assert valid["id"] not in caught.value.response.text

    # What failed is not stored; what succeeded is.
    assert us.collection.get_object(valid["id"])["objects"][0]["id"] == valid["id"]
    for oid in failures:
        with pytest.raises(requests.HTTPError) as missing:
            us.collection.get_object(oid)
        assert missing.value.response.status_code == 404


def test_delete_only_by_its_submitter(us: Client, gb: Client) -> None:
    mine = indicator()
    other = indicator()
    assert us.collection.add_objects({"objects": [mine, other]}).success_count == 2
    assert gb.collection.get_object(mine["id"])["objects"][0]["id"] == mine["id"]

    stored = us.collection.get_object(mine["id"])["objects"]
    with pytest.raises(requests.HTTPError) as caught:
        gb.collection.delete_object(mine["id"])
    assert caught.value.response.status_code in (403, 404)
    assert us.collection.get_object(mine["id"])["objects"] == stored
    _, before = read(us, id=mine["id"], version="all")
    assert len(before) == 1

    us.collection.delete_object(mine["id"])
    assert us.last.status_code == 200
    with pytest.raises(requests.HTTPError) as gone:
        us.collection.get_object(mine["id"])
    assert gone.value.response.status_code == 404
    objects, after = read(us, id=mine["id"], version="all")
    assert objects == after == []
    with pytest.raises(requests.HTTPError) as again:
        us.collection.delete_object(mine["id"])
    assert again.value.response.status_code == 404
    # The other object of the same request is untouched.
    (kept,) = us.collection.get_object(other["id"])["objects"]
    assert {k: v for k, v in kept.items() if k != "object_marking_refs"} == other


def test_every_response_was_checked(clients: dict[str, Client]) -> None:
    """Guard: the conformance hook really ran on what the client received."""
    for client in clients.values():
        assert client.conformance.responses
        assert all(r.headers["content-type"] == TAXII for r in client.conformance.responses)


# ------------------------------------------------ regressions of fixed server bugs


def test_tlp1_marking_definitions_are_served_as_defined(us: Client, loaded: dict[str, Any]) -> None:
    served = us.collection.get_object(TLP1_AMBER)["objects"][0]
    assert "object_marking_refs" not in served
    result = validate_instance(served, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]


def test_status_details_carry_a_version(us: Client) -> None:
    value = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    sco_id = uuid.uuid5(SCO_NAMESPACE, json.dumps({"value": value}, separators=(",", ":")))
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{sco_id}", "value": value}
    broken = indicator(pattern="not a pattern")
    raw = us.collection.add_objects({"objects": [sco, broken]})._raw
    for detail in raw.get("successes", []) + raw.get("failures", []):
        assert "version" in detail, detail


def test_hub_published_identities_have_their_modified_as_version(us: Client) -> None:
    _, records = read(us, type="identity")
    mine = None
    for record in records:
        (obj,) = us.collection.get_object(record["id"])["objects"]
        if obj.get("name") == "US Bank":
            mine = (obj, record)
    assert mine is not None
    obj, record = mine
    assert micros(record["version"]) == micros(obj["modified"]), record
    found = us.collection.get_object(obj["id"], version=obj["modified"])["objects"]
    assert found == [obj]
