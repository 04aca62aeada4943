"""Hostile input against a live ``shieldwall serve``: schemathesis over the OpenAPI
document, and hypothesis-generated malformed STIX and TAXII requests.

What every test here holds the hub to:

- never a 5xx: a refused request is a 4xx with a message that says what is wrong (a TAXII
  error message on ``/taxii2/``, ``{"error": {...}}`` elsewhere), and a per-object problem
  is a 202 whose status lists that object in ``failures`` with its reason;
- nothing is stored from what was refused: a manifest and object snapshot (every version)
  taken before a request is, after it, unchanged for a refused request, and for a 202 only
  grows by the objects the status lists as successes; objects already stored never change.

One server for the module (SQLite) with a small ``max_content_length`` (64 KiB) and at
most 50 objects per request, so the size-limit cases are cheap. Generation is bounded
(``max_examples``) and derandomised, so a run is repeatable and its length predictable.

Should a bug be found that cannot be fixed at once, ``known_bug`` is where inputs that
hit it are left out of the generated cases (with an ``xfail(strict=True)`` test naming it),
so that a regression anywhere else still fails the suite.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from conftest import LiveServer, fresh_postgres_database, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.services import admin
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability-hostile")]

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
MAX_CONTENT_LENGTH = 64 * 1024
MAX_OBJECTS = 50
COLLECTION = "/taxii2/hub/collections/shared/"
OBJECTS = f"{COLLECTION}objects/"
MANIFEST = f"{COLLECTION}manifest/"
REST_OBJECTS = "/api/v1/objects"
ANON_SUBMISSIONS = "/api/v1/anon/submissions"
STAMP = "2024-01-01T00:00:00.000Z"
RAW_1E309 = "@@raw-1e309@@"  # replaced by the bare JSON number 1e309 after serialising

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


# --- the server -------------------------------------------------------------------------


@dataclass
class Target:
    server: LiveServer
    key: str
    seeded: list[dict[str, Any]] = field(default_factory=list)
    _client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.server.url, timeout=60)
        return self._client

    def reset(self) -> None:
        """A 5xx makes uvicorn close the connection: start a new one after it."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(), **kwargs.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 500:
            self.reset()
        return response

    def post_taxii(self, body: bytes, content_type: str = TAXII) -> httpx.Response:
        return self.send("POST", OBJECTS, content=body, headers={"Content-Type": content_type})

    def snapshot(self) -> tuple[list[Any], list[Any]]:
        """Every manifest record and every stored object version, in collection order."""
        params = {"match[version]": "all", "limit": "10000"}
        manifest = self.send("GET", MANIFEST, params=params)
        objects = self.send("GET", OBJECTS, params=params)
        assert manifest.status_code == objects.status_code == 200, manifest.text
        assert manifest.json()["more"] is objects.json()["more"] is False
        return manifest.json().get("objects", []), objects.json().get("objects", [])


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    tmp_path: Path = tmp_path_factory.mktemp("hostile")
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    setup = build_hub(Settings().with_overrides(database_url=database))
    admin.add_organisation(setup, "Hostile Bank", "financial", "US", "member")
    admin.add_organisation(setup, "Rival Law", "legal", "GB", "member")
    key = admin.create_key(setup, "Hostile Bank", "hostile input")
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
    made = Target(server, key)
    try:
        first = indicator(name="seeded")
        made.seeded = [
            first,
            {**first, "modified": "2024-06-01T00:00:00.000Z", "name": "seeded v2"},
            malware(),
        ]
        response = made.post_taxii(orjson.dumps({"objects": made.seeded}))
        assert response.status_code == 202, response.text
        assert response.json()["success_count"] == 3, response.text
        yield made
    finally:
        made.reset()
        stop_server(server)


# --- STIX objects -----------------------------------------------------------------------


def indicator(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
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
        "created": STAMP,
        "modified": STAMP,
        "name": "hostile-input malware",
        "is_family": False,
    }
    body.update(extra)
    return body


def serialise(document: object) -> bytes:
    """JSON as a hostile client would send it: NaN and lone surrogates (``\\ud800``, escaped)
    allowed, and ``RAW_1E309`` turned into a number no double can hold."""
    text = json.dumps(document, allow_nan=True, ensure_ascii=True)
    return text.replace(f'"{RAW_1E309}"', "1e309").encode()


