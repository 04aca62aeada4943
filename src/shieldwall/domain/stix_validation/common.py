"""Per-type rules as data, and the STIX 2.1 §3.2 common properties every type starts from.

A type's :class:`_TypeRules` holds its category (which of ``created``/``modified`` it has),
a property checker per known property, the required properties, ordered timestamp pairs
and one cross-property rule.  :func:`_rules` merges a type's own checkers over the common
properties of its category: §3.2 for SDOs, SROs and the §7 meta objects, §7.2.1 for marking
definitions, and the SCO common properties for cyber observables (§6).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from shieldwall.domain.stix_validation.checks import (
    _boolean,
    _Check,
    _integer,
    _lang,
    _noop,
    _object,
    _ref,
    _ref_list,
    _string,
    _string_list,
)
from shieldwall.domain.stix_validation.compound import (
    _extensions,
    _external_references,
    _granular_markings,
)

# A cross-property rule takes the whole object and returns an error message or None.
_Rule = Callable[[dict[str, object], str], "str | None"]

_CORE = 0  # SDO, SRO, language-content, extension-definition: created and modified
_MARKING = 1  # marking-definition: created only
_SCO = 2  # cyber observables: neither


@dataclass(frozen=True, slots=True)
class _TypeRules:
    category: int
    checks: Mapping[str, _Check]
    required: tuple[str, ...]
    # (later, earlier, strictly): later must be > (strictly) or >= earlier
    ordered: tuple[tuple[str, str, bool], ...]
    rule: _Rule | None


_NO_EXTENSIONS: Final[Mapping[str, tuple[str, ...]]] = {}

_CORE_COMMON: Final[Mapping[str, _Check]] = {
    "type": _noop,
    "id": _noop,
    "spec_version": _noop,
    "created": _noop,
    "modified": _noop,
    "created_by_ref": _ref("identity"),
    "revoked": _boolean,
    "labels": _string_list,
    "confidence": _integer(0, 100),
    "lang": _lang,
    "external_references": _external_references,
    "object_marking_refs": _ref_list("marking-definition"),
    "granular_markings": _granular_markings,
    "extensions": _extensions(_NO_EXTENSIONS),
}

_SCO_COMMON: Final[Mapping[str, _Check]] = {
    "type": _noop,
    "id": _noop,
    "spec_version": _noop,
    "object_marking_refs": _ref_list("marking-definition"),
    "granular_markings": _granular_markings,
    "defanged": _boolean,
    "extensions": _extensions(_NO_EXTENSIONS),
}

_MARKING_COMMON: Final[Mapping[str, _Check]] = {
    "type": _noop,
    "id": _noop,
    "spec_version": _noop,
    "created": _noop,
    "created_by_ref": _ref("identity"),
    "external_references": _external_references,
    "object_marking_refs": _ref_list("marking-definition"),
    "granular_markings": _granular_markings,
    "extensions": _extensions(_NO_EXTENSIONS),
    "name": _string,
    "definition_type": _string,
    "definition": _object,
}

_SEEN: Final = (("last_seen", "first_seen", False),)


def _rules(
    category: int,
    checks: Mapping[str, _Check],
    required: tuple[str, ...] = (),
    ordered: tuple[tuple[str, str, bool], ...] = (),
    rule: _Rule | None = None,
) -> _TypeRules:
    common = {_CORE: _CORE_COMMON, _MARKING: _MARKING_COMMON, _SCO: _SCO_COMMON}[category]
    return _TypeRules(category, {**common, **checks}, required, ordered, rule)
