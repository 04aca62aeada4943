"""Compile (indicator id, pattern text) pairs into the per-path indexes of ``index.py``.

A *plain* pattern — ``[t:p = 's']`` or ``[t:p IN ('s', …)]`` on strings, the bulk of real
feeds — becomes only dict entries from its normalised value(s) to its indicator id.  A pattern
that is an OR of brackets holding ORs of such comparisons is *ranked*: its leaves go into the
same dicts and the first leaf hit decides.  Every other pattern is compiled whole (``nodes``);
per ``[...]`` a *trigger set* of comparisons is indexed — one that must hold whenever the
bracket does (all operands of an OR, the most selective operand of an AND) — and the rest of
the bracket is evaluated only when a trigger fires.

Patterns are rejected (never raised) when they do not parse, repeat an indicator id, or cannot
be evaluated (see ``values.Unsupported``, ``WITHIN`` ≤ 0, ``REPEATS`` < 1, more than 200 nested
observation operators — an OR of any number of plain brackets is fine).
"""

from __future__ import annotations

from datetime import timedelta

from shieldwall.domain.errors import PatternSyntaxError
from shieldwall.domain.matching.ids import compact
from shieldwall.domain.matching.index import LikeIndex, PathIndex, RegexGroup, TypeIndex, add_entry
from shieldwall.domain.matching.ip import parse_network
from shieldwall.domain.matching.model import Rejection
from shieldwall.domain.matching.nodes import (
    ABSENT,
    EXISTS,
    VALUE,
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
from shieldwall.domain.matching.paths import (
    SDO_TYPES,
    Normaliser,
    equality_key,
    hash_name,
    ip_family,
    normaliser,
)
from shieldwall.domain.matching.values import (
    Literal,
    Unsupported,
    cidr_block,
    like_regex,
    literal,
    make_test,
    nfc,
)
from shieldwall.domain.patterns import (
    Comparison,
    ComparisonAnd,
    ComparisonExpr,
    ComparisonOr,
    ObservationAnd,
    ObservationExpr,
    ObservationExpression,
    ObservationOr,
    PathStep,
    Pattern,
    Qualified,
    RepeatsQualifier,
    StartStopQualifier,
    Timestamp,
    WithinQualifier,
    parse_pattern,
)

__all__ = ["Builder", "Index"]

_FOREVER = 1 << 62  # a WITHIN too long for timedelta: every binding fits
# Trigger costs: hash lookups, grouped regexes, a test per value, a test per object.
_INDEXED, _GROUPED, _SCANNED, _PER_OBJECT = 0, 1, 2, 3


class Index:
    """The compiled result: per-type and per-path indexes, the count and the rejections."""

    __slots__ = ("count", "normalise", "paths", "rejected", "types")

    def __init__(self, normalise: bool) -> None:
        self.normalise = normalise
        self.types: dict[str, TypeIndex] = {}
        self.paths: dict[tuple[str, tuple[PathStep, ...]], PathIndex] = {}
        self.rejected: list[Rejection] = []
        self.count = 0

    def path(self, object_type: str, steps: tuple[PathStep, ...]) -> PathIndex:
        """The index for a path (steps already canonical), created on first use."""
        found = self.paths.get((object_type, steps))
        if found is None:
            norm = normaliser(object_type, steps) if self.normalise else None
            keyfn = equality_key(object_type, steps) if self.normalise else None
            loose = self.normalise and "hashes" in steps[:-1]
            found = PathIndex(object_type, steps, norm, keyfn, loose)
            self.paths[object_type, steps] = found
            self.type(object_type).paths.append(found)
        return found

    def type(self, object_type: str) -> TypeIndex:
        found = self.types.get(object_type)
        if found is None:
            found = self.types[object_type] = TypeIndex()
        return found

    def canonical(self, steps: tuple[PathStep, ...]) -> tuple[PathStep, ...]:
        """Hash names after ``hashes`` in canonical form, when normalising."""
        if not self.normalise or "hashes" not in steps[:-1]:
            return steps
        return tuple(
            hash_name(step) if isinstance(step, str) and i and steps[i - 1] == "hashes" else step
            for i, step in enumerate(steps)
        )


def _micros(seconds: float) -> int:
    try:
        return timedelta(seconds=seconds) // timedelta(microseconds=1)
    except OverflowError:
        return _FOREVER


def _decoded(steps: tuple[PathStep, ...]) -> bool:
    last = steps[-1]
    return isinstance(last, str) and last.endswith(("_hex", "_bin"))


def _equal_key(value: Literal, path: PathIndex) -> object:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, str) and path.keyfn is not None:
        return path.keyfn(value)
    return value


