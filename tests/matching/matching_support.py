"""Helpers for the matcher tests: observed-data in stix2-matcher's shapes, and both matchers.

``ours(pattern, observations)`` and ``theirs(pattern, observations)`` return an ``Outcome``:
``("match", observation positions)``, ``("nomatch", ())``, ``("rejected", ())`` (ours refused
the pattern at compile time), ``("parse-error", ())``, ``("error", ())`` (stix2-matcher raised
``MatcherException`` while matching) or ``("crash: <exception type>", ())`` (it failed with
another exception).  ``theirs`` runs stix2-matcher in STIX 2.1 mode on bundles made from
our observations (object keys become SCO ids, references rewritten).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from stix2matcher.matcher import MatcherException, match
from stix2patterns.exceptions import ParseException

from shieldwall.domain.matching import Matcher, Observation
from shieldwall.domain.timestamps import format_timestamp, parse_timestamp

Outcome = tuple[str, tuple[int, ...]]
NO_MATCH: Outcome = ("nomatch", ())


def observations_from(raw: list[dict[str, Any]], stix_version: str) -> list[Observation]:
    """stix2-matcher input (2.0 observed-data, or 2.1 bundles) as our ``Observation``\\ s."""
    raw = copy.deepcopy(raw)
    if stix_version == "2.0":
        return [
            Observation(
                sdo.get("objects", {}),
                parse_timestamp(sdo["first_observed"]),
                parse_timestamp(sdo["last_observed"]),
                sdo["number_observed"],
            )
            for sdo in raw
        ]
    merged = [obj for bundle in raw for obj in bundle["objects"]]
    scos = {obj["id"]: obj for obj in merged if obj["type"] != "observed-data"}
    result = []
    for sdo in merged:
        if sdo["type"] != "observed-data":
            continue
        objects = {ref: scos[ref] for ref in sdo["object_refs"] if ref in scos}
        result.append(
            Observation(
                objects,
                parse_timestamp(sdo["first_observed"]),
                parse_timestamp(sdo["last_observed"]),
                sdo["number_observed"],
            )
        )
    return result


def _rewrite(value: object, ids: Mapping[str, str], key: str = "") -> object:
    if isinstance(value, dict):
        return {k: _rewrite(v, ids, k) for k, v in value.items()}
    if key.endswith("_ref") and isinstance(value, str):
        return ids.get(value, f"dangling--{value}")
    if key.endswith("_refs") and isinstance(value, list):
        return [ids.get(v, f"dangling--{v}") if isinstance(v, str) else v for v in value]
    if isinstance(value, list):
        return [_rewrite(v, ids) for v in value]
    return value


def to_bundles(observations: Sequence[Observation]) -> list[dict[str, Any]]:
    """Our observations as STIX 2.1 bundles for stix2-matcher (``stix_version='2.1'``)."""
    bundles = []
    for position, observation in enumerate(observations):
        ids = {key: f"x-sco--{position}-{n}" for n, key in enumerate(observation.objects)}
        scos = []
        for key, obj in observation.objects.items():
            sco = _rewrite(dict(obj), ids)
            assert isinstance(sco, dict)
            sco["id"] = ids[key]
            scos.append(sco)
        observed = {
            "type": "observed-data",
            "id": f"observed-data--{position}",
            "first_observed": format_timestamp(observation.first_observed),
            "last_observed": format_timestamp(observation.last_observed),
            "number_observed": observation.number_observed,
            "object_refs": [ids[key] for key in observation.objects],
        }
        bundles.append(
            {"type": "bundle", "id": f"bundle--{position}", "objects": [observed, *scos]}
        )
    return bundles


def theirs(pattern: str, observations: Sequence[Observation]) -> Outcome:
    try:
        found = match(pattern, to_bundles(observations), stix_version="2.1")
    except ParseException:
        return ("parse-error", ())
    except MatcherException:
        return ("error", ())
    except Exception as error:
        return (f"crash: {type(error).__name__}", ())
    if not found:
        return NO_MATCH
    positions = [int(sdo["objects"][0]["id"].rpartition("--")[2]) for sdo in found]
    return ("match", tuple(sorted(positions)))


def theirs_raw(pattern: str, raw: list[dict[str, Any]], stix_version: str) -> Outcome:
    """stix2-matcher on its own input shapes; positions are observed-data positions."""
    raw = copy.deepcopy(raw)
    try:
        found = match(pattern, raw, stix_version=stix_version)
    except ParseException:
        return ("parse-error", ())
    except MatcherException:
        return ("error", ())
    if not found:
        return NO_MATCH
    if stix_version == "2.0":
        order = [id(sdo) for sdo in raw]
        return ("match", tuple(sorted(order.index(id(sdo)) for sdo in found)))
    ids = [o["id"] for b in raw for o in b["objects"] if o["type"] == "observed-data"]
    return ("match", tuple(sorted(ids.index(sdo["objects"][0]["id"]) for sdo in found)))


def ours(pattern: str, observations: Sequence[Observation], normalise: bool = False) -> Outcome:
    matcher = Matcher.compile([("indicator--under-test", pattern)], normalise=normalise)
    if matcher.rejected:
        return ("rejected", ())
    found = matcher.match(observations)
    if not found:
        return NO_MATCH
    assert [m.indicator_id for m in found] == ["indicator--under-test"]
    return ("match", found[0].observations)