# Values a client might put where a STIX property goes: every JSON type, nested.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
UUID = "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
TRICKY_STRINGS = [
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "\ud800",  # a lone surrogate: JSON may escape it, no UTF-8 can carry it
    "\udfff\ud800",
    "\u202eevil\u202c",  # right-to-left override
    "\ufeffindicator",  # byte order mark
    "e\u0301",  # NFD
    "\u00e9",  # NFC
    "\uff49\uff4e\uff44\uff49\uff43\uff41\uff54\uff4f\uff52",  # fullwidth "indicator"
    "\u0456ndicator",  # Cyrillic i
    f"indicator--{UUID.replace('a', chr(0x430))}",  # homoglyph UUID
    f"indicator--{UUID.upper()}",
    f"indicator--{UUID}\u200b",  # zero-width space
    f"identity--{UUID}",
    "x" * 5000,
    "0000-01-01T00:00:00.000Z",
    "10000-01-01T00:00:00.000Z",
    "2024-13-01T00:00:00.000Z",
    "2024-02-30T00:00:00.000Z",
    "2024-01-01T24:00:00.000Z",
    "2016-12-31T23:59:60.000Z",
    "2024-01-01T00:00:00.12345678901234567890Z",
    "2024-01-01T00:00:00.000+00:00",
    "-2024-01-01T00:00:00.000Z",
    "[ipv4-addr:value = '1.2.3.4'",
    "[" * 200,
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    RAW_1E309,
]
tricky_strings = st.sampled_from(TRICKY_STRINGS) | st.text(max_size=40)
tricky_numbers = st.sampled_from([-1, 0, 100, 101, 2**31, 2**63, 2**64, -(2**64), 1.5, -0.0])
COMMON_PROPERTIES = [
    "type",
    "spec_version",
    "id",
    "created",
    "modified",
    "created_by_ref",
    "revoked",
    "labels",
    "confidence",
    "lang",
    "external_references",
    "object_marking_refs",
    "granular_markings",
    "extensions",
    "name",
    "description",
    "pattern",
    "pattern_type",
    "pattern_version",
    "valid_from",
    "valid_until",
    "kill_chain_phases",
    "indicator_types",
    "x_custom",
]
DELETE = object()
mutations = st.tuples(
    st.sampled_from(COMMON_PROPERTIES),
    json_values | tricky_strings | tricky_numbers | st.lists(tricky_strings, max_size=3),
) | st.tuples(st.sampled_from(COMMON_PROPERTIES), st.just(DELETE))


def mutate(base: dict[str, Any], changes: list[tuple[str, object]]) -> dict[str, Any]:
    obj = dict(base)
    for name, value in changes:
        if value is DELETE:
            obj.pop(name, None)
        else:
            obj[name] = value
    return obj


hostile_objects = st.builds(
    mutate,
    st.builds(indicator) | st.builds(malware),
    st.lists(mutations, min_size=1, max_size=3),
) | st.builds(indicator)  # some valid ones, so that 202s mix stored and refused objects
# Anything at all where an object should be.
non_objects = json_values | tricky_strings


# --- checking answers -------------------------------------------------------------------


def assert_clear_4xx(response: httpx.Response) -> str:
    """A 4xx whose body says what is wrong; returns the message."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    body = response.json()
    if response.request.url.path.startswith("/taxii2"):
        assert response.headers["content-type"] == TAXII
        assert body["http_status"] == str(response.status_code), body
        message = body["description"]
    else:
        message = body["error"]["description"]
    assert isinstance(message, str), body
    assert message.strip(), body
    return message


def parsed_as_the_server_sees_it(body: bytes) -> object | None:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def without_markings(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: v for k, v in obj.items() if k != "object_marking_refs"}
    return obj


def check_add_objects(
    target: Target,
    before: tuple[list[Any], list[Any]],
    response: httpx.Response,
    sent: list[object] | None,
    *,
    compare_bodies: bool = True,
) -> dict[str, Any] | None:
    """The hub's answer to an add-objects request (TAXII or REST) and its effect on the
    collection: a clear 4xx that changed nothing, or a complete status whose successes,
    and nothing else, were added, each exactly as sent."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    after = target.snapshot()
    if response.status_code != 202:
        assert_clear_4xx(response)
        assert after == before
        return None
    status = response.json()
    assert status["status"] == "complete", status
    assert status["pending_count"] == 0
    assert sent is not None
    assert status["total_count"] == len(sent)
    successes = status.get("successes", [])
    failures = status.get("failures", [])
    assert status["success_count"] == len(successes)
    assert status["failure_count"] == len(failures)
    assert len(successes) + len(failures) == len(sent)
    for detail in failures:
        assert isinstance(detail["id"], str)
        assert detail["id"]
        assert isinstance(detail["message"], str)
        assert detail["message"].strip()
    manifest, objects = after
    # What was stored before is untouched and comes first (later additions sort later).
    assert manifest[: len(before[0])] == before[0]
    assert objects[: len(before[1])] == before[1]
    success_ids = {d["id"] for d in successes}
    added = manifest[len(before[0]) :]
    assert {record["id"] for record in added} <= success_ids, (added, status)
    assert success_ids <= {record["id"] for record in manifest}, status
    if compare_bodies:
        by_id: dict[str, list[object]] = {}
        for obj in sent:
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                by_id.setdefault(obj["id"], []).append(without_markings(obj))
        for stored in objects[len(before[1]) :]:
            assert without_markings(stored) in by_id.get(stored["id"], []), stored
    return dict(status)


