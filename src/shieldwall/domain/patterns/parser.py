"""``parse_pattern``: text to AST for STIX 2.1 patterns (STIX 2.1 §9).

Most indicators have the shape ``[type:path = 'text']``, perhaps several joined by OR; a
regular expression reads that shape alone (the fast path) and anything else goes to the
recursive-descent parser in :mod:`~shieldwall.domain.patterns.descent`, which gives the same
AST for every text the fast path reads (tested).
"""

from __future__ import annotations

import re

from shieldwall.domain.errors import PatternSyntaxError
from shieldwall.domain.patterns.ast import (
    Comparison,
    ObservationExpr,
    ObservationExpression,
    ObservationOr,
    Pattern,
)
from shieldwall.domain.patterns.checks import _hash_problem
from shieldwall.domain.patterns.descent import _Parser
from shieldwall.domain.patterns.lexer import _RESERVED

__all__ = ["parse_pattern"]


_LEADING = re.compile(r"[\s(]*")


def parse_pattern(text: str) -> Pattern:
    """Parse a STIX 2.1 pattern.

    Returns the AST, or raises ``PatternSyntaxError`` (``position`` is a 0-based character
    offset) for every text that is not a valid pattern, including the checks listed in the
    module docstring.  Raises nothing else for a ``str``.
    """
    if text[:1] == "[":
        simple = _parse_simple(text)
        if simple is not None:
            return simple
    else:  # stix2-patterns makes the same check before it parses
        leading = _LEADING.match(text)
        if not text.startswith("[", leading.end() if leading else 0):
            raise PatternSyntaxError("a pattern must start with '[' (or '(' then '[')", 0)
    return _parse_general(text)


def _parse_general(text: str) -> Pattern:
    parser = _Parser(text)
    try:
        expression = parser.observations()
    except RecursionError:
        raise PatternSyntaxError("pattern is nested too deeply", 0) from None
    if parser.tokens[parser.index]:
        raise parser.unexpected("the end of the pattern")
    return Pattern(expression)


# Most indicators look like ``[type:path = 'text']``, perhaps several joined by OR.  This reads
# that shape alone (no escapes, keywords or comments) at twice the speed, or returns None; the
# general parser gives the same AST for it (tested).
_SIMPLE = re.compile(
    r"\[\x20*([A-Za-z_][A-Za-z0-9_-]*):([A-Za-z_]\w*(?:\.(?:[A-Za-z_]\w*|'[^'\\]*'))*)"
    r"\x20*(!?=)\x20*'([^'\\]*)'\x20*\]\x20*(OR\x20+)?",
    re.ASCII,
)
_STEP = re.compile(r"([A-Za-z_]\w*)|'([^'\\]*)'", re.ASCII)


def _parse_simple(text: str) -> Pattern | None:
    observations: list[ObservationExpr] = []
    match = _SIMPLE.match(text)
    while match is not None:
        object_type, path_text, operator, value, more = match.groups()
        path: tuple[str, ...]
        if "'" in path_text:
            steps = _STEP.findall(path_text)
            path, bare = tuple(name or quoted for name, quoted in steps), tuple(s[0] for s in steps)
        else:
            path = bare = tuple(path_text.split("."))
        if object_type in _RESERVED or not _RESERVED.isdisjoint(bare):
            return None
        if "hashes" in path:
            problem = _hash_problem(path[-1], [value])
            if problem:
                raise PatternSyntaxError(problem, match.start(4) - 1)
        comparison = Comparison(object_type, path, "=" if operator == "=" else "!=", False, value)
        observations.append(ObservationExpression(comparison))
        if more is None:
            if match.end() != len(text):
                return None
            if len(observations) == 1:
                return Pattern(observations[0])
            return Pattern(ObservationOr(tuple(observations)))
        match = _SIMPLE.match(text, match.end())
    return None
