"""Observation operators over bindings: a port of stix2-matcher 3.0.0's ``MatchListener``.

A *binding* assigns one observation *instance* to each ``[...]`` an expression needs; an
observation with ``number_observed`` n offers instances ``(index, 0)`` … ``(index, n-1)``, and
no instance may serve twice in one binding.  Each function turns lazy streams of bindings of
the operands into the stream of the expression, in stix2-matcher's order (so the first binding
found, which ``Matcher.match`` reports, is the one stix2-matcher reports):

* ``and_join``: every disjoint pair; ``or_join``: each side's bindings alone, interleaved;
* ``followed_by``: disjoint pairs where the latest ``first_observed`` on the left is not after
  the earliest ``last_observed`` on the right;
* ``repeats``: disjoint combinations of n bindings (with stix2-matcher's pruning);
* ``within``: bindings whose observation intervals all meet one window of the given length
  (max first_observed ≤ min last_observed + duration);
* ``start_stop``: bindings whose every interval overlaps [start, stop): first < stop and
  last ≥ start (nothing when start ≥ stop).

Bindings hold no ``None`` fillers (stix2-matcher pads OR results with them; they never change
what matches).  Pure functions; times are integers (microseconds).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

__all__ = [
    "Binding", "Instance", "and_join", "followed_by", "leaf", "or_join", "repeats",
    "start_stop", "within",
]  # fmt: skip

Instance = tuple[int, int]  # (observation index, instance number)
Binding = tuple[Instance, ...]


def _disjoint(first: Binding, *rest: Binding) -> bool:
    seen = set(first)
    return all(seen.isdisjoint(other) for other in rest)


def leaf(order: Iterable[int], counts: Sequence[int]) -> Iterator[Binding]:
    """One binding per instance of each observation, in ``order``."""
    for index in order:
        for number in range(counts[index]):
            yield ((index, number),)


def and_join(lhs: Iterator[Binding], rhs: Iterator[Binding]) -> Iterator[Binding]:
    lhs_cache: list[Binding] = []
    rhs_cache: list[Binding] = []
    next_rhs = next(rhs, None)
    next_lhs = next(lhs, None)
    if next_rhs is None or next_lhs is None:
        return
    while next_rhs is not None or next_lhs is not None:
        if next_rhs is not None:
            for left in lhs_cache:
                if _disjoint(left, next_rhs):
                    yield left + next_rhs
            rhs_cache.append(next_rhs)
            next_rhs = next(rhs, None)
        if next_lhs is not None:
            for right in rhs_cache:
                if _disjoint(next_lhs, right):
                    yield next_lhs + right
            lhs_cache.append(next_lhs)
            next_lhs = next(lhs, None)


def or_join(lhs: Iterator[Binding], rhs: Iterator[Binding]) -> Iterator[Binding]:
    next_lhs = next(lhs, None)
    next_rhs = next(rhs, None)
    while next_lhs is not None or next_rhs is not None:
        if next_lhs is not None:
            yield next_lhs
            next_lhs = next(lhs, None)
        if next_rhs is not None:
            yield next_rhs
            next_rhs = next(rhs, None)


def followed_by(
    lhs: Iterator[Binding], rhs: Iterator[Binding], first: Sequence[int], last: Sequence[int]
) -> Iterator[Binding]:
    def latest_first(binding: Binding) -> int:
        return max(first[index] for index, _ in binding)

    def earliest_last(binding: Binding) -> int:
        return min(last[index] for index, _ in binding)

    lhs_cache: list[Binding] = []
    rhs_cache: list[Binding] = []
    next_rhs = next(rhs, None)
    next_lhs = next(lhs, None)
    if next_rhs is None or next_lhs is None:
        return
    while next_rhs is not None or next_lhs is not None:
        if next_rhs is not None:
            bound = earliest_last(next_rhs)
            for left in lhs_cache:
                if _disjoint(left, next_rhs) and latest_first(left) <= bound:
                    yield left + next_rhs
            rhs_cache.append(next_rhs)
            next_rhs = next(rhs, None)
        if next_lhs is not None:
            start = latest_first(next_lhs)
            for right in rhs_cache:
                if _disjoint(next_lhs, right) and start <= earliest_last(right):
                    yield next_lhs + right
            lhs_cache.append(next_lhs)
            next_lhs = next(lhs, None)


def within(
    bindings: Iterator[Binding], micros: int, first: Sequence[int], last: Sequence[int]
) -> Iterator[Binding]:
    for binding in bindings:
        if max(first[i] for i, _ in binding) <= min(last[i] for i, _ in binding) + micros:
            yield binding


def start_stop(
    bindings: Iterator[Binding], start: int, stop: int, first: Sequence[int], last: Sequence[int]
) -> Iterator[Binding]:
    if start >= stop:
        return
    for binding in bindings:
        if all(first[i] < stop and last[i] >= start for i, _ in binding):
            yield binding


def repeats(bindings: Iterator[Binding], times: int) -> Iterator[Binding]:
    if times == 1:
        return bindings
    return (tuple(itertools.chain.from_iterable(c)) for c in _combinations(bindings, times))


# --- stix2-matcher's _filtered_combinations, _filtered_combinations_from_list and
# _bound_largest_combination, step for step (their pruning decides which binding comes first).


class _NotEnoughValues(Exception):
    def __init__(self, missing: int) -> None:
        super().__init__(missing)
        self.missing = missing


def _combinations(values: Iterator[Binding], size: int) -> Iterator[tuple[Binding, ...]]:
    if size == 1:
        for value in values:
            yield (value,)
        return
    generated = [value for _, value in zip(range(size - 1), values, strict=False)]
    for value in values:
        filtered = [candidate for candidate in generated if _disjoint(candidate, value)]
        try:
            for sub in _combinations_from_list(filtered, size - 1):
                yield (*sub, value)
        except _NotEnoughValues:
            pass
        generated.append(value)


def _bound_largest_combination(values: list[Binding]) -> int:
    if not values:
        return 0
    max_size = max(len(value) for value in values)
    by_size: list[set[Instance]] = [set() for _ in range(max_size + 1)]
    for value in values:
        by_size[len(value)] |= set(value)
    consumed: set[Instance] = set()
    size = 0
    for i in range(1, max_size):
        available = by_size[i] - consumed
        size += -(-len(available) // i)
        consumed |= available
    return size + len(by_size[max_size] - consumed) // max_size


def _combinations_from_list(values: list[Binding], size: int) -> Iterator[tuple[Binding, ...]]:
    if size == 1:
        for value in values:
            yield (value,)
        return
    bound = _bound_largest_combination(values)
    if bound < size:
        raise _NotEnoughValues(size - bound)
    for i in range(len(values) + 1 - size):
        filtered = [c for c in values[i + 1 :] if _disjoint(values[i], c)]
        yielded = False
        try:
            for sub in _combinations_from_list(filtered, size - 1):
                yield (values[i], *sub)
                yielded = True
        except _NotEnoughValues as error:
            if yielded:
                continue
            max_add = min(len(values[i + 1 :]) - len(filtered), len(values[i]))
            expected_missing = error.missing + 1 - max_add
            if expected_missing > 0:
                if i == 0:
                    raise _NotEnoughValues(expected_missing) from None
                return