# --- schemathesis over the OpenAPI document ----------------------------------------------


def known_bug(method: str, path: str, body: object) -> bool:
    """Inputs that hit a known, not yet fixed bug (none at present)."""
    return False


def _fuzz_operation(target: Target, strategies: list[Any], server_errors: list[str]) -> list[int]:
    """Run a bounded number of generated cases of one operation; note every 5xx."""
    statuses: list[int] = []

    @settings(FUZZ, max_examples=6)
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        assume(not known_bug(case.method.upper(), case.formatted_path, case.body))
        response = case.call(base_url=target.server.url, headers=target.auth(), timeout=60)
        statuses.append(response.status_code)
        if response.status_code >= 500:
            server_errors.append(
                f"{case.method} {case.formatted_path} query={case.query!r}"
                f" body={case.body!r:.300} -> {response.status_code} {response.text[:200]}"
            )

    run()
    return statuses


def test_schemathesis_finds_no_server_error(target: Target) -> None:
    """Every operation of ``/api/openapi.json``, with data that fits the schema and data
    that does not (a bounded number of each), authenticated with a member's key; path
    parameters are either generated or pinned to the real API root, collection and a
    stored object, so the handlers behind the 404s are reached too."""
    import schemathesis
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{target.server.url}/api/openapi.json", timeout=30)
    real = {
        "api_root": "hub",
        "collection_id": "shared",
        "object_id": target.seeded[0]["id"],
        "status_id": str(uuid.uuid4()),
        "name": "no-such-group",
        "receipt": "no-such-receipt",
        "draft_id": str(uuid.UUID(int=1)),
    }
    server_errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        pinned = {k: v for k, v in real.items() if "{" + k + "}" in operation.path}
        strategies = []
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append(operation.as_strategy(generation_mode=mode))
            if pinned:
                strategies.append(
                    operation.as_strategy(generation_mode=mode, path_parameters=pinned)
                )
        statuses = _fuzz_operation(target, strategies, server_errors)
        assert statuses, operation.label
    assert operations >= 20
    assert not server_errors, "\n".join(server_errors)


# --- malformed STIX over TAXII ----------------------------------------------------------


@FUZZ
@given(
    objects=st.lists(hostile_objects | non_objects, min_size=1, max_size=6),
    bundle=st.booleans(),
    one_id=st.booleans(),
)
def test_generated_malformed_objects_are_refused_one_by_one(
    target: Target, objects: list[object], bundle: bool, one_id: bool
) -> None:
    """Wrong types for every common property, unicode tricks, out-of-range timestamps and
    numbers, and (``one_id``) every object under the same id: each object is stored exactly
    as sent or listed in ``failures``; a body that is not JSON at all (NaN, ``1e309``, a
    lone surrogate) is a 400 that stores nothing."""
    ids = [o["id"] for o in objects if isinstance(o, dict) and isinstance(o.get("id"), str)]
    if one_id and ids:
        objects = [{**o, "id": ids[0]} if isinstance(o, dict) else o for o in objects]
    document: dict[str, Any] = {"objects": objects}
    if bundle:
        document = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    body = serialise(document)
    parsed = parsed_as_the_server_sees_it(body)
    assume(len(body) <= MAX_CONTENT_LENGTH)
    before = target.snapshot()
    response = target.post_taxii(body, STIX if bundle else TAXII)
    if parsed is None:
        assert "JSON" in assert_clear_4xx(response)
        assert target.snapshot() == before
        return
    assert isinstance(parsed, dict)
    check_add_objects(target, before, response, parsed["objects"])


def test_duplicate_ids_within_a_bundle(target: Target) -> None:
    """The same (id, modified) twice is stored once (both listed as successes, the second
    as already stored; the first body wins); the same id with another ``modified`` is a
    second version; an id whose type part is not the object's type is refused."""
    same = indicator(name="first body")
    same_other_body = {**same, "name": "second body"}
    versioned = indicator(name="v1")
    newer = {**versioned, "modified": "2024-02-01T00:00:00.000Z", "name": "v2"}
    clash = malware(id=f"indicator--{uuid.uuid4()}")
    sent = [same, same_other_body, versioned, newer, same, clash]
    before = target.snapshot()
    response = target.post_taxii(orjson.dumps({"objects": sent}))
    assert response.status_code == 202, response.text
    status = response.json()
    assert [d["id"] for d in status["successes"]] == [o["id"] for o in sent[:5]]
    assert "already stored" in status["successes"][1]["message"]
    assert "already stored" in status["successes"][4]["message"]
    assert [d["id"] for d in status["failures"]] == [clash["id"]]
    manifest, objects = target.snapshot()
    assert manifest[: len(before[0])] == before[0]
    added = [without_markings(o) for o in objects[len(before[1]) :]]
    assert added == [same, versioned, newer]


