"""``validate_object``: one pass over a STIX 2.1 object against the rules of its type.

``_RULES`` maps every STIX 2.1 type to its rules (the tables of :mod:`.sdo`, :mod:`.sro`,
:mod:`.meta` and :mod:`.sco`); custom types get theirs from :mod:`.custom`.

Checks, in order: the object is a JSON object; ``type`` (§3.1) and ``id`` (§2.9);
``spec_version`` (§3.2); every property against its type's checker, or, for properties the
type does not define, the §3.1 name rules, the reserved names of §3.2 and the §11 value
rules; ``created``/``modified`` (§3.2); required properties; ordered timestamps; the type's
cross-property rule; granular marking selectors (§7.2.3.1); and, for an indicator with
``pattern_type`` "stix", that the pattern parses (§9).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, cast

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.patterns import parse_pattern
from shieldwall.domain.stix_validation.checks import (
    _free_value_problem,
    _noop,
    _property_name_problem,
    _representable_problem,
)
from shieldwall.domain.stix_validation.common import _CORE, _SCO, _TypeRules
from shieldwall.domain.stix_validation.compound import _check_selectors
from shieldwall.domain.stix_validation.custom import _custom_rules
from shieldwall.domain.stix_validation.messages import _fail, _kind
from shieldwall.domain.stix_validation.meta import _META_RULES
from shieldwall.domain.stix_validation.sco import _SCO_RULES
from shieldwall.domain.stix_validation.sdo import _SDO_RULES
from shieldwall.domain.stix_validation.sro import _SRO_RULES
from shieldwall.domain.stix_validation.vocabulary import _RESERVED_PROPERTIES, SPEC_VERSION
from shieldwall.domain.timestamps import parse_timestamp

__all__ = ["ValidObject", "validate_object"]


_TYPE_NAME: Final = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)

_RULES: Final[Mapping[str, _TypeRules]] = {**_SDO_RULES, **_SRO_RULES, **_META_RULES, **_SCO_RULES}


@dataclass(frozen=True, slots=True)
class ValidObject:
    """What ingest needs to know about an object that passed validation."""

    id: str
    type: str
    spec_version: str
    created_micros: int | None
    modified_micros: int | None
    pattern: str | None


def validate_object(obj: object) -> ValidObject:
    """Check that ``obj`` (a parsed JSON value) is a valid STIX 2.1 object.

    Takes any parsed JSON value; nothing is modified. Returns a :class:`ValidObject`
    with the object's id, type, spec_version (``"2.1"``; for an SCO without the property
    the default ``"2.1"``), ``created``/``modified`` as microseconds since the epoch
    (``None`` where the object type has no such property, e.g. SCOs; marking definitions
    have ``created`` only) and the indicator pattern when ``pattern_type`` is ``"stix"``.

    A returned object is guaranteed to: be a JSON object with a valid ``type`` (a STIX 2.1
    type, or a custom type declared through a new-sdo/new-sco/new-sro extension) and an
    ``id`` of that type with an RFC 4122 UUID; carry every property its type requires,
    each of the spec's JSON type and format; have ordered timestamps; have only
    well-formed custom property names and no null values or empty lists at the top level;
    and, for a STIX indicator, a pattern that parses.

    Raises :class:`~shieldwall.domain.errors.InvalidStix` at the first problem found, with
    a message naming the object id (when usable), the property and the reason, and with
    ``object_id`` set when the id was usable.
    """
    if not isinstance(obj, dict):
        _fail(f"a STIX object must be a JSON object, not {_kind(obj)}", None)
    stix = cast(dict[str, object], obj)

    type_name = stix.get("type")
    if not isinstance(type_name, str):
        if type_name is None:
            _fail("the object has no type property", None)
        _fail(f"type must be a string, not {_kind(type_name)}", None)
    rules = _RULES.get(type_name)
    if rules is None:
        if type_name == "bundle":
            _fail("a bundle is an envelope, not an object that can be stored", None)
        if _TYPE_NAME.fullmatch(type_name) is None or not 3 <= len(type_name) <= 250:
            _fail(
                f"type {type_name!r} is not a valid STIX type name: 3–250 characters of "
                "a–z, 0–9 and '-', starting with a letter, without '--' or a trailing '-'",
                None,
            )

    oid = stix.get("id")
    if not isinstance(oid, str):
        if oid is None:
            _fail(f"the {type_name} object has no id property", None)
        _fail(f"{type_name} id must be a string, not {_kind(oid)}", None)
    prefix_end = len(type_name) + 2
    if not (oid.startswith(type_name) and oid[prefix_end - 2 : prefix_end] == "--"):
        _fail(f"id {oid!r} must start with '{type_name}--'", None)
    if _UUID.fullmatch(oid, prefix_end) is None:
        _fail(f"id {oid!r} does not end in an RFC 4122 UUID (version 1–5)", None)
    if rules is None:
        rules = _custom_rules(stix, type_name, oid)

    category = rules.category
    spec_version = stix.get("spec_version")
    if spec_version != SPEC_VERSION:
        if spec_version is None and "spec_version" not in stix:
            if category != _SCO:
                _fail("spec_version is required (and must be '2.1')", oid)
        else:
            _fail(f"spec_version must be '2.1', not {spec_version!r}", oid)

    checks = rules.checks
    for key, value in stix.items():
        if value is None:
            _fail(f"{key} must not be null (omit the property instead)", oid)
        check = checks.get(key)
        if check is _noop:
            continue
        if check is None:
            problem = _property_name_problem(key)
            if problem is None:
                if key in _RESERVED_PROPERTIES:
                    problem = f"{key} is a reserved property name and must not be used"
                else:
                    problem = _free_value_problem(value, key)
        else:
            problem = check(value, key)
        if problem is not None:
            _fail(problem, oid)

    created_micros: int | None = None
    modified_micros: int | None = None
    if category != _SCO:
        created_micros = _version_timestamp(stix, "created", oid, category == _CORE)
        if category == _CORE:
            if stix.get("modified") == stix["created"]:  # a first version: no second parse
                modified_micros = created_micros
            else:
                modified_micros = _version_timestamp(stix, "modified", oid, True)
                if modified_micros < created_micros:
                    _fail("modified must be later than or equal to created", oid)

    for name in rules.required:
        if name not in stix:
            _fail(f"{name} is required for {type_name} objects", oid)

    for later, earlier, strictly in rules.ordered:
        if later in stix and earlier in stix:
            later_text = cast(str, stix[later])
            earlier_text = cast(str, stix[earlier])
            if len(later_text) == len(earlier_text):
                # Both passed the fixed-width timestamp check, so same length means same
                # shape, and then text order is time order.
                order = (later_text > earlier_text) - (later_text < earlier_text)
            else:
                later_micros = parse_timestamp(later_text, later)
                earlier_micros = parse_timestamp(earlier_text, earlier)
                order = (later_micros > earlier_micros) - (later_micros < earlier_micros)
            if order < 0 or (strictly and order == 0):
                relation = "later than" if strictly else "later than or equal to"
                _fail(f"{later} must be {relation} {earlier}", oid)

    if rules.rule is not None:
        problem = rules.rule(stix, oid)
        if problem is not None:
            _fail(problem, oid)

    if "granular_markings" in stix:
        _check_selectors(stix, oid)

    pattern: str | None = None
    if type_name == "indicator" and stix["pattern_type"] == "stix":
        pattern = cast(str, stix["pattern"])
        try:
            parse_pattern(pattern)
        except InvalidInput as exc:
            _fail(f"indicator pattern does not parse: {exc.message}", oid)

    return ValidObject(
        id=oid,
        type=type_name,
        spec_version=SPEC_VERSION,
        created_micros=created_micros,
        modified_micros=modified_micros,
        pattern=pattern,
    )


def _version_timestamp(stix: dict[str, object], name: str, oid: str, millis: bool) -> int:
    """Parse ``created``/``modified`` (§3.2), requiring millisecond precision if ``millis``."""
    if name not in stix:
        _fail(f"{name} is required", oid)
    value = stix[name]
    try:
        micros = parse_timestamp(value, name)
    except InvalidInput as exc:
        _fail(exc.message, oid)
    text = cast(str, value)
    if millis and (len(text) < 24 or text[19] != "."):
        _fail(
            f"{name} {text!r} must be precise to at least the millisecond, "
            "like 2024-01-31T12:00:00.000Z",
            oid,
        )
    problem = _representable_problem(text, name)
    if problem is not None:
        _fail(problem, oid)
    return micros
