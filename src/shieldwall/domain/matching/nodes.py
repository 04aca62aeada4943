"""Compiled patterns: comparison leaves and the trees above them.

Only patterns that are not *plain* keep a ``Compiled`` (a plain pattern — one ``[...]`` with one
positive ``=``/``IN`` on strings — lives in the index as its indicator id alone).  Operators
are binary and left-nested, as stix2-matcher's grammar builds them (``a AND b AND c`` is
``(a AND b) AND c``); comparison ``AND``/``OR`` stay n-ary (their order is associative).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shieldwall.domain.matching.values import Test
from shieldwall.domain.patterns import PathStep

__all__ = [
    "ABSENT", "EXISTS", "VALUE", "CAnd", "CNode", "COr", "Compiled", "Leaf", "OAnd",
    "OBracket", "OFollowedBy", "ONode", "OOr", "ORepeats", "OStartStop", "OWithin",
    "min_instances",
]  # fmt: skip

VALUE = 0  # holds for an object when the test holds for one selected value
EXISTS = 1  # the path selects something
ABSENT = 2  # NOT EXISTS: the path selects nothing


class Leaf:
    """One comparison of one compiled pattern; ``rank`` is its position, left to right."""

    __slots__ = ("bracket", "kind", "loose", "object_type", "pattern", "rank", "steps", "test")

    def __init__(
        self,
        pattern: Compiled,
        bracket: int,
        rank: int,
        object_type: str,
        steps: tuple[PathStep, ...],
        loose: bool,
        kind: int,
        test: Test,
    ) -> None:
        self.pattern = pattern
        self.bracket = bracket
        self.rank = rank
        self.object_type = object_type
        self.steps = steps
        self.loose = loose
        self.kind = kind
        self.test = test


@dataclass(frozen=True, slots=True, eq=False)
class CAnd:
    children: tuple[CNode, ...]


@dataclass(frozen=True, slots=True, eq=False)
class COr:
    children: tuple[CNode, ...]


CNode = Leaf | CAnd | COr


@dataclass(frozen=True, slots=True, eq=False)
class OBracket:
    index: int
    comparison: CNode


@dataclass(frozen=True, slots=True, eq=False)
class OAnd:
    left: ONode
    right: ONode


@dataclass(frozen=True, slots=True, eq=False)
class OOr:
    left: ONode
    right: ONode


@dataclass(frozen=True, slots=True, eq=False)
class OFollowedBy:
    left: ONode
    right: ONode


@dataclass(frozen=True, slots=True, eq=False)
class ORepeats:
    child: ONode
    times: int


@dataclass(frozen=True, slots=True, eq=False)
class OWithin:
    child: ONode
    micros: int


@dataclass(frozen=True, slots=True, eq=False)
class OStartStop:
    child: ONode
    start: int
    stop: int


ONode = OBracket | OAnd | OOr | OFollowedBy | ORepeats | OWithin | OStartStop


def min_instances(node: ONode) -> int:
    """The fewest observation instances a binding of ``node`` uses."""
    if isinstance(node, OBracket):
        return 1
    if isinstance(node, OAnd | OFollowedBy):
        return min_instances(node.left) + min_instances(node.right)
    if isinstance(node, OOr):
        return min(min_instances(node.left), min_instances(node.right))
    if isinstance(node, ORepeats):
        return min_instances(node.child) * node.times
    return min_instances(node.child)


@dataclass(eq=False, slots=True)
class Compiled:
    """A pattern kept whole.  ``ranked``: an OR of brackets that are ORs of positive string
    ``=``/``IN`` leaves, so the first leaf hit decides the match without the binding search.
    ``min_instances``: the fewest observation instances a match needs; ``timed``: has
    START/STOP (its truth depends on when).
    """

    indicator_id: str
    ranked: bool = False
    root: ONode | None = None
    brackets: list[OBracket] = field(default_factory=list)
    min_instances: int = 1
    timed: bool = False