OUT_OF_RANGE_TIMESTAMPS = [
    "0000-01-01T00:00:00.000Z",
    "10000-01-01T00:00:00.000Z",
    "99999-12-31T23:59:59.999Z",
    "2024-13-01T00:00:00.000Z",
    "2024-00-10T00:00:00.000Z",
    "2024-01-32T00:00:00.000Z",
    "2023-02-29T00:00:00.000Z",
    "2024-01-01T24:00:00.000Z",
    "2024-01-01T23:60:00.000Z",
    "2024-01-01T23:59:61.000Z",
    "2016-12-31T23:59:60Z",
    "2024-01-01T00:00:00.1234567890Z",
    f"2024-01-01T00:00:00.{'9' * 1000}Z",
    "2024-01-01T00:00:00.000z",
    "2024-01-01T00:00:00.000+00:00",
    "2024-01-01 00:00:00.000Z",
    "-0001-01-01T00:00:00.000Z",
    "+2024-01-01T00:00:00.000Z",
    "2024-1-1T0:0:0.000Z",
    "",
]


@pytest.mark.parametrize(
    "stamp", OUT_OF_RANGE_TIMESTAMPS, ids=lambda s: s if len(s) < 40 else f"{s[:24]}..{len(s)}"
)
@pytest.mark.parametrize("prop", ["created", "modified", "valid_from", "valid_until"])
def test_out_of_range_timestamps_are_failures(target: Target, prop: str, stamp: str) -> None:
    before = target.snapshot()
    obj = indicator(**{prop: stamp})
    response = target.post_taxii(orjson.dumps({"objects": [obj]}))
    status = check_add_objects(target, before, response, [obj])
    assert status is not None
    assert status["success_count"] == 0, status
    assert prop in status["failures"][0]["message"], status


@pytest.mark.parametrize(
    "raw",
    ["1e309", "-1e309", "-1", "101", "18446744073709551616", "1.5", "true", '"50"', "null"],
)
def test_out_of_range_numbers_are_refused(target: Target, raw: str) -> None:
    """``confidence`` must be an integer 0-100; a number no double holds is not JSON."""
    obj = indicator()
    body = orjson.dumps({"objects": [obj]}).replace(
        b'"valid_from"', f'"confidence":{raw},"valid_from"'.encode()
    )
    before = target.snapshot()
    response = target.post_taxii(body)
    if raw.endswith("e309"):
        assert "JSON" in assert_clear_4xx(response)
        assert target.snapshot() == before
        return
    sent = orjson.loads(body)["objects"]
    status = check_add_objects(target, before, response, sent)
    assert status is not None
    assert status["success_count"] == 0, status
    assert "confidence" in status["failures"][0]["message"]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("10000 brackets", b"[" * 10_000),
        ("10000 objects deep", b'{"a":' * 10_000 + b"1" + b"}" * 10_000),
        ("nested objects list", b'{"objects":' + b"[" * 5000 + b"]" * 5000 + b"}"),
        ("lone surrogate", b'{"objects":[{"type":"indicator","name":"\\ud800"}]}'),
        ("reversed surrogates", b'{"objects":[{"type":"indicator","name":"\\udfff\\ud800"}]}'),
        ("invalid utf-8", b'{"objects":[{"type":"indicator","name":"\xc3\x28"}]}'),
        ("overlong utf-8 NUL", b'{"objects":[{"type":"indicator","name":"\xc0\x80"}]}'),
        ("raw control character", b'{"objects":[{"type":"indicator","name":"a\x01b"}]}'),
        ("NaN", b'{"objects":[{"type":"indicator","confidence":NaN}]}'),
        ("byte order mark", b'\xef\xbb\xbf{"objects":[]}'),
        ("utf-16", '{"objects":[]}'.encode("utf-16")),
        ("two documents", b'{"objects":[]}{"objects":[]}'),
        ("trailing comma", b'{"objects":[],}'),
        ("single quotes", b"{'objects':[]}"),
        ("number for objects", b'{"objects":1e309}'),
        ("huge integer", b'{"objects":[' + b"9" * 5000 + b"]}"),
    ],
)
def test_malformed_json_is_a_400_and_stores_nothing(target: Target, name: str, body: bytes) -> None:
    before = target.snapshot()
    response = target.post_taxii(body)
    assert response.status_code == 400, (name, response.status_code, response.text[:300])
    assert_clear_4xx(response)
    assert target.snapshot() == before


@pytest.mark.parametrize("depth", [10, 100, 200])
def test_nesting_the_hub_can_store_is_stored_intact(target: Target, depth: int) -> None:
    obj = indicator(x_deep="@@")
    body = orjson.dumps({"objects": [obj]}).replace(
        b'"@@"', b'{"a":' * depth + b'"bottom"' + b"}" * depth
    )
    before = target.snapshot()
    response = target.post_taxii(body)
    status = check_add_objects(target, before, response, orjson.loads(body)["objects"])
    assert status is not None
    assert status["success_count"] == 1, status


