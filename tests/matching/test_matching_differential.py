"""Generated (pattern, observations) pairs: our matcher against stix2-matcher 3.0.0.

Hypothesis draws observations (2-5 observed-data, 1-4 objects each, number_observed up to 3,
overlapping time intervals) over a small vocabulary so that matches are frequent, and patterns
over the same vocabulary: ``=``, ``!=``, ``IN``, ``LIKE``, ``MATCHES``, ``<``…``>=``,
``ISSUBSET``/``ISSUPERSET`` on IPv4, ``NOT``, references, list steps, hex/base64 properties,
comparison ``AND``/``OR``, observation ``AND``/``OR``/``FOLLOWEDBY``, ``WITHIN``, ``REPEATS``
and ``START``/``STOP``.  Pattern text is canonical (``format_pattern``), so both parsers group
operators the same way (left to right) and the first binding — the observations reported —
must agree too, not only match/no-match.

Each pair runs in exact mode (``normalise=False``); when the pair's strings are already in
normal form (see ``_canonical``) it also runs in the default normalising mode, which must
then agree as well.

Excluded explicitly, never silently:

* pairs where stix2-matcher raises ``MatcherException`` (``ISSUPERSET`` with a plain address
  as the container, which it cannot parse as CIDR): ours answers (a /32) — reported as the
  ``excluded`` event; the generator keeps them rare.
* pairs where stix2-matcher crashes: ``LIKE`` on a ``*_hex``/``*_bin`` value that is not
  UTF-8 (``UnicodeDecodeError`` escapes ``like_pred``); ours treats the value as failing the
  comparison (negated or not), like its other per-value errors — the ``excluded: … crash``
  event.
* ``EXISTS`` is not generated: stix2-matcher has no implementation of it (its listener leaves
  the object path on the stack, so ``NOT EXISTS`` behaves as ``EXISTS`` and ``EXISTS a AND b``
  raises TypeError); ours is unit-tested in ``test_matching_units.py``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from matching_strategies import (
    BASE,
    COMPARISONS,
    canonical_text,
    observation,
    observation_expression,
)
from matching_support import ours, theirs

from shieldwall.domain.matching import Observation
from shieldwall.domain.matching.paths import ipv4_text, normaliser
from shieldwall.domain.patterns import comparisons, parse_pattern

NOTHING = [Observation({"0": {"type": "nothing"}}, BASE, BASE)]


def test_every_generated_comparison_parses_on_both_sides() -> None:
    for kind, tests in COMPARISONS.items():
        for test in tests:
            pattern = f"[{test}]"
            parse_pattern(pattern)
            assert theirs(pattern, NOTHING) == ("nomatch", ()), (kind, pattern)


# ------------------------------------------------------------------------------- the check


def _canonical(text: str, observations: list[Observation]) -> bool:
    """Whether normalisation can change nothing here (so both modes must agree)."""
    for seen in observations:
        for obj in seen.objects.values():
            kind = obj["type"]
            if kind == "domain-name" and str(obj["value"]) != str(obj["value"]).lower():
                return False
            if kind == "ipv4-addr" and ipv4_text(str(obj["value"])) != obj["value"]:
                return False
            hashes = obj.get("hashes")
            if isinstance(hashes, dict) and any(v != str(v).lower() for v in hashes.values()):
                return False
    for node in comparisons(parse_pattern(text)):
        norm = normaliser(node.object_type, node.path)
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        for value in values:
            if norm is not None and isinstance(value, str) and norm(value) != value:
                return False
            # "=" on a CIDR block means "inside it" when normalising
            ip_equality = node.object_type == "ipv4-addr" and node.operator in ("=", "!=", "IN")
            if ip_equality and isinstance(value, str) and "/" in value:
                return False
    return True


PATTERNS_PER_EXAMPLE = 3


@settings(
    max_examples=int(
        os.environ.get("MATCHING_EXAMPLES", "700")
    ),  # x PATTERNS_PER_EXAMPLE = 2100 (pattern, observations) pairs
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(observation(), min_size=2, max_size=5),
    st.lists(observation_expression, min_size=PATTERNS_PER_EXAMPLE, max_size=PATTERNS_PER_EXAMPLE),
)
def test_agrees_with_stix2_matcher(observations: list[Observation], texts: list[str]) -> None:
    for text in texts:
        pattern = canonical_text(text)
        expected = theirs(pattern, observations)
        if expected[0] == "error":
            event("excluded: stix2-matcher raised MatcherException")
            continue
        if expected[0].startswith("crash"):
            event(f"excluded: stix2-matcher {expected[0]}")
            continue
        event(f"stix2-matcher: {expected[0]}")
        assert ours(pattern, observations) == expected, pattern
        if _canonical(pattern, observations):
            event("also compared in normalising mode")
            assert ours(pattern, observations, normalise=True) == expected, pattern
