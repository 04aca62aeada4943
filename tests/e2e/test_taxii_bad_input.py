"""Bad input to the TAXII 2.1 endpoints of a live ``shieldwall serve``, sent with httpx.

Every request the server refuses must be a 4xx TAXII error message (§3.6.1: ``title``,
``http_status`` as a string, a ``description`` that says what is wrong) served as
``application/taxii+json;version=2.1``, and must leave the collection exactly as it was:
the manifest and every stored object (all versions) are compared before and after.

Objects that are individually invalid are not a refused request: the server answers 202
and lists each of them, with its reason, in the status ``failures`` (TAXII 2.1 §5.5,
``services/ingest.py``); the valid objects of the same request are stored.

One dedicated server for the module, with ``max_content_length`` 2000 bytes (so the 413
cases are cheap) and at most 8 objects per request.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveServer, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.services import admin
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

pytestmark = [pytest.mark.slow]

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
MAX_CONTENT_LENGTH = 2000
MAX_OBJECTS = 8
ROOT = "/taxii2/hub/"
COLLECTION = f"{ROOT}collections/shared/"
OBJECTS = f"{COLLECTION}objects/"
MANIFEST = f"{COLLECTION}manifest/"
ERROR_PROPERTIES = {
    "title",
    "description",
    "error_id",
    "error_code",
    "http_status",
    "external_details",
    "details",
}


def indicator(
    modified: str = "2024-01-01T00:00:00.000Z", *, oid: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid or f"indicator--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "pattern": "[ipv4-addr:value = '203.0.113.7']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    body.update(extra)
    return body


def malware(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "bad-input test malware",
        "is_family": False,
    }
    body.update(extra)
    return body


def without(obj: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in names}


def unmarked(obj: dict[str, Any]) -> dict[str, Any]:
    """An object without ``object_marking_refs`` (the hub rewrites markings to TLP 2.0)."""
    return without(obj, "object_marking_refs")


@dataclass
class Hub:
    server: LiveServer
    client: httpx.Client
    seeded: dict[str, dict[str, Any]]
    seed_status: str

    def key(self, handle: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.keys[handle]}"}

    def get(self, path: str, handle: str = "us-bank", **params: str) -> httpx.Response:
        return self.client.get(path, headers=self.key(handle), params=params)

    def post(self, body: object, handle: str = "us-bank") -> httpx.Response:
        return self.client.post(
            OBJECTS,
            headers={**self.key(handle), "Content-Type": TAXII, "Accept": TAXII},
            content=json.dumps(body).encode(),
        )

    def snapshot(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every manifest record and every stored object version, in order."""
        manifest = self.get(MANIFEST, **{"match[version]": "all"})
        objects = self.get(OBJECTS, **{"match[version]": "all"})
        assert manifest.status_code == objects.status_code == 200
        assert manifest.json()["more"] is objects.json()["more"] is False
        return manifest.json().get("objects", []), objects.json().get("objects", [])

    def stored(self, object_id: str) -> list[dict[str, Any]]:
        response = self.get(f"{OBJECTS}{object_id}/", **{"match[version]": "all"})
        if response.status_code == 404:
            return []
        assert response.status_code == 200, response.text
        return list(response.json()["objects"])


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    tmp_path: Path = tmp_path_factory.mktemp("bad-input")
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    setup = build_hub(Settings().with_overrides(database_url=database))
    keys = {}
    for handle, name, country in (("us-bank", "US Bank", "US"), ("gb-bank", "GB Bank", "GB")):
        admin.add_organisation(setup, name, "financial", country, "member")
        keys[handle] = admin.create_key(setup, name, "test")
    assert isinstance(setup.store, Database)
    setup.store.dispose()
    server = start_server(
        database,
        tmp_path,
        extra_env={
            "SHIELDWALL_MAX_CONTENT_LENGTH": str(MAX_CONTENT_LENGTH),
            "SHIELDWALL_MAX_OBJECTS_PER_REQUEST": str(MAX_OBJECTS),
        },
    )
    server.keys = keys
    client = httpx.Client(base_url=server.url, timeout=30)
    try:
        seeded = {"indicator": indicator(), "malware": malware()}
        made = Hub(server, client, seeded, "")
        response = made.post({"objects": list(seeded.values())})
        assert response.status_code == 202, response.text
        assert response.json()["success_count"] == 2, response.text
        made.seed_status = response.json()["id"]
        yield made
    finally:
        client.close()
        stop_server(server)