@pytest.mark.parametrize("depth", [300])
def test_nesting_deeper_than_the_hub_can_store_is_refused(target: Target, depth: int) -> None:
    obj = indicator(x_deep="@@")
    body = orjson.dumps({"objects": [obj]}).replace(b'"@@"', b"[" * depth + b"]" * depth)
    before = target.snapshot()
    response = target.post_taxii(body)
    status = check_add_objects(target, before, response, orjson.loads(body)["objects"])
    if status is not None:
        assert status["success_count"] == 0, status


def test_unicode_tricks_are_stored_exactly_or_refused(target: Target) -> None:
    """No normalisation: NFC and NFD names are two different, exact strings; ids and types
    with homoglyphs, zero-width or bidi characters are refused."""
    nfc = indicator(name="caf\u00e9", description="\u202eevil\u202c \u0000 \ufeff")
    nfd = indicator(name="cafe\u0301")
    bad_ids = [
        indicator(id=f"indicator--{UUID.replace('a', chr(0x430))}"),
        indicator(id=f"indicator--{UUID}\u200b"),
        indicator(id=f"\u0456ndicator--{UUID}"),
        indicator(id=f"indicator\u2010\u2010{UUID}"),
        indicator(id=f"indicator--{UUID.replace('8', chr(0x0668))}"),
        indicator(type="\uff49ndicator"),
        indicator(type="indicator\u202e"),
        indicator(spec_version="2\u20241"),
    ]
    sent = [nfc, nfd, *bad_ids]
    before = target.snapshot()
    response = target.post_taxii(orjson.dumps({"objects": sent}))
    status = check_add_objects(target, before, response, sent)
    assert status is not None
    assert [d["id"] for d in status["successes"]] == [nfc["id"], nfd["id"]]
    assert status["failure_count"] == len(bad_ids)


@pytest.mark.parametrize(
    "digits",
    [
        "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
        "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",
    ],
)
def test_timestamps_with_non_ascii_digits_are_refused(target: Target, digits: str) -> None:
    stamp = "2024-01-01T00:00:00.000Z".translate(str.maketrans("0123456789", digits))
    obj = indicator(created=stamp, modified=stamp, valid_from=stamp)
    before = target.snapshot()
    response = target.post_taxii(orjson.dumps({"objects": [obj]}))
    status = check_add_objects(target, before, response, [obj])
    assert status is not None
    assert status["success_count"] == 0, status


# --- body size limits -------------------------------------------------------------------


def padded(document: object, size: int) -> bytes:
    body = orjson.dumps(document)
    assert len(body) <= size
    return body + b" " * (size - len(body))


