"""Hypothesis strategies for the matcher tests: observations and patterns over one vocabulary.

Observations: 1-4 objects each, drawn whole from ``OBJECTS`` (``"@k"`` is a reference to object
key k), with overlapping intervals and ``number_observed`` up to 3.  Patterns: brackets of one
comparison (or two joined by AND/OR) drawn from ``COMPARISONS``, joined by AND/OR/FOLLOWEDBY
and qualified by WITHIN/REPEATS/START-STOP up to three levels deep.  ``canonical_text`` prints a
pattern flat (``format_pattern``) so that any parser groups it left to right.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from shieldwall.domain.matching import Observation
from shieldwall.domain.patterns import format_pattern, parse_pattern
from shieldwall.domain.timestamps import format_timestamp

SECOND = 1_000_000
BASE = 1_700_000_000 * SECOND

IPS = ["10.0.0.1", "10.0.0.2", "10.1.2.3", "192.168.1.7", "8.8.8.8", "10.0.0.0/24"]
NETS = ["10.0.0.0/8", "10.0.0.0/24", "192.168.0.0/16", "8.8.8.0/24", "10.0.0.1"]
DOMAINS = ["evil.com", "www.evil.com", "a.b.evil.com", "EVIL.com", "good.org", "evil.com.au"]
NAMES = ["a.exe", "b.dll", "README", "a.EXE", "ḍ̇.txt", "d\u0323\u0307.txt", "x\ny"]
MD5 = ["d41d8cd98f00b204e9800998ecf8427e", "900150983cd24fb0d6963f7d28e17f72"]
MD5 = [*MD5, MD5[0].upper()]
SHA = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]
STRINGS = ["alice", "bob", "Alice", "carol", "", "ällo", "a_b%c"]
NUMBERS: list[Any] = [0, 1, 5, 10, -3, 2.5, 5.0, True, False]
STAMPS = [BASE, BASE + SECOND, BASE + 5 * SECOND]
HEX = ["616c696365", "0102ff", "626f62"]
BIN = ["YWxpY2U=", "AQL/", "Ym9i"]
TAGS = ["a", "b", "c"]

# ------------------------------------------------------------------------------ observations
# Objects are drawn whole from templates (drawing property by property made generation the
# slow part); "@k" in a template is a reference to object key k of the same observation.

OBJECTS: list[dict[str, object]] = [
    *({"type": "ipv4-addr", "value": ip} for ip in IPS),
    *({"type": "domain-name", "value": d} for d in DOMAINS),
    {"type": "domain-name", "value": "evil.com", "resolves_to_refs": ["@0", "@1"]},
    {"type": "domain-name", "value": "good.org", "resolves_to_refs": ["@2"]},
    *({"type": "file", "name": n, "size": z} for n, z in zip(NAMES, NUMBERS, strict=False)),
    {"type": "file", "name": "a.exe", "size": 10, "hashes": {"MD5": MD5[0]}},
    {"type": "file", "name": "b.dll", "size": 100, "hashes": {"MD5": MD5[1], "SHA-256": SHA[0]}},
    {"type": "file", "name": "README", "size": 0, "hashes": {"MD5": MD5[2]}},
    {"type": "file", "name": "a.exe", "hashes": {"SHA-256": SHA[0]}},
    *({"type": "x-net", "cidr": net} for net in NETS[:4]),
    *({"type": "x-thing", "s": s, "n": n} for s, n in zip(STRINGS, NUMBERS, strict=False)),
    {"type": "x-thing", "s": "alice", "tags": ["a", "b"], "peer_ref": "@1"},
    {"type": "x-thing", "s": "bob", "tags": ["c"], "items_refs": ["@0", "@2"]},
    {"type": "x-thing", "n": 5, "tags": [], "peer_ref": "@0", "items_refs": ["@1"]},
    {"type": "x-thing", "when": format_timestamp(STAMPS[0]), "data_hex": HEX[0]},
    {"type": "x-thing", "when": format_timestamp(STAMPS[1]), "data_bin": BIN[0], "s": "ällo"},
    {"type": "x-thing", "when": format_timestamp(STAMPS[2]), "data_hex": HEX[1], "n": 2.5},
    {"type": "x-thing", "data_bin": BIN[1], "data_hex": HEX[2], "peer_ref": "@9"},
    {"type": "x-thing", "s": "carol", "items_refs": ["@1", "@9"], "tags": ["a", "a"]},
]


def _resolve(value: object) -> object:
    if isinstance(value, str) and value.startswith("@"):
        return value[1:]
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    return value


_START = st.sampled_from([0, 1, 2, 3, 5, 8])
_LENGTH = st.sampled_from([0, 0, 1, 3])
_COUNT = st.sampled_from([1, 1, 1, 2, 3])
_TEMPLATES = st.lists(st.sampled_from(OBJECTS), min_size=1, max_size=4)


@st.composite
def observation(draw: st.DrawFn) -> Observation:
    first = BASE + draw(_START) * SECOND
    last = first + draw(_LENGTH) * SECOND
    count = draw(_COUNT)
    templates = draw(_TEMPLATES)
    objects = {
        str(key): {name: _resolve(value) for name, value in template.items()}
        for key, template in enumerate(templates)
    }
    return Observation(objects, first, last, count)


# ---------------------------------------------------------------------------------- patterns
# Comparisons are drawn whole from a list built once per object type.


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _number(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _likes(pool: list[str]) -> list[str]:
    found = set()
    for word in pool:
        found |= {word, "%" + word[2:], word[:3] + "%", "%" + word[1:3] + "%"}
        if word:
            found.add(word[:1] + "_" + word[2:])
    return sorted(found)


REGEXES = ["^evil", "com$", "e.i", "[0-9]+", "(?i)EVIL", "^a", "l{2}", "^$", "\\.exe$", "ali"]


def _string_tests(path: str, pool: list[str]) -> list[str]:
    tests = []
    for negate in ("", "NOT "):
        tests += [f"{path} {negate}{op} {_quote(v)}" for op in ("=", "!=", "<", ">=") for v in pool]
        tests += [f"{path} {negate}LIKE {_quote(v)}" for v in _likes(pool)]
        tests += [f"{path} {negate}MATCHES {_quote(r)}" for r in REGEXES]
        for size in range(4):
            tests.append(f"{path} {negate}IN ({', '.join(_quote(v) for v in pool[size::3])})")
    return tests


STAMP_LITERALS = [f"t'{format_timestamp(s)}'" for s in STAMPS]
COMPARISONS: dict[str, list[str]] = {
    "ipv4-addr": [
        *(f"ipv4-addr:value {op} {_quote(ip)}" for op in ("=", "!=", "NOT =") for ip in IPS),
        *(
            f"ipv4-addr:value {op} {_quote(net)}"
            for op in ("ISSUBSET", "NOT ISSUBSET")
            for net in [*NETS[:4], "10.0.0.1/32"]
        ),
        "ipv4-addr:value IN ('10.0.0.1', '8.8.8.8')",
        "ipv4-addr:value NOT IN ('10.0.0.2')",
        "ipv4-addr:value IN ('10.0.0.0/24', '10.1.2.3')",
    ],
    "x-net": [
        *(f"x-net:cidr {op} {_quote(n)}" for op in ("ISSUPERSET", "NOT ISSUPERSET") for n in NETS),
        *(f"x-net:cidr = {_quote(n)}" for n in NETS[:2]),
    ],
    "domain-name": [
        *_string_tests("domain-name:value", DOMAINS),
        *_string_tests("domain-name:resolves_to_refs[*].value", [*IPS[:3], *DOMAINS[:2]]),
    ],
    "file": [
        *_string_tests("file:name", NAMES),
        *(
            f"file:size {op} {_number(v)}"
            for op in ("=", "!=", "<", ">=", "NOT >")
            for v in [0, 10, 5.0, 2.5, -3] + ([True] if op in ("=", "!=") else [])
        ),
        "file:size = 'x'",
        "file:size != '10'",
        "file:size IN (0, 10, 2.5)",
        "file:size IN (5.0, 100)",
        "file:size NOT IN (10)",
        *(f"file:hashes.MD5 {op} {_quote(h)}" for op in ("=", "!=") for h in MD5),
        f"file:hashes.MD5 IN ({_quote(MD5[0])}, {_quote(MD5[1])})",
        f"file:hashes.'SHA-256' = {_quote(SHA[0])}",
        "file:hashes.MD5 LIKE '%427e'",
    ],
    "x-thing": [
        *_string_tests("x-thing:s", STRINGS),
        *(
            f"x-thing:n {op} {_number(v)}"
            for op in ("=", "!=", "NOT =", "IN")
            for v in [0, 1, 5, 2.5, True, False]
            if op != "IN"
        ),
        *(f"x-thing:n {op} {v}" for op in ("<", ">=", "NOT <") for v in [0, 1, 5, 2.5, "'5'"]),
        "x-thing:n IN (0, 1, 5)",
        "x-thing:n IN (true)",
        "x-thing:n IN (2.5, 5)",
        *(
            f"x-thing:tags{i} {op} {_quote(t)}"
            for i in ("[*]", "[0]", "[1]")
            for op in ("=", "!=")
            for t in TAGS
        ),
        *(f"x-thing:when {op} {s}" for op in ("=", "!=", "<", ">") for s in STAMP_LITERALS),
        f"x-thing:when IN ({', '.join(STAMP_LITERALS[:2])})",
        f"x-thing:when NOT IN ({STAMP_LITERALS[2]})",
        *(
            f"{path} {op} {lit}"
            for path in ("x-thing:data_hex", "x-thing:data_bin")
            for op in ("=", "!=", ">")
            for lit in ("h'616c696365'", "b'YWxpY2U='", "'alice'", "h'0102ff'", "'bob'")
        ),
        *(
            f"{path} {op} {lit}"
            for path in ("x-thing:data_hex", "x-thing:data_bin")
            for op in ("MATCHES", "LIKE")
            for lit in ("'ali'", "'^b'", "'%ce'", "'bob'")
        ),
        *_string_tests("x-thing:peer_ref.s", STRINGS[:3]),
        *_string_tests("x-thing:peer_ref.value", DOMAINS[:2] + IPS[:2]),
        *_string_tests("x-thing:items_refs[*].value", DOMAINS[:3] + IPS[:2]),
        *(f"x-thing:items_refs[*].s {op} 'alice'" for op in ("=", "!=")),
        "x-thing:peer_ref.items_refs[*].s = 'alice'",
        "x-thing:items_refs[0].name = 'a.exe'",
    ],
}
KINDS = sorted(COMPARISONS)
_KIND = st.sampled_from(KINDS)
_COMPARISON = {kind: st.sampled_from(tests) for kind, tests in COMPARISONS.items()}
_SHAPE = st.sampled_from(["one", "one", "and", "or"])


@st.composite
def bracket(draw: st.DrawFn) -> str:
    kind = draw(_KIND)
    shape = draw(_SHAPE)
    first = draw(_COMPARISON[kind])
    if shape == "one":
        return f"[{first}]"
    if shape == "and":  # AND needs one object type for both sides (our parser checks it)
        return f"[{first} AND {draw(_COMPARISON[kind])}]"
    return f"[{first} OR {draw(_COMPARISON[draw(_KIND)])}]"


_BRACKET = bracket()


def _stamp(offset: int) -> str:
    return f"t'{format_timestamp(BASE + offset * SECOND)}'"


# 0: a bracket, 1-3: AND/OR/FOLLOWEDBY of 2-3 expressions, 4-6: a qualified expression.
_CHOICE = (st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6]), st.sampled_from([0, 0, 0, 0, 1, 2, 3, 4]))
_CHOICE = (*_CHOICE, st.just(0))
_QUALIFIER = st.sampled_from(["WITHIN", "REPEATS", "START", *[""] * 9])
_SOME_QUALIFIER = st.sampled_from(["WITHIN", "REPEATS", "START"])
_SECONDS = st.sampled_from(["0.5", "1", "2", "5"])
_TIMES = st.sampled_from([2, 2, 3])
_OFFSET = st.sampled_from([0, 1, 2, 4])
_SPAN = st.sampled_from([0, 1, 2, 6])


def _expression(depth: int) -> st.SearchStrategy[str]:
    inner = _expression(depth + 1) if depth < 2 else None
    parts = st.lists(inner, min_size=2, max_size=3) if inner is not None else None

    @st.composite
    def expression(draw: st.DrawFn) -> str:
        choice = draw(_CHOICE[depth])
        if choice == 0:
            node = draw(_BRACKET)
        elif choice <= 3:
            assert parts is not None
            joiner = ["AND", "OR", "FOLLOWEDBY"][choice - 1]
            node = f" {joiner} ".join(f"({part})" for part in draw(parts))
        else:
            assert inner is not None
            node = f"({draw(inner)})"
        qualifier = draw(_QUALIFIER) if choice < 4 else draw(_SOME_QUALIFIER)
        if qualifier == "WITHIN":
            node = f"({node}) WITHIN {draw(_SECONDS)} SECONDS"
        elif qualifier == "REPEATS":
            node = f"({node}) REPEATS {draw(_TIMES)} TIMES"
        elif qualifier == "START":
            start = draw(_OFFSET)
            node = f"({node}) START {_stamp(start)} STOP {_stamp(start + draw(_SPAN))}"
        return node

    return expression()


observation_expression = _expression(0)


def canonical_text(text: str) -> str:
    # Twice: the first pass flattens what parentheses nested, the second prints it flat.
    return format_pattern(parse_pattern(format_pattern(parse_pattern(text))))
