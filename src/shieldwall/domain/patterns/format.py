"""``format_pattern``: the canonical text of a STIX 2.1 pattern AST (STIX 2.1 §9).

The output parses back to the same AST; see :func:`format_pattern` for the canonical form.
"""

from __future__ import annotations

import base64
import math
import re
from decimal import Decimal

from shieldwall.domain.patterns.ast import (
    Binary,
    Comparison,
    ComparisonAnd,
    ComparisonExpr,
    ComparisonOr,
    FollowedBy,
    Hex,
    ObservationAnd,
    ObservationExpr,
    ObservationExpression,
    ObservationOr,
    PathStep,
    Pattern,
    Qualified,
    Qualifier,
    RepeatsQualifier,
    Timestamp,
    Value,
    WithinQualifier,
)
from shieldwall.domain.patterns.lexer import _RESERVED

__all__ = ["format_pattern"]


def format_pattern(pattern: Pattern) -> str:
    """Canonical text for ``pattern``; ``parse_pattern(format_pattern(p)) == p`` for parsed ``p``.

    Single spaces around operators, ``=``/``!=`` for ``==``/``<>``, minimal parentheses, bare
    property names where the grammar allows them, no comments, lower-case hex, padded base64,
    START/STOP timestamps with microseconds only when they are not zero.
    """
    return _format_observation(pattern.expression, 0)


_PRECEDENCE: dict[type[object], tuple[str, int]] = {
    FollowedBy: (" FOLLOWEDBY ", 1),
    ObservationOr: (" OR ", 2),
    ObservationAnd: (" AND ", 3),
    ComparisonOr: (" OR ", 1),
    ComparisonAnd: (" AND ", 2),
}


def _format_observation(node: ObservationExpr, outer: int) -> str:
    if isinstance(node, ObservationExpression):
        return f"[{_format_comparison(node.comparison, 0)}]"
    if isinstance(node, Qualified):
        text = _format_observation(node.expression, 9)  # joins come back parenthesized
        if isinstance(node.expression, Qualified):
            text = f"({text})"
        return " ".join([text, *map(_format_qualifier, node.qualifiers)])
    joiner, level = _PRECEDENCE[type(node)]
    text = joiner.join(_format_observation(operand, level) for operand in node.operands)
    return f"({text})" if level <= outer else text


def _format_comparison(node: ComparisonExpr, outer: int) -> str:
    if not isinstance(node, Comparison):
        joiner, level = _PRECEDENCE[type(node)]
        text = joiner.join(_format_comparison(operand, level) for operand in node.operands)
        return f"({text})" if level <= outer else text
    path = f"{node.object_type}:{_format_key(node.path[0])}"
    for step in node.path[1:]:
        path += f"[{step}]" if step == "*" or isinstance(step, int) else f".{_format_key(step)}"
    negation = "NOT " if node.negated else ""
    if node.operator == "EXISTS":
        return f"{negation}EXISTS {path}"
    return f"{path} {negation}{node.operator} {_format_value(node.value)}"


_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _format_key(key: PathStep) -> str:
    key = str(key)
    return key if _BARE_KEY.fullmatch(key) and key not in _RESERVED else _format_string(key)


def _format_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _format_value(value: Value | None) -> str:
    if isinstance(value, str):
        return _format_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, Timestamp):
        return f"t'{value.text}'"
    if isinstance(value, Hex):
        return f"h'{value.data.hex()}'"
    if isinstance(value, Binary):
        return f"b'{base64.b64encode(value.data).decode('ascii')}'"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_format_value, value)) + ")"
    raise ValueError(f"{value!r} is not a pattern value")


def _format_float(number: float) -> str:
    if not math.isfinite(number):
        raise ValueError(f"{number!r} has no pattern representation")
    text = format(Decimal(repr(number)), "f")  # shortest round trip, never an exponent
    return text if "." in text else text + ".0"


def _format_qualifier(qualifier: Qualifier) -> str:
    if isinstance(qualifier, WithinQualifier):
        seconds = qualifier.seconds
        whole = float(seconds).is_integer()
        return f"WITHIN {int(seconds) if whole else _format_float(seconds)} SECONDS"
    if isinstance(qualifier, RepeatsQualifier):
        return f"REPEATS {qualifier.times} TIMES"
    start, stop = _format_micros(qualifier.start_micros), _format_micros(qualifier.stop_micros)
    return f"START t'{start}' STOP t'{stop}'"


def _format_micros(micros: int) -> str:
    """RFC 3339 for years 0000-9999 (``datetime`` stops at year 1); civil_from_days (Hinnant)."""
    days, micros = divmod(micros, 86_400_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    era, day_of_era = divmod(days + 719_468, 146_097)
    year_of_era = day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    year_of_era //= 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_from_march = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_from_march + 2) // 5 + 1
    month = month_from_march + 3 if month_from_march < 10 else month_from_march - 9
    year = year_of_era + era * 400 + (month <= 2)
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    text = f"{year:04d}-{month:02d}-{day:02d}T{clock}"
    return f"{text}.{fraction:06d}Z" if fraction else f"{text}Z"