_NOT_PLAIN = object()  # in Builder._plain_paths: the path takes no plain patterns


class Builder:
    """Adds patterns one at a time to an ``Index``; ``finish`` freezes and returns it."""

    def __init__(self, normalise: bool) -> None:
        self.index = Index(normalise)
        self._seen: set[str | int] = set()
        # (object type, path as parsed) -> its PathIndex, None (an SDO type: never matches) or
        # _NOT_PLAIN; saves re-deriving the same few paths a million times.
        self._plain_paths: dict[tuple[str, tuple[PathStep, ...]], object] = {}

    def add(self, indicator_id: str, text: str) -> None:
        if not indicator_id:
            self._reject(indicator_id, "the indicator id is empty")
            return
        # The compact id is what the index keeps: holding it here too costs nothing, while
        # holding the id strings would fragment the heap under the index being built.
        stored = compact(indicator_id)
        if stored in self._seen:
            self._reject(indicator_id, "the indicator id appears twice")
            return
        try:
            pattern = parse_pattern(text)
        except PatternSyntaxError as error:
            self._reject(indicator_id, error.message)
            return
        self._seen.add(stored)
        # The common case first: one bracket, one positive "=" on a string.
        expression = pattern.expression
        if type(expression) is ObservationExpression:
            comparison = expression.comparison
            if (
                type(comparison) is Comparison
                and comparison.operator == "="
                and not comparison.negated
                and type(comparison.value) is str
                and self._add_equal(stored, comparison, comparison.value)
            ):
                self.index.count += 1
                return
        try:
            plain = self._plain(pattern)
            if plain is not None and len(plain) == 1:
                self._add_plain(stored, plain[0])
            else:
                self._add_compiled(indicator_id, pattern, ranked=plain is not None)
        except Unsupported as error:
            self._seen.discard(stored)
            self._reject(indicator_id, str(error))
            return
        self.index.count += 1

    def finish(self) -> Index:
        for path in self.index.paths.values():
            path.freeze()
        self._seen = set()
        return self.index

    def _reject(self, indicator_id: str, reason: str) -> None:
        self.index.rejected.append(Rejection(indicator_id, reason))

    # --- plain and ranked patterns

    def _plain(self, pattern: Pattern) -> list[Comparison] | None:
        expression = pattern.expression
        brackets = expression.operands if isinstance(expression, ObservationOr) else (expression,)
        found: list[Comparison] = []
        for bracket in brackets:
            if not isinstance(bracket, ObservationExpression):
                return None
            node = bracket.comparison
            for comparison in node.operands if isinstance(node, ComparisonOr) else (node,):
                if not isinstance(comparison, Comparison) or not self._plain_comparison(comparison):
                    return None
                found.append(comparison)
        return found

    def _plain_comparison(self, comparison: Comparison) -> bool:
        if comparison.negated or _decoded(comparison.path):
            return False
        value = comparison.value
        if comparison.operator == "=":
            values: tuple[object, ...] = (value,)
        elif comparison.operator == "IN" and isinstance(value, tuple):
            values = value
        else:
            return False
        if not all(isinstance(v, str) for v in values):
            return False
        if self.index.normalise and ip_family(comparison.object_type, comparison.path):
            norm = normaliser(comparison.object_type, comparison.path)
            assert norm is not None
            return not any(cidr_block(norm(v)) is not None for v in values if isinstance(v, str))
        return True

    def _add_equal(self, stored: str | int, comparison: Comparison, value: str) -> bool:
        """Register a one-comparison ``=`` pattern as a plain one if it is; False if not."""
        where = (comparison.object_type, comparison.path)
        path = self._plain_paths.get(where, _NOT_PLAIN)
        if path is _NOT_PLAIN and where not in self._plain_paths:
            path = self._plain_path(comparison)
            self._plain_paths[where] = path
        if path is None:
            return True  # an SDO type: never selected, so never matches
        if not isinstance(path, PathIndex):
            return False
        cidr = self.index.normalise and "/" in value and ip_family(path.object_type, path.steps)
        if cidr and path.norm is not None and cidr_block(path.norm(value)) is not None:
            return False  # "=" on a CIDR block: an address range
        add_entry(path.equal, path.keyfn(value) if path.keyfn is not None else value, stored)
        return True

    def _plain_path(self, comparison: Comparison) -> PathIndex | object | None:
        if comparison.object_type in SDO_TYPES:
            return None
        if _decoded(comparison.path):
            return _NOT_PLAIN
        return self.index.path(comparison.object_type, self.index.canonical(comparison.path))

    def _add_plain(self, stored: str | int, comparison: Comparison) -> None:
        if comparison.object_type in SDO_TYPES:
            return  # never selected: the pattern can never match
        path = self.index.path(comparison.object_type, self.index.canonical(comparison.path))
        value = comparison.value
        values = value if isinstance(value, tuple) else (value,)
        keyfn = path.keyfn
        keys = {keyfn(v) if keyfn is not None else v for v in values if isinstance(v, str)}
        for key in keys:
            add_entry(path.equal, key, stored)

    # --- compiled patterns

    def _add_compiled(self, indicator_id: str, pattern: Pattern, ranked: bool) -> None:
        compiled = Compiled(indicator_id, ranked=ranked)
        triggers: list[tuple[Leaf, Comparison]] = []
        ranks = [0]
        compiled.root = self._observation(pattern.expression, compiled, triggers, ranks)
        if not ranked:  # a ranked pattern needs one instance and no clock, at any length
            if _depth(compiled.root) > _MAX_DEPTH:
                raise Unsupported(f"more than {_MAX_DEPTH} nested observation operators")
            compiled.min_instances = min_instances(compiled.root)
            compiled.timed = _timed(compiled.root)
        for leaf, comparison in triggers:  # only once the whole pattern compiled
            self._register(leaf, comparison)

    def _observation(
        self,
        node: ObservationExpr,
        compiled: Compiled,
        triggers: list[tuple[Leaf, Comparison]],
        ranks: list[int],
    ) -> ONode:
        if isinstance(node, ObservationExpression):
            index = len(compiled.brackets)
            comparison, chosen, _ = self._comparison(node.comparison, compiled, index, ranks)
            bracket = OBracket(index, comparison)
            compiled.brackets.append(bracket)
            triggers.extend(chosen)
            return bracket
        if isinstance(node, Qualified):
            result = self._observation(node.expression, compiled, triggers, ranks)
            for qualifier in node.qualifiers:
                if isinstance(qualifier, WithinQualifier):
                    if qualifier.seconds <= 0:
                        raise Unsupported("WITHIN needs a positive number of seconds")
                    result = OWithin(result, _micros(qualifier.seconds))
                elif isinstance(qualifier, RepeatsQualifier):
                    if qualifier.times < 1:
                        raise Unsupported("REPEATS needs a positive count")
                    result = ORepeats(result, qualifier.times)
                else:
                    assert isinstance(qualifier, StartStopQualifier)
                    result = OStartStop(result, qualifier.start_micros, qualifier.stop_micros)
            return result
        operands = [self._observation(o, compiled, triggers, ranks) for o in node.operands]
        joined = operands[0]
        for operand in operands[1:]:
            if isinstance(node, ObservationAnd):
                joined = OAnd(joined, operand)
            elif isinstance(node, ObservationOr):
                joined = OOr(joined, operand)
            else:
                joined = OFollowedBy(joined, operand)
        return joined

    def _comparison(
        self, node: ComparisonExpr, compiled: Compiled, bracket: int, ranks: list[int]
    ) -> tuple[CNode, list[tuple[Leaf, Comparison]], int]:
        """The node, its trigger set (with comparisons) and the set's cost."""
        if isinstance(node, Comparison):
            leaf = self._leaf(node, compiled, bracket, ranks[0])
            ranks[0] += 1
            return leaf, [(leaf, node)], self._cost(node)
        parts = [self._comparison(child, compiled, bracket, ranks) for child in node.operands]
        children = tuple(part[0] for part in parts)
        if isinstance(node, ComparisonOr):
            chosen = [trigger for part in parts for trigger in part[1]]
            return COr(children), chosen, max(part[2] for part in parts)
        assert isinstance(node, ComparisonAnd)
        best = min(parts, key=lambda part: (part[2], len(part[1])))
        return CAnd(children), best[1], best[2]

    def _leaf(self, comparison: Comparison, compiled: Compiled, bracket: int, rank: int) -> Leaf:
        index = self.index
        steps = index.canonical(comparison.path)
        object_type = comparison.object_type
        norm = normaliser(object_type, steps) if index.normalise else None
        cidr = index.normalise and ip_family(object_type, steps)
        if comparison.operator == "EXISTS":
            kind = ABSENT if comparison.negated else EXISTS
        else:
            kind = VALUE
        test = make_test(comparison, norm, cidr)
        loose = index.normalise and "hashes" in steps[:-1]
        return Leaf(compiled, bracket, rank, object_type, steps, loose, kind, test)

    def _cost(self, comparison: Comparison) -> int:
        if comparison.object_type in SDO_TYPES:
            return _INDEXED  # never true, never registered
        operator, value = comparison.operator, comparison.value
        if operator == "EXISTS":
            return _PER_OBJECT if comparison.negated else _SCANNED
        if comparison.negated or operator not in ("=", "IN", "ISSUBSET", "ISSUPERSET", "LIKE"):
            return _GROUPED if operator == "MATCHES" and not comparison.negated else _SCANNED
        if operator == "LIKE":
            assert isinstance(value, str)
            return _INDEXED if LikeIndex.shape(value) is not None else _GROUPED
        values = value if isinstance(value, tuple) else (value,)
        return _SCANNED if any(isinstance(v, Timestamp) for v in values) else _INDEXED

    def _register(self, leaf: Leaf, comparison: Comparison) -> None:
        if leaf.object_type in SDO_TYPES:
            return
        index = self.index
        if leaf.kind == ABSENT:
            index.type(leaf.object_type).absent.append(leaf)
            return
        path = index.path(leaf.object_type, leaf.steps)
        operator, value = comparison.operator, comparison.value
        if self._cost(comparison) == _SCANNED:
            path.scan.append(leaf)
        elif operator in ("=", "IN"):
            values = value if isinstance(value, tuple) else (value,)
            cidr = index.normalise and ip_family(leaf.object_type, leaf.steps)
            keys: set[object] = set()
            for item in values:
                assert item is not None
                assert not isinstance(item, tuple)
                lit = literal(item, path.norm)
                block = cidr_block(lit) if cidr else None
                if block is not None:
                    path.blocks.add(block, leaf)
                else:
                    keys.add(_equal_key(lit, path))
            for key in keys:
                add_entry(path.equal, key, leaf)
        elif operator in ("ISSUBSET", "ISSUPERSET"):
            assert isinstance(value, str)
            network = parse_network(value)
            assert network is not None  # make_test refused the rest
            (path.subset if operator == "ISSUBSET" else path.superset).add(network, leaf)
        elif operator == "LIKE":
            assert isinstance(value, str)
            lower: Normaliser | None = path.norm if path.norm is str.lower else None
            operand = nfc(lower(value) if lower is not None else value)
            shape = LikeIndex.shape(operand)
            if shape is not None:
                if path.like is None:
                    path.like = LikeIndex(lower)
                path.like.add(shape[0], shape[1], leaf)
            else:
                _group(path, anchored=True, lower=lower).add(like_regex(operand), leaf)
        else:
            assert operator == "MATCHES"
            assert isinstance(value, str)
            _group(path, anchored=False, lower=None).add(nfc(value), leaf)


def _group(path: PathIndex, anchored: bool, lower: Normaliser | None) -> RegexGroup:
    for group in path.groups:
        if group.anchored == anchored:
            return group
    group = RegexGroup(anchored, lower)
    path.groups.append(group)
    return group


_MAX_DEPTH = 200  # evaluation recurses once per operator level


def _depth(root: ONode) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, OAnd | OOr | OFollowedBy):
            stack += [(node.left, depth + 1), (node.right, depth + 1)]
        elif not isinstance(node, OBracket):
            stack.append((node.child, depth + 1))
    return deepest


def _timed(node: ONode) -> bool:
    if isinstance(node, OBracket):
        return False
    if isinstance(node, OStartStop):
        return True
    if isinstance(node, OAnd | OOr | OFollowedBy):
        return _timed(node.left) or _timed(node.right)
    return _timed(node.child)
