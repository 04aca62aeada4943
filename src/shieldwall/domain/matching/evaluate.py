"""Evaluate one compiled pattern over a sequence of observations.

For each ``[...]`` the caller names the observations where one of its triggers fired (every
observation where the bracket holds is among them).  The bracket is evaluated there object by
object — comparisons joined by AND must hold for the same object — and the observations where
it holds are ordered as stix2-matcher orders them (comparison OR appends the right operand's
new observations after the left's; AND keeps the left's order).  ``bindings`` then searches
for the first binding of the whole pattern.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from shieldwall.domain.matching import bindings
from shieldwall.domain.matching.bindings import Binding
from shieldwall.domain.matching.model import Observation
from shieldwall.domain.matching.nodes import (
    ABSENT,
    CAnd,
    CNode,
    Compiled,
    COr,
    Leaf,
    OAnd,
    OBracket,
    OFollowedBy,
    ONode,
    OOr,
    ORepeats,
    OStartStop,
    OWithin,
    min_instances,
)
from shieldwall.domain.matching.paths import SDO_TYPES, select

__all__ = ["Timeline", "evaluate"]


class Timeline:
    """``number_observed``, ``first_observed`` and ``last_observed`` of each observation."""

    __slots__ = ("counts", "first", "last")

    def __init__(self, observations: Sequence[Observation]) -> None:
        self.counts = [o.number_observed for o in observations]
        self.first = [o.first_observed for o in observations]
        self.last = [o.last_observed for o in observations]


def leaf_roots(leaf: Leaf, observation: Observation) -> frozenset[str]:
    """Keys of the objects of ``observation`` for which the comparison holds."""
    if leaf.object_type in SDO_TYPES:
        return frozenset()
    objects = observation.objects
    roots = set()
    for key, obj in objects.items():
        if obj.get("type") != leaf.object_type:
            continue
        values = select(objects, obj, leaf.steps, leaf.loose)
        if leaf.kind == ABSENT:
            if not values:
                roots.add(key)
        elif any(leaf.test(value) for value in values):
            roots.add(key)
    return frozenset(roots)


class _Bracket:
    """One bracket evaluated over candidate observations, memoised per (node, observation)."""

    def __init__(self, observations: Sequence[Observation]) -> None:
        self.observations = observations
        self.memo: dict[tuple[int, int], frozenset[str]] = {}

    def roots(self, node: CNode, index: int) -> frozenset[str]:
        key = (id(node), index)
        found = self.memo.get(key)
        if found is not None:
            return found
        if isinstance(node, Leaf):
            found = leaf_roots(node, self.observations[index])
        elif isinstance(node, CAnd):
            found = self.roots(node.children[0], index)
            for child in node.children[1:]:
                if not found:
                    break
                found &= self.roots(child, index)
        else:
            found = frozenset().union(*(self.roots(c, index) for c in node.children))
        self.memo[key] = found
        return found

    def order(self, node: CNode, candidates: list[int]) -> list[int]:
        if isinstance(node, COr):
            result = self.order(node.children[0], candidates)
            seen = set(result)
            for child in node.children[1:]:
                for index in self.order(child, candidates):
                    if index not in seen:
                        seen.add(index)
                        result.append(index)
            return result
        if isinstance(node, CAnd):
            return [i for i in self.order(node.children[0], candidates) if self.roots(node, i)]
        return [i for i in candidates if self.roots(node, i)]


def _observations_in(node: ONode, orders: list[list[int]]) -> set[int]:
    if isinstance(node, OBracket):
        return set(orders[node.index])
    if isinstance(node, OAnd | OOr | OFollowedBy):
        return _observations_in(node.left, orders) | _observations_in(node.right, orders)
    return _observations_in(node.child, orders)


_SWEEP_LIMIT = 512  # observations beyond which the WITHIN window count is not attempted


def _feasible(node: ONode, orders: list[list[int]], timeline: Timeline) -> bool:
    """False only if ``node`` has no binding: too few instances in reach (a necessary count).

    stix2-matcher enumerates combinations to find that out (C(20, 10) for ``[a] REPEATS 10
    TIMES WITHIN 8 SECONDS`` over 20 observations a second apart); the count says it at once.
    Pruning never changes which binding comes first, only how soon "none" is known.
    """
    needed = min_instances(node)
    if needed <= 1:
        return True
    reach = _observations_in(node, orders)
    counts, first, last = timeline.counts, timeline.first, timeline.last
    if isinstance(node, OStartStop):
        reach = {i for i in reach if first[i] < node.stop and last[i] >= node.start}
    if sum(counts[i] for i in reach) < needed:
        return False
    if isinstance(node, OWithin) and len(reach) <= _SWEEP_LIMIT:
        # A binding's window starts at its earliest last_observed E and takes every instance
        # with last >= E and first <= E + micros.
        return any(
            sum(counts[i] for i in reach if last[i] >= start and first[i] <= start + node.micros)
            >= needed
            for start in {last[i] for i in reach}
        )
    return True


def _stream(node: ONode, orders: list[list[int]], timeline: Timeline) -> Iterator[Binding]:
    if not isinstance(node, OBracket | OOr) and not _feasible(node, orders, timeline):
        return iter(())
    if isinstance(node, OBracket):
        return bindings.leaf(orders[node.index], timeline.counts)
    if isinstance(node, OAnd):
        return bindings.and_join(
            _stream(node.left, orders, timeline), _stream(node.right, orders, timeline)
        )
    if isinstance(node, OOr):
        return bindings.or_join(
            _stream(node.left, orders, timeline), _stream(node.right, orders, timeline)
        )
    if isinstance(node, OFollowedBy):
        return bindings.followed_by(
            _stream(node.left, orders, timeline),
            _stream(node.right, orders, timeline),
            timeline.first,
            timeline.last,
        )
    if isinstance(node, ORepeats):
        return bindings.repeats(_stream(node.child, orders, timeline), node.times)
    if isinstance(node, OWithin):
        child = _stream(node.child, orders, timeline)
        return bindings.within(child, node.micros, timeline.first, timeline.last)
    assert isinstance(node, OStartStop)
    child = _stream(node.child, orders, timeline)
    return bindings.start_stop(child, node.start, node.stop, timeline.first, timeline.last)


def evaluate(
    compiled: Compiled,
    observations: Sequence[Observation],
    candidates: Mapping[int, Iterable[int]],
    timeline: Timeline,
) -> tuple[int, ...] | None:
    """The observations of the first binding of ``compiled``, or None if it does not match.

    ``candidates`` maps a bracket index to the observations to evaluate it on (others are
    taken to fail it); brackets absent from it fail everywhere.
    """
    assert compiled.root is not None
    evaluator = _Bracket(observations)
    orders: list[list[int]] = []
    for bracket in compiled.brackets:
        indexes = sorted(set(candidates.get(bracket.index, ())))
        orders.append(evaluator.order(bracket.comparison, indexes) if indexes else [])
    first = next(_stream(compiled.root, orders, timeline), None)
    if first is None:
        return None
    return tuple(sorted({index for index, _ in first}))