def assert_taxii_error(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """``response`` is a TAXII 2.1 error message with ``status`` whose description names
    every one of ``words`` (case-insensitive)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == TAXII
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) <= ERROR_PROPERTIES, body
    assert isinstance(body["title"], str)
    assert body["title"].strip()
    assert body["http_status"] == str(status), body
    description = body.get("description")
    assert isinstance(description, str)
    assert description.strip(), body
    for word in words:
        assert word.lower() in description.lower(), f"{word!r} not in {description!r}"
    if status == 401:
        challenge = response.headers.get("www-authenticate", "")
        assert "Bearer" in challenge, challenge
        assert "Basic" in challenge, challenge
    return body


# A payload that would change the collection if any of it were stored: a new object and a
# new version of a stored one.
def poison(hub: Hub) -> dict[str, Any]:
    seeded = hub.seeded["indicator"]
    return {
        "objects": [
            indicator(),
            {**seeded, "modified": "2025-01-01T00:00:00.000Z", "name": "must not be stored"},
        ]
    }


def _post(
    content: bytes | None = None,
    content_type: str | None = TAXII,
    accept: str | None = TAXII,
    path: str = OBJECTS,
    auth: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": path,
        "content": content,
        "content_type": content_type,
        "accept": accept,
        "auth": auth,
    }


def _get(path: str = OBJECTS, *, method: str = "GET", **params: str) -> dict[str, Any]:
    return {"method": method, "path": path, "params": params}


POISON = b"<poison>"  # replaced by the poison payload
CASES: list[tuple[str, dict[str, Any], int, tuple[str, ...]]] = [
    # malformed bodies
    ("truncated-json", _post(b'{"objects": [{"type": "indicator"'), 400, ("not valid JSON",)),
    ("empty-body", _post(b""), 400, ("empty",)),
    ("not-utf8", _post(b'\xff\xfe{"objects": []}'), 400, ("not valid JSON",)),
    ("too-deep", _post(b"[" * 1100), 400, ("not valid JSON",)),
    ("json-array", _post(b"<array>"), 400, ("JSON object",)),
    ("json-string", _post(b'"objects"'), 400, ("JSON object",)),
    ("json-null", _post(b"null"), 400, ("JSON object",)),
    ("lone-indicator", _post(b"<indicator>"), 400, ("indicator", "not a bundle")),
    ("bundle-without-objects", _post(b'{"type": "bundle"}'), 400, ("objects",)),
    ("objects-not-a-list", _post(b'{"objects": {"type": "indicator"}}'), 400, ("objects",)),
    ("too-many-objects", _post(b"<too-many>"), 400, ("maximum", str(MAX_OBJECTS))),
    # media types
    ("content-type-text", _post(POISON, content_type="text/plain"), 415, ("text/plain",)),
    ("content-type-missing", _post(POISON, content_type=None), 415, ("Content-Type",)),
    ("content-type-xml", _post(POISON, content_type="application/xml"), 415, ("xml",)),
    (
        "content-type-taxii-2.0",
        _post(POISON, content_type="application/taxii+json;version=2.0"),
        415,
        ("version=2.0",),
    ),
    ("accept-html", _post(POISON, accept="text/html"), 406, ("text/html",)),
    (
        "accept-taxii-2.0",
        _post(POISON, accept="application/taxii+json;version=2.0"),
        406,
        ("version=2.0",),
    ),
    ("accept-taxii-q0", _post(POISON, accept=f"{TAXII};q=0, text/html"), 406, (TAXII,)),
    # where
    (
        "unknown-collection",
        _post(POISON, path=f"{ROOT}collections/{uuid.uuid4()}/objects/"),
        404,
        ("collection",),
    ),
    (
        "unknown-api-root",
        _post(POISON, path="/taxii2/nope/collections/shared/objects/"),
        404,
        ("API root",),
    ),
    # who
    ("no-key", _post(POISON, auth={}), 401, ("API key",)),
    ("wrong-bearer", _post(POISON, auth={"Authorization": "Bearer sw_nope"}), 401, ("key",)),
    (
        "wrong-basic",
        _post(
            POISON,
            auth={"Authorization": "Basic " + base64.b64encode(b"x:sw_nope").decode()},
        ),
        401,
        ("key",),
    ),
    ("garbled-basic", _post(POISON, auth={"Authorization": "Basic !!!"}), 401, ("base64",)),
    (
        "basic-without-password",
        _post(POISON, auth={"Authorization": "Basic " + base64.b64encode(b"x:").decode()}),
        401,
        ("API key",),
    ),
    ("unknown-scheme", _post(POISON, auth={"Authorization": "Token abc"}), 401, ("API key",)),
    # reads with bad parameters
    ("version-word", _get(**{"match[version]": "newest"}), 400, ("match[version]",)),
    (
        "version-bad-date",
        _get(**{"match[version]": "2024-13-01T00:00:00Z"}),
        400,
        ("match[version]",),
    ),
    ("version-no-zone", _get(**{"match[version]": "2024-01-01T00:00:00"}), 400, ("timestamp",)),
    ("added-after-word", _get(added_after="yesterday"), 400, ("added_after",)),
    ("added-after-feb-30", _get(added_after="2024-02-30T00:00:00Z"), 400, ("added_after",)),
    ("limit-zero", _get(limit="0"), 400, ("limit", "'0'")),
    ("limit-negative", _get(limit="-5"), 400, ("limit",)),
    ("limit-word", _get(limit="ten"), 400, ("limit",)),
    ("match-id", _get(**{"match[id]": "indicator--nope"}), 400, ("match[id]",)),
    ("match-type", _get(**{"match[type]": "Not A Type"}), 400, ("match[type]",)),
    ("spec-version", _get(**{"match[spec_version]": "3.0"}), 400, ("match[spec_version]",)),
    ("next-garbage", _get(next="not-a-token"), 400, ("next",)),
    ("manifest-limit-zero", _get(MANIFEST, limit="0"), 400, ("limit",)),
    ("manifest-added-after", _get(MANIFEST, added_after="2024-01-01"), 400, ("added_after",)),
    ("manifest-next-garbage", _get(MANIFEST, next="%%%"), 400, ("next",)),
    ("object-version", _get(f"{OBJECTS}<seeded>/", **{"match[version]": "x"}), 400, ("version",)),
    ("versions-limit-zero", _get(f"{OBJECTS}<seeded>/versions/", limit="0"), 400, ("limit",)),
    ("versions-next-garbage", _get(f"{OBJECTS}<seeded>/versions/", next="x"), 400, ("next",)),
    (
        "delete-bad-version",
        _get(f"{OBJECTS}<seeded>/", method="DELETE", **{"match[version]": "x"}),
        400,
        ("match[version]",),
    ),
    # reads of what is not there
    ("get-unknown-collection", _get(f"{ROOT}collections/nope/objects/"), 404, ("collection",)),
    ("manifest-unknown-collection", _get(f"{ROOT}collections/nope/manifest/"), 404, ()),
    ("unknown-collection-resource", _get(f"{ROOT}collections/nope/"), 404, ("collection",)),
    ("unknown-api-root-info", _get("/taxii2/nope/"), 404, ("API root",)),
    ("unknown-api-root-collections", _get("/taxii2/nope/collections/"), 404, ("API root",)),
    ("unknown-object", _get(f"{OBJECTS}indicator--{uuid.uuid4()}/"), 404, ("no object",)),
    ("unknown-versions", _get(f"{OBJECTS}indicator--{uuid.uuid4()}/versions/"), 404, ()),
    ("unknown-status", _get(f"{ROOT}status/{uuid.uuid4()}/"), 404, ("status",)),
    (
        "delete-unknown-object",
        _get(f"{OBJECTS}indicator--{uuid.uuid4()}/", method="DELETE"),
        404,
        ("no object",),
    ),
    (
        "delete-unknown-collection",
        _get(f"{ROOT}collections/nope/objects/<seeded>/", method="DELETE"),
        404,
        ("collection",),
    ),
    ("put-objects", _get(method="PUT"), 405, ()),
]


def _send(hub: Hub, case: dict[str, Any]) -> httpx.Response:
    seeded = hub.seeded["indicator"]["id"]
    path = str(case["path"]).replace("<seeded>", seeded)
    if case["method"] != "POST":
        return hub.client.request(
            case["method"], path, headers=hub.key("us-bank"), params=case["params"]
        )
    content = case["content"]
    substitutes = {
        POISON: json.dumps(poison(hub)).encode(),
        b"<array>": json.dumps(poison(hub)["objects"]).encode(),
        b"<indicator>": json.dumps(poison(hub)["objects"][0]).encode(),
        b"<too-many>": json.dumps({"objects": [{}] * (MAX_OBJECTS + 1)}).encode(),
    }
    content = substitutes.get(content, content)
    headers = hub.key("us-bank") if case["auth"] is None else dict(case["auth"])
    if case["content_type"] is not None:
        headers["Content-Type"] = case["content_type"]
    if case["accept"] is not None:
        headers["Accept"] = case["accept"]
    return hub.client.post(path, headers=headers, content=content)


@pytest.mark.parametrize(
    ("case", "status", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_refused_request_is_a_taxii_error_and_changes_nothing(
    hub: Hub, case: dict[str, Any], status: int, words: tuple[str, ...]
) -> None:
    before = hub.snapshot()
    response = _send(hub, case)
    assert_taxii_error(response, status, *words)
    assert hub.snapshot() == before


def test_another_organisation_cannot_read_a_status(hub: Hub) -> None:
    own = hub.get(f"{ROOT}status/{hub.seed_status}/")
    assert own.status_code == 200
    body = assert_taxii_error(
        hub.get(f"{ROOT}status/{hub.seed_status}/", "gb-bank"), 404, "no status"
    )
    assert hub.seeded["indicator"]["id"] not in json.dumps(body)


def test_another_member_cannot_delete(hub: Hub) -> None:
    before = hub.snapshot()
    target = hub.seeded["malware"]["id"]
    response = hub.client.delete(f"{OBJECTS}{target}/", headers=hub.key("gb-bank"))
    assert response.status_code in (403, 404), response.text
    assert_taxii_error(response, response.status_code)
    assert hub.snapshot() == before
    assert [unmarked(o) for o in hub.stored(target)] == [hub.seeded["malware"]]


def test_next_token_with_other_filters_is_refused(hub: Hub) -> None:
    first = hub.get(OBJECTS, limit="1", **{"match[version]": "all"})
    assert first.status_code == 200
    assert first.json()["more"] is True
    token = first.json()["next"]
    before = hub.snapshot()
    # The same filters (another limit is fine) follow the token.
    follow = hub.get(OBJECTS, limit="2", next=token, **{"match[version]": "all"})
    assert follow.status_code == 200, follow.text
    changed = [
        {"match[version]": "last"},
        {"match[version]": "all", "match[type]": "indicator"},
        {"match[version]": "all", "added_after": "2000-01-01T00:00:00Z"},
        {"match[version]": "all", "match[spec_version]": "2.1"},
    ]
    for params in changed:
        response = hub.get(OBJECTS, limit="1", next=token, **params)
        assert_taxii_error(response, 400, "next", "different filters")
        response = hub.get(MANIFEST, limit="1", next=token, **params)
        assert_taxii_error(response, 400, "next", "different filters")
    assert hub.snapshot() == before


def test_next_token_out_of_range_is_a_bad_request(hub: Hub) -> None:
    # A token is base64 of "1.<date_added>.<seq>.<filter digest>" (domain/queries.py): keep
    # the digest of a real one and put a position no database integer can hold.
    first = hub.get(OBJECTS, limit="1")
    real = first.json()["next"]
    digest = base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)).decode().rsplit(".", 1)[1]
    forged = base64.urlsafe_b64encode(f"1.{10**30}.1.{digest}".encode()).decode().rstrip("=")
    assert_taxii_error(hub.get(OBJECTS, limit="1", next=forged), 400, "next")


def test_body_limit(hub: Hub) -> None:
    info = hub.get(ROOT)
    assert info.status_code == 200
    assert info.json()["max_content_length"] == MAX_CONTENT_LENGTH
    before = hub.snapshot()
    headers = {**hub.key("us-bank"), "Content-Type": TAXII}

    body = json.dumps(poison(hub)).encode()
    over = body + b" " * (MAX_CONTENT_LENGTH + 1 - len(body))
    assert len(over) == MAX_CONTENT_LENGTH + 1
    response = hub.client.post(OBJECTS, headers=headers, content=over)
    assert_taxii_error(response, 413, str(MAX_CONTENT_LENGTH))
    assert hub.snapshot() == before

    # Without Content-Length (chunked), the server stops reading at the limit.
    def chunks() -> Iterator[bytes]:
        yield body
        for _ in range(4):
            yield b" " * 1000

    response = hub.client.post(OBJECTS, headers=headers, content=chunks())
    assert "content-length" not in response.request.headers
    assert_taxii_error(response, 413, str(MAX_CONTENT_LENGTH))
    assert hub.snapshot() == before

    # Exactly at the limit is accepted.
    fresh = indicator()
    exact = json.dumps({"objects": [fresh]}).encode()
    exact += b" " * (MAX_CONTENT_LENGTH - len(exact))
    response = hub.client.post(OBJECTS, headers=headers, content=exact)
    assert response.status_code == 202, response.text
    assert [unmarked(o) for o in hub.stored(fresh["id"])] == [fresh]


def test_objects_missing_required_properties_are_failures(hub: Hub) -> None:
    before = hub.snapshot()
    invalid = [
        without(indicator(), "pattern"),
        without(malware(), "is_family"),
        without(indicator(), "id"),
        without(indicator(), "type"),
        without(indicator(), "spec_version"),
        without(indicator(), "created"),
        indicator(oid="indicator--not-a-uuid"),
        5,
    ]
    reasons = [
        "pattern is required",
        "is_family",
        "no id",
        "no type",
        "spec_version is required",
        "created is required",
        "UUID",
        "JSON object",
    ]
    response = hub.post({"objects": invalid})
    status = check_status(response, total=len(invalid), successes=0)
    for detail, reason in zip(status["failures"], reasons, strict=True):
        assert reason.lower() in detail["message"].lower(), (reason, detail)
    assert hub.snapshot() == before


def test_bad_indicator_patterns_are_failures(hub: Hub) -> None:
    before = hub.snapshot()
    patterns = [
        "[ipv4-addr:value = '203.0.113.7'",
        "ipv4-addr:value = '203.0.113.7'",
        "[ipv4-addr:value === '203.0.113.7']",
        "[]",
        "[ipv4-addr:value = '203.0.113.7'] FOLLOWEDBY",
    ]
    objects = [indicator(pattern=p) for p in patterns]
    status = check_status(hub.post({"objects": objects}), total=len(objects), successes=0)
    assert [d["id"] for d in status["failures"]] == [o["id"] for o in objects]
    for detail in status["failures"]:
        assert "pattern" in detail["message"], detail
    assert hub.snapshot() == before


def check_status(response: httpx.Response, *, total: int, successes: int) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == TAXII
    status = response.json()
    assert status["status"] == "complete"
    assert status["total_count"] == total
    assert status["success_count"] == successes
    assert status["failure_count"] == total - successes
    assert status["pending_count"] == 0
    assert len(status.get("successes", [])) == successes
    assert len(status.get("failures", [])) == total - successes
    for detail in status.get("failures", []):
        assert isinstance(detail["id"], str)
        assert detail["id"]
        assert isinstance(detail["message"], str)
        assert detail["message"].strip()
    return dict(status)


def test_mixed_bundle_stores_the_valid_and_reports_the_invalid(hub: Hub) -> None:
    before_manifest, before_objects = hub.snapshot()
    identities = hub.get(OBJECTS, **{"match[type]": "identity"}).json()["objects"]
    gb_identity = next(i["id"] for i in identities if i["name"] == "GB Bank")
    good = [indicator(), malware()]
    seeded = hub.seeded["indicator"]
    same_version_other_content = {**seeded, "name": "a different body, same version"}
    bad = [
        indicator(pattern="[file:hashes.MD5 = ]"),
        without(malware(), "name", "is_family"),
        indicator(created_by_ref=gb_identity),
    ]
    bundle = {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [bad[0], good[0], bad[1], same_version_other_content, good[1], bad[2]],
    }
    response = hub.client.post(
        OBJECTS,
        headers={**hub.key("us-bank"), "Content-Type": STIX},
        content=json.dumps(bundle).encode(),
    )
    status = check_status(response, total=6, successes=3)
    assert [d["id"] for d in status["successes"]] == [good[0]["id"], seeded["id"], good[1]["id"]]
    assert "already stored" in status["successes"][1]["message"]
    failures = {d["id"]: d["message"] for d in status["failures"]}
    assert list(failures) == [b["id"] for b in bad]
    assert "pattern" in failures[bad[0]["id"]]
    assert "is required" in failures[bad[1]["id"]]
    assert "created_by_ref" in failures[bad[2]["id"]]

    fetched = hub.get(f"{ROOT}status/{status['id']}/")
    assert fetched.status_code == 200
    assert fetched.json() == status

    for obj in good:
        assert [unmarked(o) for o in hub.stored(obj["id"])] == [obj]
    for obj in bad:
        assert hub.stored(obj["id"]) == []
    assert [unmarked(o) for o in hub.stored(seeded["id"])] == [seeded]

    after_manifest, after_objects = hub.snapshot()
    assert after_manifest[: len(before_manifest)] == before_manifest
    assert [r["id"] for r in after_manifest[len(before_manifest) :]] == [g["id"] for g in good]
    assert after_objects[: len(before_objects)] == before_objects


def test_a_version_of_another_members_object_is_refused(hub: Hub) -> None:
    seeded = hub.seeded["indicator"]
    before = hub.stored(seeded["id"])
    takeover = {**seeded, "modified": "2025-06-01T00:00:00.000Z", "name": "taken over"}
    own = indicator()
    status = check_status(hub.post({"objects": [takeover, own]}, "gb-bank"), total=2, successes=1)
    assert status["successes"][0]["id"] == own["id"]
    assert status["failures"][0]["id"] == seeded["id"]
    assert "another organisation" in status["failures"][0]["message"]
    assert hub.stored(seeded["id"]) == before
    assert [unmarked(o) for o in hub.stored(own["id"])] == [own]
