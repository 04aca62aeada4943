"""Shared checks for the MISP converter tests: both validators and the pattern parser."""

from __future__ import annotations

from collections.abc import Iterable

from stix2validator import ValidationOptions, validate_instance

from shieldwall.domain.misp import ConvertedEvent, to_bundle
from shieldwall.domain.patterns import Pattern, comparisons, parse_pattern
from shieldwall.domain.stix_validation import validate_object

IMPORTER = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
# stix2-validator reports SHOULDs (UUIDv4 for SDOs, hashes on external references) as
# warnings; errors are MUST violations only.
OPTIONS = ValidationOptions(version="2.1")


def assert_valid(results: ConvertedEvent | Iterable[ConvertedEvent]) -> None:
    """Every object validates with stix2-validator (as one bundle) and the hub's validator,
    and every STIX pattern parses."""
    bundle = to_bundle(results)
    outcome = validate_instance(bundle, OPTIONS)
    assert outcome.is_valid, [str(error) for error in outcome.errors]
    for obj in bundle["objects"]:  # type: ignore[attr-defined]
        validate_object(obj)
        if obj["type"] == "indicator" and obj["pattern_type"] == "stix":
            parse_pattern(obj["pattern"])


def values(pattern_text: str) -> list[object]:
    """The values a STIX pattern compares with, unescaped, in order."""
    parsed: Pattern = parse_pattern(pattern_text)
    return [comparison.value for comparison in comparisons(parsed)]


def by_type(result: ConvertedEvent, object_type: str) -> list[dict[str, object]]:
    return [obj for obj in result.objects if obj["type"] == object_type]


def only(result: ConvertedEvent, object_type: str) -> dict[str, object]:
    found = by_type(result, object_type)
    assert len(found) == 1, found
    return found[0]
