"""``Matcher``: STIX patterns compiled once, matched against many observations.

Semantics are stix2-matcher 3.0.0's in STIX 2.1 mode (see ``values``, ``paths``,
``bindings``); with ``normalise=True`` (the default) equality also forgives case and spelling
where they carry no meaning (see ``paths``) and ``=`` on an IP path with a CIDR block means
"inside the block".  Pure: no I/O, no clock; a compiled ``Matcher`` is never mutated, so one
instance serves any number of threads.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import compress
from operator import attrgetter

from shieldwall.domain.errors import InvalidInput, PatternSyntaxError
from shieldwall.domain.matching.compiler import Builder, Index
from shieldwall.domain.matching.evaluate import Timeline, evaluate
from shieldwall.domain.matching.ids import expand
from shieldwall.domain.matching.index import Candidate, Entry, PathIndex
from shieldwall.domain.matching.model import Match, Observation, Rejection
from shieldwall.domain.matching.nodes import VALUE, Compiled, Leaf
from shieldwall.domain.matching.paths import (
    SDO_TYPES,
    hex_key,
    ipv4_text,
    select,
)
from shieldwall.domain.patterns import Comparison, ObservationExpression, PathStep, parse_pattern

__all__ = ["Matcher"]


@lru_cache(maxsize=4096)
def _kind(kind: str) -> tuple[str, tuple[PathStep, ...]]:
    """``'file:hashes.SHA-256'`` → ``('file', ('hashes', 'SHA-256'))``; pattern syntax first."""
    try:
        expression = parse_pattern(f"[EXISTS {kind}]").expression
    except PatternSyntaxError:
        object_type, colon, rest = kind.partition(":")
        steps = tuple(rest.split("."))
        if not (object_type and colon and all(steps)):
            raise InvalidInput(f"{kind!r} is not an object path like 'ipv4-addr:value'") from None
        return object_type, steps
    assert isinstance(expression, ObservationExpression)
    comparison = expression.comparison
    assert isinstance(comparison, Comparison)
    return comparison.object_type, comparison.path


def _nest(object_type: str, steps: tuple[PathStep, ...], value: object) -> dict[str, object]:
    """The one object ``{type: object_type, <steps>: value}``."""
    node = value
    for step in reversed(steps[1:]):
        if step == "*":
            node = [node]
        elif isinstance(step, int):
            node = [None] * step + [node]
        else:
            node = {step: node}
    return {"type": object_type, str(steps[0]): node}


def _bulk(path: PathIndex, values: Sequence[object]) -> list[Entry | None] | None:
    """Equality lookups of all values at C speed, or None if some value needs the slow path.

    Normalising works on the values joined into one string where it can (one ``lower()`` of
    a megabyte beats a million calls).  Hash keys come from ``bytes.fromhex``, which also skips
    spaces between digit pairs: the caller confirms hits on those.
    """
    get = path.equal.get
    keyfn = path.keyfn
    try:
        if keyfn is None:
            return list(map(get, values))
        if keyfn is hex_key:
            return list(map(get, map(bytes.fromhex, values)))  # type: ignore[arg-type]
        joined = "\n".join(values)  # type: ignore[arg-type]
        if keyfn is str.lower:
            lowered = joined.lower()
            if lowered == joined:
                return list(map(get, values))
            keys = lowered.split("\n")
            if len(keys) != len(values):  # a value holds a line break
                keys = list(map(str.lower, values))  # type: ignore[arg-type]
            return list(map(get, keys))
        if keyfn is ipv4_text and "/" not in joined:
            return list(map(get, values))
        return list(map(get, map(keyfn, values)))  # type: ignore[arg-type]
    except (TypeError, ValueError):  # not all strings, or not all hex
        return None


class Matcher:
    """A compiled set of indicator patterns.

    ``compile`` never raises for a bad pattern: it lists it in ``rejected``.  ``match`` takes
    observations in any order (their times are in them) and returns one ``Match`` per matching
    indicator, sorted by indicator id, naming observations by their index in the sequence.
    ``match_values`` is the log-matching fast path: for each value, the indicators a lone
    object ``{type: …, <path>: value}`` seen once would match.  Never raises while matching.
    """

    __slots__ = ("_index",)

    def __init__(self, index: Index) -> None:
        self._index = index

    @classmethod
    def compile(cls, patterns: Iterable[tuple[str, str]], *, normalise: bool = True) -> Matcher:
        """Compile (indicator id, pattern text) pairs; ids must be distinct and non-empty.

        The cyclic garbage collector is paused while compiling (a million patterns make
        millions of objects it would otherwise scan over and over).
        """
        builder = Builder(normalise)
        collecting = gc.isenabled()
        gc.disable()
        try:
            for indicator_id, text in patterns:
                builder.add(indicator_id, text)
        finally:
            if collecting:
                gc.enable()
        return cls(builder.finish())

    @property
    def rejected(self) -> tuple[Rejection, ...]:
        return tuple(self._index.rejected)

    @property
    def normalise(self) -> bool:
        return self._index.normalise

    def __len__(self) -> int:
        """The number of patterns compiled (not rejected)."""
        return self._index.count

    # ---------------------------------------------------------------------------- match

    def match(self, observations: Sequence[Observation]) -> list[Match]:
        """Every indicator whose pattern matches ``observations``, sorted by indicator id."""
        types = self._index.types
        single: dict[str | int, int] = {}
        ranked: dict[Compiled, tuple[int, int]] = {}
        pending: dict[Compiled, dict[int, set[int]]] = {}
        for position, observation in enumerate(observations):
            objects = observation.objects
            for obj in objects.values():
                name = obj.get("type")
                type_index = types.get(name) if isinstance(name, str) else None
                if type_index is None:
                    continue
                for path in type_index.paths:
                    for value in select(objects, obj, path.steps, path.loose):
                        for entry in path.candidates(value):
                            if isinstance(entry, Leaf):
                                _hit(entry, value, position, ranked, pending)
                            elif entry not in single:
                                single[entry] = position
                for leaf in type_index.absent:
                    if not select(objects, obj, leaf.steps, leaf.loose):
                        brackets = pending.setdefault(leaf.pattern, {})
                        brackets.setdefault(leaf.bracket, set()).add(position)
        results = [Match(expand(stored), (position,)) for stored, position in single.items()]
        results.extend(Match(p.indicator_id, (position,)) for p, (_, position) in ranked.items())
        if pending:
            timeline = Timeline(observations)
            for pattern, candidates in pending.items():
                found = evaluate(pattern, observations, candidates, timeline)
                if found is not None:
                    results.append(Match(pattern.indicator_id, found))
        results.sort(key=attrgetter("indicator_id"))
        return results

    # ---------------------------------------------------------------------- match_values

    def match_values(
        self, kind: str, values: Sequence[object], observed_at: int | None = None
    ) -> list[tuple[int, str]]:
        """``(position in values, indicator id)`` for each value and indicator that matches.

        ``kind`` is an object path in pattern syntax (``'ipv4-addr:value'``,
        ``"file:hashes.'SHA-256'"``; unquoted ``file:hashes.SHA-256`` is accepted too).  An
        indicator matches a value when its pattern matches one observation (seen once, at
        ``observed_at``) holding only ``{"type": <type>, <path>: value}``; patterns with
        START/STOP are skipped when ``observed_at`` is None.  Values are JSON values; plain
        equality patterns on strings are looked up in bulk.  Raises ``InvalidInput`` for a
        ``kind`` that is no object path.
        """
        object_type, raw_steps = _kind(kind)
        if object_type in SDO_TYPES:
            return []
        index = self._index
        steps = index.canonical(raw_steps)
        path = index.paths.get((object_type, steps))
        type_index = index.types.get(object_type)
        absent = type_index.absent if type_index is not None else []
        if path is None and not absent:
            return []
        out: list[tuple[int, str]] = []
        context = (object_type, steps, observed_at)
        if path is not None and not absent and path.simple:
            found = _bulk(path, values)
            if found is not None:
                for position in compress(range(len(found)), found):
                    entry = found[position]
                    assert entry is not None
                    if path.keyfn is hex_key:  # confirm: see _bulk
                        entries = path.candidates(values[position])
                    else:
                        entries = entry if isinstance(entry, list) else [entry]
                    _emit(out, position, entries, values[position], context)
                return out
        for position, value in enumerate(values):
            entries = path.candidates(value) if path is not None else []
            if absent:
                entries.extend(absent)
            if entries:
                _emit(out, position, entries, value, context)
        return out


def _hit(
    leaf: Leaf,
    value: object,
    position: int,
    ranked: dict[Compiled, tuple[int, int]],
    pending: dict[Compiled, dict[int, set[int]]],
) -> None:
    if leaf.kind == VALUE and not leaf.test(value):
        return
    pattern = leaf.pattern
    if pattern.ranked:
        rank = (leaf.rank, position)
        best = ranked.get(pattern)
        if best is None or rank < best:
            ranked[pattern] = rank
    else:
        pending.setdefault(pattern, {}).setdefault(leaf.bracket, set()).add(position)


def _emit(
    out: list[tuple[int, str]],
    position: int,
    entries: list[Candidate],
    value: object,
    context: tuple[str, tuple[PathStep, ...], int | None],
) -> None:
    seen: set[str] = set()
    lone: list[Observation] = []
    for entry in entries:
        if not isinstance(entry, Leaf):
            indicator_id = expand(entry)
            if indicator_id not in seen:
                seen.add(indicator_id)
                out.append((position, indicator_id))
            continue
        pattern = entry.pattern
        if pattern.indicator_id in seen or (entry.kind == VALUE and not entry.test(value)):
            continue
        if not pattern.ranked:
            object_type, steps, observed_at = context
            if pattern.min_instances > 1 or (pattern.timed and observed_at is None):
                continue
            if not lone:
                objects = {"0": _nest(object_type, steps, value)}
                moment = observed_at if observed_at is not None else 0
                lone.append(Observation(objects, moment, moment))
            everywhere = {bracket.index: (0,) for bracket in pattern.brackets}
            if evaluate(pattern, lone, everywhere, Timeline(lone)) is None:
                continue
        seen.add(pattern.indicator_id)
        out.append((position, pattern.indicator_id))