def test_huge_strings_around_the_limit(target: Target) -> None:
    """A name that makes the body one byte over the limit is a 413 (with or without a
    Content-Length); one byte under is stored intact."""
    before = target.snapshot()
    skeleton = indicator(name="")
    overhead = len(orjson.dumps({"objects": [skeleton]}))
    over = indicator(name="x" * (MAX_CONTENT_LENGTH + 1 - overhead))
    body = orjson.dumps({"objects": [over]})
    assert len(body) == MAX_CONTENT_LENGTH + 1
    assert str(MAX_CONTENT_LENGTH) in assert_clear_4xx(target.post_taxii(body))
    assert target.post_taxii(body).status_code == 413

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = target.send("POST", OBJECTS, content=chunks(), headers={"Content-Type": TAXII})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert target.snapshot() == before

    under = indicator(name="\u00e9" * ((MAX_CONTENT_LENGTH - 1 - overhead) // 2))
    body = orjson.dumps({"objects": [under]})
    assert MAX_CONTENT_LENGTH - 2 <= len(body) <= MAX_CONTENT_LENGTH - 1
    response = target.post_taxii(body)
    status = check_add_objects(target, before, response, [under])
    assert status is not None
    assert status["success_count"] == 1


def _body_operations() -> list[tuple[str, str]]:
    """Every operation of the app that reads a request body, from its OpenAPI document."""
    from conftest import FixedClock, SequentialIds
    from shieldwall.services.context import Hub, HubConfig
    from shieldwall.web.app import create_app

    app = create_app(
        Hub(Database.from_url("sqlite://"), FixedClock(), SequentialIds(), HubConfig())
    )
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch") or "requestBody" in operation:
                found.append((method.upper(), path))
    return sorted(found)


PATH_VALUES = {
    "{api_root}": "hub",
    "{collection_id}": "shared",
    "{object_id}": f"indicator--{UUID}",
    "{name}": "no-such-group",
    "{draft_id}": str(uuid.UUID(int=1)),
}
# Bodies that would be accepted if they were small (so only the size can refuse them).
SMALL_BODIES: dict[tuple[str, str], object] = {
    ("PATCH", "/api/v1/groups/{name}"): {"add": [], "remove": []},
    ("POST", "/api/v1/anon/tokens"): {"epoch": 0, "blinded": ["AA=="]},
    ("POST", "/api/v1/anon/sealed/{object_id}"): {"reason": "size limit"},
    ("POST", "/api/v1/reports/extract"): {"text": "seen from 198.51.100.7"},
    ("POST", "/api/v1/reports/drafts"): {"text": "seen from 198.51.100.7"},
    ("PUT", "/api/v1/reports/drafts/{draft_id}/review"): {"redact": True},
    ("POST", "/api/v1/reports/drafts/{draft_id}/publish"): {"tlp": "amber"},
}
# Bodies FastAPI parses into pydantic models, without read_body() and its limit.


def _size_limit_cases() -> list[Any]:
    cases = []
    for method, path in _body_operations():
        cases.append(pytest.param(method, path, id=f"{method} {path}"))
    return cases


@pytest.mark.parametrize(("method", "path"), _size_limit_cases())
def test_every_request_body_is_size_limited(target: Target, method: str, path: str) -> None:
    """A body one byte past ``max_content_length`` is a 413 on every operation that reads
    one, with a Content-Length and chunked, and nothing changes."""
    url = path
    for placeholder, value in PATH_VALUES.items():
        url = url.replace(placeholder, value)
    document = SMALL_BODIES.get((method, path), {"objects": [indicator()]})
    if path == "/api/v1/groups":  # would store a description past the limit
        document = {"name": "size-limit-group", "description": "x" * MAX_CONTENT_LENGTH}
    body = orjson.dumps(document)
    if len(body) <= MAX_CONTENT_LENGTH:
        body = padded(document, MAX_CONTENT_LENGTH + 1)
    content_type = TAXII if path.startswith("/taxii2") else "application/json"
    before = target.snapshot()
    response = target.send(method, url, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 413, (response.status_code, response.text[:300])
    assert str(MAX_CONTENT_LENGTH) in assert_clear_4xx(response)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    response = target.send(method, url, content=chunks(), headers={"Content-Type": content_type})
    assert response.status_code == 413, (response.status_code, response.text[:300])
    assert target.snapshot() == before


# --- bad TAXII and REST query parameters --------------------------------------------------

TAXII_PARAMETERS = [
    "match[id]",
    "match[type]",
    "match[version]",
    "match[spec_version]",
    "added_after",
    "limit",
    "next",
]
REST_PARAMETERS = ["type", "q", "tlp", "added_after", "limit", "next", "collection"]
query_values = tricky_strings | st.sampled_from(
    [
        "all,first,last",
        "first,2024-01-01T00:00:00.000Z",
        "-1",
        "0",
        "99999999999999999999999999",
        "1e3",
        "MS4xLjEuYWJj",
        "MS45OTk5OTk5OTk5OTk5OTk5OTk5OTkuMS5hYmM",
        ",,,",
        "indicator,,malware",
        "2.0,2.1,2.2",
        "amber+strict,red,white",
        "%00",
        "' OR 1=1 --",
        "%' OR '1'='1",
        "\\",
    ]
)


@FUZZ
@given(
    endpoint=st.sampled_from(["objects", "manifest", "object", "versions", "delete", "rest"]),
    params=st.dictionaries(
        st.sampled_from(TAXII_PARAMETERS + REST_PARAMETERS), query_values, max_size=4
    ),
)
def test_bad_query_values_are_4xx_and_change_nothing(
    target: Target, endpoint: str, params: dict[str, str]
) -> None:
    seeded = target.seeded[0]["id"]
    method, path = {
        "objects": ("GET", OBJECTS),
        "manifest": ("GET", MANIFEST),
        "object": ("GET", f"{OBJECTS}{seeded}/"),
        "versions": ("GET", f"{OBJECTS}{seeded}/versions/"),
        "delete": ("DELETE", f"{OBJECTS}indicator--{uuid.uuid4()}/"),
        "rest": ("GET", REST_OBJECTS),
    }[endpoint]
    before = target.snapshot()
    response = target.send(method, path, params=params)
    assert response.status_code < 500, (params, response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert_clear_4xx(response)
    else:
        assert response.status_code == 200, response.text[:300]
    assert target.snapshot() == before


def test_huge_query_strings(target: Target) -> None:
    """Query strings up to 64 KB reach the handlers (refused or answered); a request line
    or header of a megabyte is refused by the HTTP layer, and the server keeps serving."""
    before = target.snapshot()
    for params in (
        {"match[id]": ",".join(f"indicator--{uuid.uuid4()}" for _ in range(1200))},
        {"match[type]": ",".join(["indicator"] * 5000)},
        {"added_after": "2024-01-01T00:00:00." + "1" * 50_000 + "Z"},
        {"x": "a" * 60_000},
    ):
        for path in (OBJECTS, MANIFEST, REST_OBJECTS):
            response = target.send("GET", path, params=params)
            assert response.status_code < 500, (path, response.status_code, response.text[:300])
            if response.status_code >= 400:
                assert_clear_4xx(response)
    host, port = target.server.url.removeprefix("http://").split(":")
    for request in (
        f"GET {MANIFEST}?x={'a' * 1_000_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        f"GET {MANIFEST} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {'k' * 1_000_000}"
        "\r\n\r\n".encode(),
    ):
        status = raw_status(host, int(port), request)
        assert status is None or 400 <= status < 500, status
    assert httpx.get(f"{target.server.url}/healthz", timeout=30).status_code == 200
    assert target.snapshot() == before


def raw_status(host: str, port: int, request: bytes) -> int | None:
    """Send ``request`` on a fresh socket; the status code of the answer, or ``None`` when
    the server reset the connection instead (it may stop reading early)."""
    with socket.create_connection((host, port), timeout=30) as sock:
        answer = b""
        try:
            with contextlib.suppress(OSError):  # refused half-way: the answer still waits
                sock.sendall(request)
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            return None
    return int(answer.split(b" ", 2)[1]) if answer else None


# --- the REST submission endpoint -------------------------------------------------------

scopes = (
    st.none()
    | st.fixed_dictionaries(
        {},
        optional={
            "sectors": st.lists(st.sampled_from(["financial", "legal", "nope", ""]), max_size=3),
            "countries": st.lists(st.sampled_from(["US", "gb", "XX", "USA", "\u0000"]), max_size=3),
            "groups": st.lists(st.sampled_from(["no-such-group", "Bad Name", ""]), max_size=2),
            "organizations": st.lists(
                st.sampled_from([f"identity--{UUID}", "identity--nope", "x"]), max_size=2
            ),
        },
    )
    | json_values
)


@FUZZ
@given(
    objects=st.lists(hostile_objects | non_objects, max_size=5) | json_values,
    tlp=st.none()
    | st.sampled_from(["clear", "green", "amber", "amber+strict", "red"])
    | json_values,
    scope=scopes,
    collection=st.none() | st.just("shared") | tricky_strings | json_values,
    attribution=st.none()
    | st.sampled_from(["attributed", "anonymous", "unlinkable"])
    | json_values,
    extra=st.dictionaries(st.text(max_size=8), json_values, max_size=2),
)
def test_rest_submission_refuses_hostile_documents(
    target: Target,
    objects: object,
    tlp: object,
    scope: object,
    collection: object,
    attribution: object,
    extra: dict[str, object],
) -> None:
    document: dict[str, Any] = {**extra, "objects": objects}
    for name, value in (
        ("tlp", tlp),
        ("scope", scope),
        ("collection", collection),
        ("attribution", attribution),
    ):
        if value is not None:
            document[name] = value
    body = serialise(document)
    parsed = parsed_as_the_server_sees_it(body)
    assume(len(body) <= MAX_CONTENT_LENGTH)
    assume(not known_bug("POST", REST_OBJECTS, parsed))
    before = target.snapshot()
    response = target.send(
        "POST", REST_OBJECTS, content=body, headers={"Content-Type": "application/json"}
    )
    sent = parsed.get("objects") if isinstance(parsed, dict) else None
    check_add_objects(
        target,
        before,
        response,
        sent if isinstance(sent, list) else None,
        compare_bodies=False,
    )


@pytest.mark.parametrize("scope", [{"sectors": 5}, [1], "financial", {"countries": [1]}])
def test_rest_scope_of_the_wrong_shape_is_a_bad_request(target: Target, scope: object) -> None:
    before = target.snapshot()
    response = target.send("POST", REST_OBJECTS, json={"objects": [indicator()], "scope": scope})
    assert_clear_4xx(response)
    assert target.snapshot() == before


@pytest.mark.parametrize("extensions", [5, "ab", [1], True])
def test_rest_scope_with_extensions_that_are_not_an_object_is_a_bad_request(
    target: Target, extensions: object
) -> None:
    before = target.snapshot()
    obj = indicator(extensions=extensions)
    response = target.send(
        "POST", REST_OBJECTS, json={"objects": [obj], "scope": {"sectors": ["financial"]}}
    )
    check_add_objects(target, before, response, [obj], compare_bodies=False)


# --- the anonymous submission endpoint ----------------------------------------------------

b64 = st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode())
tokens = (
    st.fixed_dictionaries(
        {},
        optional={
            "epoch": st.integers(min_value=-(2**70), max_value=2**70) | json_values,
            "input": b64 | tricky_strings | json_values,
            "authenticator": b64 | tricky_strings | json_values,
        },
    )
    | json_values
)


@FUZZ
@given(
    token=tokens,
    objects=st.lists(hostile_objects | non_objects, max_size=4) | json_values,
    tlp=st.none() | st.sampled_from(["amber", "red"]) | json_values,
    scope=scopes,
    with_key=st.booleans(),
)
def test_anonymous_submission_refuses_hostile_documents(
    target: Target, token: object, objects: object, tlp: object, scope: object, with_key: bool
) -> None:
    """No token this hub issued, so every submission is a 4xx and nothing is queued or
    published."""
    document: dict[str, Any] = {"token": token, "objects": objects}
    if tlp is not None:
        document["tlp"] = tlp
    if scope is not None:
        document["scope"] = scope
    body = serialise(document)
    assume(len(body) <= MAX_CONTENT_LENGTH)
    assume(not known_bug("POST", ANON_SUBMISSIONS, parsed_as_the_server_sees_it(body)))
    before = target.snapshot()
    headers = {"Content-Type": "application/json"}
    if with_key:
        response = target.send("POST", ANON_SUBMISSIONS, content=body, headers=headers)
    else:
        response = target.client.post(ANON_SUBMISSIONS, content=body, headers=headers)
        if response.status_code >= 500:
            target.reset()
    assert_clear_4xx(response)
    assert target.snapshot() == before


@pytest.mark.parametrize(
    "token",
    [
        None,
        "token",
        [],
        {},
        {"epoch": 0},
        {"epoch": True, "input": "AA==", "authenticator": "AA=="},
        {"epoch": 1.5, "input": "AA==", "authenticator": "AA=="},
        {"epoch": "0", "input": "AA==", "authenticator": "AA=="},
        {"epoch": 2**80, "input": "AA==", "authenticator": "AA=="},
        {"epoch": -(2**80), "input": "AA==", "authenticator": "AA=="},
        {"epoch": 0, "input": "not base64!", "authenticator": "AA=="},
        {"epoch": 0, "input": "AA==", "authenticator": 5},
        {"epoch": 0, "input": "A" * 40_000, "authenticator": "AA=="},
        {"epoch": 0, "input": "AA==", "authenticator": "\u0000"},
    ],
)
def test_a_malformed_token_is_a_4xx(target: Target, token: object) -> None:
    before = target.snapshot()
    response = target.client.post(
        ANON_SUBMISSIONS, json={"token": token, "objects": [indicator()], "tlp": "amber"}
    )
    if response.status_code >= 500:
        target.reset()
    assert_clear_4xx(response)
    assert target.snapshot() == before


@pytest.mark.parametrize(
    "scope", [{"sectors": 5}, {"countries": [1]}, {"organizations": [None]}, {"groups": True}]
)
def test_anonymous_scope_of_the_wrong_shape_is_a_bad_request(target: Target, scope: object) -> None:
    before = target.snapshot()
    token = {"epoch": 0, "input": "AA==", "authenticator": "AA=="}
    response = target.client.post(
        ANON_SUBMISSIONS, json={"token": token, "objects": [indicator()], "scope": scope}
    )
    if response.status_code >= 500:
        target.reset()
    assert_clear_4xx(response)
    assert target.snapshot() == before


# --- PostgreSQL: text the database cannot hold ----------------------------------------------


@pytest.fixture(scope="module")
def postgres_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    database = fresh_postgres_database()
    tmp_path: Path = tmp_path_factory.mktemp("hostile-pg")
    setup = build_hub(Settings().with_overrides(database_url=database))
    admin.add_organisation(setup, "Hostile Bank", "financial", "US", "member")
    key = admin.create_key(setup, "Hostile Bank", "hostile input")
    assert isinstance(setup.store, Database)
    setup.store.dispose()
    server = start_server(database, tmp_path)
    made = Target(server, key)
    try:
        yield made
    finally:
        made.reset()
        stop_server(server)


NUL_REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", REST_OBJECTS, {"q": "a\u0000b"}),
    ("GET", REST_OBJECTS, {"collection": "sh\u0000ared"}),
    ("GET", f"{REST_OBJECTS}/indicator--%00", {}),
    ("GET", "/taxii2/hub/collections/sh%00ared/objects/", {}),
    ("GET", "/taxii2/hub/status/a%00b/", {}),
]


@pytest.mark.postgres
def test_nul_in_paths_and_queries_is_not_a_server_error_on_postgresql(
    postgres_target: Target,
) -> None:
    answers = []
    for method, path, params in NUL_REQUESTS:
        response = postgres_target.send(method, path, params=params)
        if 400 <= response.status_code < 500:
            assert_clear_4xx(response)
        answers.append((path, params, response.status_code))
    assert all(status < 500 for _, _, status in answers), answers


@pytest.mark.postgres
@pytest.mark.postgres
def test_nul_in_stix_strings_is_stored_exactly_on_postgresql(postgres_target: Target) -> None:
    """Inside a STIX object a NUL is JSON-escaped, which PostgreSQL holds."""
    obj = indicator(name="a\u0000b", x_list=["\u0000"], description="\u0000")
    response = postgres_target.post_taxii(orjson.dumps({"objects": [obj]}))
    assert response.status_code == 202, response.text
    assert response.json()["success_count"] == 1
    stored = postgres_target.send("GET", f"{OBJECTS}{obj['id']}/")
    assert stored.status_code == 200
    assert [without_markings(o) for o in stored.json()["objects"]] == [obj]
