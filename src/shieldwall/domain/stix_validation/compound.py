"""Checkers for the structured STIX 2.1 data types and common properties.

§2.3 dictionary, §2.5 external reference (with the CVE and CAPEC id formats), §2.7 hashes
(the digest size of each algorithm of the hash-algorithm vocabulary), §2.11 kill-chain phase,
lists of objects, §7.2.3 granular markings (and, on the whole object, §7.2.3.1 selectors that
must resolve), and the §7.3 ``extensions`` property with the predefined extensions of §6.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, cast

from shieldwall.domain.stix_validation.checks import (
    _LANG,
    _URL,
    _Check,
    _open_properties_problem,
    _ref_problem,
)
from shieldwall.domain.stix_validation.messages import _fail, _kind, _list_problem
from shieldwall.domain.stix_validation.vocabulary import _EXTENSION_TYPES

_EXTENSION_DEFINITION_KEY: Final = re.compile(
    r"extension-definition--"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)
_DICT_KEY: Final = re.compile(r"[a-zA-Z0-9_-]{1,250}")
_HASH_KEY: Final = re.compile(r"[a-zA-Z0-9_-]{3,250}")
_SELECTOR: Final = re.compile(r"[a-z0-9_-]{3,249}(?:\.(?:\[\d+\]|[a-z0-9_-]{1,250}))*|id")

_CVE: Final = re.compile(r"CVE-\d{4}-(?:0\d{3}|[1-9]\d{3,})")
_CAPEC: Final = re.compile(r"CAPEC-\d+")

_HASH_FORMATS: Final[Mapping[str, re.Pattern[str]]] = {
    "MD5": re.compile(r"[a-fA-F0-9]{32}"),
    "SHA-1": re.compile(r"[a-fA-F0-9]{40}"),
    "SHA-256": re.compile(r"[a-fA-F0-9]{64}"),
    "SHA-512": re.compile(r"[a-fA-F0-9]{128}"),
    "SHA3-256": re.compile(r"[a-fA-F0-9]{64}"),
    "SHA3-512": re.compile(r"[a-fA-F0-9]{128}"),
    "SSDEEP": re.compile(r"[a-zA-Z0-9/+:.]{1,128}"),
    "TLSH": re.compile(r"(?:T1)?[a-fA-F0-9]{70}"),
}


def _dictionary(value: object, name: str) -> str | None:
    """STIX dictionary (§2.3): non-empty, keys of a–z A–Z 0–9 '_' '-', no null values."""
    if not isinstance(value, dict):
        return f"{name} must be an object, not {_kind(value)}"
    if not value:
        return f"{name} must not be empty (omit the property instead)"
    for key, item in value.items():
        if not (isinstance(key, str) and _DICT_KEY.fullmatch(key)):
            return f"{name} key {key!r} must be 1–250 characters of a–z, A–Z, 0–9, '_' and '-'"
        if item is None or (isinstance(item, list) and not item):
            return f"{name}.{key} must not be null or an empty list"
    return None


def _hashes_problem(value: object, name: str, algorithms_only: bool) -> str | None:
    """Hashes type (§2.7): keys are algorithm names, values hex digests of the right size."""
    if not isinstance(value, dict):
        return f"{name} must be an object, not {_kind(value)}"
    if not value:
        return f"{name} must not be empty (omit the property instead)"
    for key, digest in value.items():
        if not (isinstance(key, str) and _HASH_KEY.fullmatch(key)):
            return f"{name} key {key!r} must be 3–250 characters of a–z, A–Z, 0–9, '_' and '-'"
        if not isinstance(digest, str):
            return f"{name}.{key} must be a string, not {_kind(digest)}"
        expected = _HASH_FORMATS.get(key)
        if expected is None:
            if algorithms_only:
                return f"{name} key {key!r} is not one of {', '.join(_HASH_FORMATS)}"
        elif expected.fullmatch(digest) is None:
            return f"{name}.{key} {digest!r} is not a valid {key} value"
    return None


def _hashes(value: object, name: str) -> str | None:
    return _hashes_problem(value, name, algorithms_only=False)


def _external_references(value: object, name: str) -> str | None:
    """External references (§2.5)."""
    if not (isinstance(value, list) and value):
        return _list_problem(value, name, "external references")
    for index, ref in enumerate(value):
        problem = _external_reference_problem(ref)
        if problem is not None:
            return f"{name}[{index}]{problem}"
    return None


def _external_reference_problem(ref: object) -> str | None:
    """What is wrong with one external reference, as a suffix to its location."""
    if not isinstance(ref, dict):
        return f" must be an object, not {_kind(ref)}"
    source = ref.get("source_name")
    if not isinstance(source, str):
        return ".source_name is required and must be a string"
    for key in ("description", "url", "external_id"):
        if key in ref and not isinstance(ref[key], str):
            return f".{key} must be a string, not {_kind(ref[key])}"
    if not ("description" in ref or "url" in ref or "external_id" in ref):
        return " needs at least one of description, url and external_id"
    if "url" in ref and _URL.fullmatch(ref["url"]) is None:
        return f".url {ref['url']!r} is not a URL"
    if "hashes" in ref:
        problem = _hashes_problem(ref["hashes"], "hashes", algorithms_only=True)
        if problem is not None:
            return f".{problem}"
    external_id = ref.get("external_id")
    if source == "cve" and not (isinstance(external_id, str) and _CVE.fullmatch(external_id)):
        return " with source_name 'cve' needs an external_id like CVE-2024-1234"
    if source == "capec" and not (isinstance(external_id, str) and _CAPEC.fullmatch(external_id)):
        return " with source_name 'capec' needs an external_id like CAPEC-163"
    return None


def _kill_chain_phases(value: object, name: str) -> str | None:
    """Kill chain phases (§2.11)."""
    if not (isinstance(value, list) and value):
        return _list_problem(value, name, "kill chain phases")
    for index, phase in enumerate(value):
        if not isinstance(phase, dict):
            return f"{name}[{index}] must be an object, not {_kind(phase)}"
        for key in ("kill_chain_name", "phase_name"):
            if not isinstance(phase.get(key), str):
                return f"{name}[{index}].{key} is required and must be a string"
    return None


def _granular_markings(value: object, name: str) -> str | None:
    """Granular markings (§7.2.3); that selectors resolve is checked in ``_check_selectors``."""
    if not (isinstance(value, list) and value):
        return _list_problem(value, name, "granular markings")
    for index, marking in enumerate(value):
        problem = _granular_marking_problem(marking)
        if problem is not None:
            return f"{name}[{index}]{problem}"
    return None


_MARKING_DEFINITION: Final = frozenset({"marking-definition"})
_NOTHING: Final[frozenset[str]] = frozenset()


def _granular_marking_problem(marking: object) -> str | None:
    """What is wrong with one granular marking, as a suffix to its location."""
    if not isinstance(marking, dict):
        return f" must be an object, not {_kind(marking)}"
    selectors = marking.get("selectors")
    if not (isinstance(selectors, list) and selectors):
        return ".selectors is required and must be a non-empty list of strings"
    for selector in selectors:
        if not (isinstance(selector, str) and _SELECTOR.fullmatch(selector)):
            return f".selectors entry {selector!r} is not a valid selector"
    has_ref = "marking_ref" in marking
    if has_ref == ("lang" in marking):
        return " needs exactly one of marking_ref and lang"
    if has_ref:
        problem = _ref_problem(marking["marking_ref"], _MARKING_DEFINITION, _NOTHING)
        if problem is not None:
            return f".marking_ref {problem}"
    elif not (isinstance(marking["lang"], str) and _LANG.fullmatch(marking["lang"])):
        return ".lang must be an RFC 5646 language tag"
    return None


def _objects_list(*required: str) -> _Check:
    """A non-empty list of objects, each with the ``required`` string properties."""

    def check(value: object, name: str) -> str | None:
        if not (isinstance(value, list) and value):
            return _list_problem(value, name, "objects")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                return f"{name}[{index}] must be an object, not {_kind(item)}"
            for key in required:
                if not isinstance(item.get(key), str):
                    return f"{name}[{index}].{key} is required and must be a string"
        return None

    return check


def _extension_problem(
    key: object, extension: object, predefined: Mapping[str, tuple[str, ...]]
) -> str | None:
    """What is wrong with one ``extensions`` entry, as a suffix to its location."""
    if isinstance(key, str) and _EXTENSION_DEFINITION_KEY.fullmatch(key):
        if not isinstance(extension, dict):
            return f" must be an object, not {_kind(extension)}"
        extension_type = extension.get("extension_type")
        if extension_type not in _EXTENSION_TYPES:
            return (
                f".extension_type must be one of {', '.join(sorted(_EXTENSION_TYPES))}, "
                f"not {extension_type!r}"
            )
    elif isinstance(key, str) and key in predefined:
        if not (isinstance(extension, dict) and extension):
            return " must be a non-empty object"
        for required in predefined[key]:
            if required not in extension:
                return f" requires {required}"
    else:
        allowed = "an extension-definition id"
        if predefined:
            allowed += " or one of " + ", ".join(sorted(predefined))
        return f" is not {allowed}"
    problem = _open_properties_problem(extension)
    return None if problem is None else f": {problem}"


def _extensions(predefined: Mapping[str, tuple[str, ...]]) -> _Check:
    """The ``extensions`` property (§7.3, §6 predefined extensions).

    ``predefined`` maps the predefined extension names allowed on this type to the
    properties each of them requires.
    """

    def check(value: object, name: str) -> str | None:
        if not isinstance(value, dict):
            return f"{name} must be an object, not {_kind(value)}"
        if not value:
            return f"{name} must not be empty (omit the property instead)"
        for key, extension in value.items():
            problem = _extension_problem(key, extension, predefined)
            if problem is not None:
                return f"{name}[{key!r}]{problem}"
        return None

    return check


_MISSING: Final = object()


def _check_selectors(obj: dict[str, object], oid: str) -> None:
    """Granular marking selectors must point at content present in the object (§7.2.3.1)."""
    for marking in cast(list[dict[str, object]], obj["granular_markings"]):
        for selector in cast(list[str], marking["selectors"]):
            node: object = obj
            for part in selector.split("."):
                if part[0] == "[":
                    index = int(part[1:-1])
                    if not (isinstance(node, list) and index < len(node)):
                        node = _MISSING
                        break
                    node = node[index]
                elif isinstance(node, dict) and part in node:
                    node = node[part]
                else:
                    node = _MISSING
                    break
            if node is _MISSING:
                _fail(f"granular marking selector {selector!r} selects nothing", oid)
