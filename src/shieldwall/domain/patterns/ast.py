"""The STIX 2.1 pattern AST (STIX 2.1 §9 "STIX Patterning"): literals, comparisons,
observation expressions and qualifiers, as frozen dataclasses compared by value.

``ObservationAnd``/``ObservationOr``/``FollowedBy`` and ``ComparisonAnd``/``ComparisonOr``
are n-ary and flat (``a AND (b AND c)`` is one node with three operands); redundant parentheses
leave no trace; qualifiers wrap the expression they follow in ``Qualified``.
:func:`comparisons` walks a pattern's leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "Binary", "Comparison", "ComparisonAnd", "ComparisonExpr", "ComparisonOr", "FollowedBy",
    "Hex", "ObservationAnd", "ObservationExpr", "ObservationExpression", "ObservationOr",
    "Operator", "PathStep", "Pattern", "Qualified", "Qualifier", "RepeatsQualifier", "Scalar",
    "StartStopQualifier", "Timestamp", "Value", "WithinQualifier", "comparisons",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A ``t'...'`` literal: ``text`` as written between the quotes, ``micros`` since the epoch."""

    text: str
    micros: int


@dataclass(frozen=True, slots=True)
class Hex:
    """An ``h'...'`` literal, decoded."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Binary:
    """A ``b'...'`` (base64) literal, decoded."""

    data: bytes


Scalar: TypeAlias = str | bool | int | float | Timestamp | Hex | Binary
Value: TypeAlias = Scalar | tuple[Scalar, ...]  # a tuple is an IN list
PathStep: TypeAlias = str | int | Literal["*"]  # key, list index, any index ("[*]")
Operator: TypeAlias = Literal[
    "=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"
]


@dataclass(frozen=True, slots=True)
class Comparison:
    """``object_type:path [NOT] operator value``; ``value`` is None only for EXISTS.

    ``path`` starts with a key.  ``==`` and ``<>`` are read as ``=`` and ``!=``.  A quoted key
    ``'*'`` is indistinguishable from ``[*]`` here (both are ``"*"``).
    """

    object_type: str
    path: tuple[PathStep, ...]
    operator: Operator
    negated: bool
    value: Value | None


@dataclass(frozen=True, slots=True)
class ComparisonAnd:
    operands: tuple[ComparisonExpr, ...]  # two or more, none a ComparisonAnd


@dataclass(frozen=True, slots=True)
class ComparisonOr:
    operands: tuple[ComparisonExpr, ...]  # two or more, none a ComparisonOr


ComparisonExpr: TypeAlias = Comparison | ComparisonAnd | ComparisonOr


@dataclass(frozen=True, slots=True)
class WithinQualifier:
    seconds: float


@dataclass(frozen=True, slots=True)
class RepeatsQualifier:
    times: int


@dataclass(frozen=True, slots=True)
class StartStopQualifier:
    start_micros: int
    stop_micros: int


Qualifier: TypeAlias = WithinQualifier | RepeatsQualifier | StartStopQualifier


@dataclass(frozen=True, slots=True)
class ObservationExpression:
    """One ``[...]``."""

    comparison: ComparisonExpr


@dataclass(frozen=True, slots=True)
class ObservationAnd:
    operands: tuple[ObservationExpr, ...]  # two or more, none an ObservationAnd


@dataclass(frozen=True, slots=True)
class ObservationOr:
    operands: tuple[ObservationExpr, ...]  # two or more, none an ObservationOr


@dataclass(frozen=True, slots=True)
class FollowedBy:
    operands: tuple[ObservationExpr, ...]  # two or more in time order, none a FollowedBy


@dataclass(frozen=True, slots=True)
class Qualified:
    """``expression`` and the qualifiers written after it, in order, one of each type at most."""

    expression: ObservationExpr
    qualifiers: tuple[Qualifier, ...]


ObservationExpr: TypeAlias = (
    ObservationExpression | ObservationAnd | ObservationOr | FollowedBy | Qualified
)


@dataclass(frozen=True, slots=True)
class Pattern:
    expression: ObservationExpr


def comparisons(pattern: Pattern) -> Iterator[Comparison]:
    """Yield every ``Comparison`` in ``pattern``, left to right as written."""
    stack: list[ObservationExpr | ComparisonExpr] = [pattern.expression]
    while stack:
        node = stack.pop()
        if isinstance(node, Comparison):
            yield node
        elif isinstance(node, ObservationExpression):
            stack.append(node.comparison)
        elif isinstance(node, Qualified):
            stack.append(node.expression)
        else:
            stack.extend(reversed(node.operands))
