"""Per-path indexes: from one observed value to the few comparisons it might satisfy.

Every observed value at a path is looked up, never every pattern tried:

* ``equal``: dict from the value to the entries of ``=`` and ``IN`` comparisons; an entry is
  an indicator id (``ids.compact``: a plain pattern, a hit *is* a match) or ``Leaf``\\ s; when
  normalising, string keys are normalised and hash values are keyed by their bytes;
* ``blocks``/``subset``/``superset``: ``NetworkIndex``\\ es for ``=`` on a CIDR block (with
  normalisation), ``ISSUBSET`` and ``ISSUPERSET``;
* ``like``: exact, prefix (``'http://x/%'``) and suffix (``'%.evil.com'``) tables by length;
* ``groups``: other LIKE and all MATCHES regexes of the path, combined into one alternation
  per chunk that rules out the whole chunk in one regex call for most values;
* ``scan``: the rare rest (``!=``, ``NOT``, ``<``, timestamps, EXISTS), tested per value.

Contract of ``candidates(value)``: a superset of the entries whose comparison holds for the
value; callers confirm a ``Leaf`` with ``leaf.test(value)`` (ids need no confirmation: a plain
pattern's hit on a string value is exact).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from shieldwall.domain.matching.ip import NetworkIndex, parse_network
from shieldwall.domain.matching.nodes import Leaf
from shieldwall.domain.matching.paths import Normaliser
from shieldwall.domain.matching.values import compile_text_regex, nfc
from shieldwall.domain.patterns import PathStep

__all__ = ["Entry", "LikeIndex", "PathIndex", "RegexGroup", "TypeIndex", "add_entry"]

Candidate = str | int | Leaf  # an indicator id (see ``ids``) or a leaf to confirm
Entry = Candidate | list[Candidate]
_CHUNK = 200  # alternatives per combined regex


def add_entry(table: dict[object, Entry], key: object, item: Candidate) -> None:
    """Add ``item`` under ``key``, keeping one-item entries unwrapped (memory)."""
    entry = table.get(key)
    if entry is None:
        table[key] = item
    elif isinstance(entry, list):
        entry.append(item)
    else:
        table[key] = [entry, item]


def _extend(out: list[Candidate], entry: Entry | None) -> None:
    if entry is None:
        return
    if isinstance(entry, list):
        out.extend(entry)
    else:
        out.append(entry)


class RegexGroup:
    """Regexes of one path tried together; ``anchored`` for LIKE (``re.match``)."""

    __slots__ = ("anchored", "lower", "members", "prefilters", "rest")

    def __init__(self, anchored: bool, lower: Normaliser | None) -> None:
        self.anchored = anchored
        self.lower = lower
        self.members: list[tuple[str, Leaf]] = []
        self.prefilters: list[tuple[re.Pattern[str], list[Leaf]]] = []
        self.rest: list[Leaf] = []

    def add(self, source: str, leaf: Leaf) -> None:
        self.members.append((source, leaf))

    def freeze(self) -> None:
        """Combine the regexes that combine safely (no groups, no global flags) in chunks."""
        combinable: list[tuple[str, Leaf]] = []
        self.rest = []
        for source, leaf in self.members:
            try:
                compiled = compile_text_regex(source)
            except re.error:
                self.rest.append(leaf)
                continue
            if compiled.groups == 0 and compiled.flags == re.UNICODE:
                combinable.append((source, leaf))
            else:
                self.rest.append(leaf)
        self.prefilters = []
        for start in range(0, len(combinable), _CHUNK):
            chunk = combinable[start : start + _CHUNK]
            joined = "|".join(f"(?:{source})" for source, _ in chunk)
            try:
                prefilter = compile_text_regex(joined)
            except re.error:
                self.rest.extend(leaf for _, leaf in chunk)
                continue
            self.prefilters.append((prefilter, [leaf for _, leaf in chunk]))

    def candidates(self, value: object, out: list[Candidate]) -> None:
        out.extend(self.rest)
        if type(value) is not str:  # bytes and the like: no prefilter
            for _, leaves in self.prefilters:
                out.extend(leaves)
            return
        text = nfc(self.lower(value) if self.lower is not None else value)
        for prefilter, leaves in self.prefilters:
            found = prefilter.match(text) if self.anchored else prefilter.search(text)
            if found is not None:
                out.extend(leaves)


class LikeIndex:
    """LIKE operands without ``_`` and with ``%`` only at one end (or none): hash tables."""

    __slots__ = ("exact", "lower", "prefixes", "suffixes")

    def __init__(self, lower: Normaliser | None) -> None:
        self.lower = lower
        self.exact: dict[object, Entry] = {}
        self.prefixes: dict[int, dict[object, Entry]] = {}
        self.suffixes: dict[int, dict[object, Entry]] = {}

    @staticmethod
    def shape(operand: str) -> tuple[str, str] | None:
        """``('exact'|'prefix'|'suffix', text)`` for an operand this index takes, else None."""
        wildcards = operand.count("%")
        if "_" in operand or wildcards > 1 or operand == "%":
            return None
        if wildcards == 0:
            return ("exact", operand)
        if operand.startswith("%"):
            return ("suffix", operand[1:])
        if operand.endswith("%"):
            return ("prefix", operand[:-1])
        return None

    def add(self, shape: str, text: str, leaf: Leaf) -> None:
        if shape == "exact":
            add_entry(self.exact, text, leaf)
        elif shape == "prefix":
            add_entry(self.prefixes.setdefault(len(text), {}), text, leaf)
        else:
            add_entry(self.suffixes.setdefault(len(text), {}), text, leaf)

    def candidates(self, value: object, out: list[Candidate]) -> None:
        if type(value) is bytes:
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                return
        if type(value) is not str:
            return
        text = nfc(self.lower(value) if self.lower is not None else value)
        # LIKE's regex ends in "$", which also matches before a final line break.
        texts = (text, text[:-1]) if text.endswith("\n") else (text,)
        for candidate in texts:
            _extend(out, self.exact.get(candidate))
            for length, table in self.suffixes.items():
                if len(candidate) >= length:
                    _extend(out, table.get(candidate[-length:]))
        for length, table in self.prefixes.items():
            _extend(out, table.get(text[:length]))


class PathIndex:
    """Everything indexed for one (object type, path).

    ``norm`` normalises string values for the tests; ``keyfn`` makes their ``equal`` keys.
    """

    __slots__ = (
        "blocks", "equal", "groups", "keyfn", "like", "loose", "norm", "object_type", "scan",
        "steps", "subset", "superset",
    )  # fmt: skip

    def __init__(
        self,
        object_type: str,
        steps: tuple[PathStep, ...],
        norm: Normaliser | None,
        keyfn: Callable[[str], object] | None,
        loose: bool,
    ) -> None:
        self.object_type = object_type
        self.steps = steps
        self.norm = norm
        self.keyfn = keyfn
        self.loose = loose
        self.equal: dict[object, Entry] = {}
        self.blocks: NetworkIndex[Leaf] = NetworkIndex()
        self.subset: NetworkIndex[Leaf] = NetworkIndex()
        self.superset: NetworkIndex[Leaf] = NetworkIndex()
        self.like: LikeIndex | None = None
        self.groups: list[RegexGroup] = []
        self.scan: list[Leaf] = []

    @property
    def simple(self) -> bool:
        """Only the equality table is in use (the bulk path of ``match_values`` applies)."""
        last = self.steps[-1]
        decoded = isinstance(last, str) and last.endswith(("_hex", "_bin"))
        return not (
            decoded or self.blocks or self.subset or self.superset or self.like
            or self.groups or self.scan
        )  # fmt: skip

    def freeze(self) -> None:
        for index in (self.blocks, self.subset, self.superset):
            index.freeze()
        for group in self.groups:
            group.freeze()

    def key(self, value: object) -> object:
        """The ``equal`` key for an observed value, or None (not looked up)."""
        if type(value) is str:
            return self.keyfn(value) if self.keyfn is not None else value
        if type(value) is bytes:
            return value.decode("latin-1")
        if type(value) is int or type(value) is float or type(value) is bool:
            return value
        return None

    def candidates(self, value: object) -> list[Candidate]:
        out: list[Candidate] = []
        key = self.key(value)
        if key is not None and self.equal:
            _extend(out, self.equal.get(key))
        if type(value) is str and (self.blocks or self.subset or self.superset):
            text = value
            if self.blocks:
                network = parse_network(self.norm(text) if self.norm is not None else text)
                if network is not None:
                    out.extend(self.blocks.containing(network))
            network = parse_network(text)
            if network is not None:
                out.extend(self.subset.containing(network))
                out.extend(self.superset.contained(network))
        if self.like is not None:
            self.like.candidates(value, out)
        for group in self.groups:
            group.candidates(value, out)
        out.extend(self.scan)
        return out


class TypeIndex:
    """The paths indexed for one object type, and its NOT EXISTS comparisons."""

    __slots__ = ("absent", "paths")

    def __init__(self) -> None:
        self.paths: list[PathIndex] = []
        self.absent: list[Leaf] = []
