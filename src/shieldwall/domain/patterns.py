"""STIX 2.1 patterns: a fast, dependency-free parser, an AST and a canonical formatter.

The language is STIX 2.1 §9 "STIX Patterning" (https://docs.oasis-open.org/cti/stix/v2.1/
stix-v2.1.html); we follow the OASIS ANTLR grammar ``STIXPattern.g4`` (in
oasis-open/cti-stix2-json-schemas and compiled into ``stix2-patterns``) token for token: keywords
are upper case, ``true``/``false`` lower case, ``/* */`` and ``//`` comments are whitespace.
What ``stix2-patterns``' ``run_validator`` accepts is our reference, with these deliberate
differences (the differential test excludes each one by name):

* Comparisons joined by AND inside one ``[...]`` must be satisfiable by one object type (OR
  unions its operands' types, AND intersects them, an empty intersection is an error), as the
  pattern classes of ``stix2`` (cti-python-stix2) require; ``stix2-patterns`` does not check it.
* Timestamps must be real calendar dates (``t'2021-02-30T00:00:00Z'``); the grammar checks shape.
* Hash values (``file:hashes.MD5 = '…'``) are checked like ``stix2-patterns`` does, except that
  IN lists are checked element by element (it checks the text ``('a','b')``, so it rejects every
  IN list, even an empty one), LIKE/MATCHES operands are not checked (they are patterns), an
  index as the last step (``hashes[0]``) is not checked (it crashes), and the MD6 shape is
  anchored at both ends (its regex accepts anything that starts with 32 hex digits).
* A qualifier type may appear once per qualifier chain, also after ``(...)``; ``stix2-patterns``
  checks only chains that follow ``[...]``.  ``([a] WITHIN 1 SECONDS) WITHIN 2 SECONDS`` is fine.
* Negative list indexes (``a[-1]``; its validator crashes on them) are rejected, as are numbers
  too large for a float or with more digits than Python converts to ``int``.

AST: ``ObservationAnd``/``ObservationOr``/``FollowedBy`` and ``ComparisonAnd``/``ComparisonOr``
are n-ary and flat (``a AND (b AND c)`` is one node with three operands); redundant parentheses
leave no trace; qualifiers wrap the expression they follow in ``Qualified``.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypeAlias

from shieldwall.domain.errors import InvalidInput, PatternSyntaxError
from shieldwall.domain.timestamps import parse_timestamp

__all__ = [
    "Binary", "Comparison", "ComparisonAnd", "ComparisonExpr", "ComparisonOr", "FollowedBy",
    "Hex", "ObservationAnd", "ObservationExpr", "ObservationExpression", "ObservationOr",
    "Operator", "PathStep", "Pattern", "Qualified", "Qualifier", "RepeatsQualifier", "Scalar",
    "StartStopQualifier", "Timestamp", "Value", "WithinQualifier", "comparisons",
    "format_pattern", "parse_pattern",
]  # fmt: skip


# ---------------------------------------------------------------------------------------- AST


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


# ---------------------------------------------------------------------------------- tokenizer

# findall() returns every token as a string, then "" for the end of the text.  The alternatives
# are ordered so that the first to match is the token ANTLR's longest-match lexer would make.
_TOKEN = re.compile(
    r"""
    (?:[\x20\t\r\n\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]++
      |/\*.*?\*/|//[^\r\n]*+)*+                                         # skipped
    ( '[^'\\]*+(?:\\['\\][^'\\]*+)*+'                                    # string
    | t'[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])           # timestamp
      T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z'
    | h'(?:[0-9A-Fa-f]{2})*+'                                            # hex
    | b'(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)'
    | [A-Za-z_][A-Za-z0-9_-]*+                                           # identifier, keyword
    | [+-]?[0-9]*\.[0-9]++ | [+-]?(?:0|[1-9][0-9]*+)                     # float, int
    | <=|<>|>=|==|!=|[<>=:.,()\[\]*]
    | /\*.*+ | .|\Z )             # errors (an unterminated comment takes the rest), end
    """,
    re.VERBOSE | re.DOTALL,
)
_LEADING = re.compile(r"[\s(]*")
_KEYWORDS = frozenset(
    (
        "AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET", "EXISTS",
        "LAST", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES",
    )
)  # fmt: skip
_RESERVED = _KEYWORDS | {"true", "false"}
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NUMBER_START = frozenset("0123456789+-.")
_DIGITS = frozenset("0123456789")
_OPERATORS: dict[str, Operator] = {
    "=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
    "IN": "IN", "LIKE": "LIKE", "MATCHES": "MATCHES", "ISSUBSET": "ISSUBSET",
    "ISSUPERSET": "ISSUPERSET",
}  # fmt: skip
_STRING_ONLY = frozenset(("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"))
_ORDERING = frozenset(("<", "<=", ">", ">="))
_JOINERS = frozenset(("FOLLOWEDBY", "OR", "AND"))
_QUALIFIERS = frozenset(("WITHIN", "REPEATS", "START"))
_SHAPES = {
    "t": "timestamp literal t'{}' is not RFC 3339 (YYYY-MM-DDTHH:MM:SS[.fraction]Z)",
    "h": "hex literal h'{}' must be an even number of hex digits",
    "b": "binary literal b'{}' is not padded, non-empty base64",
}


def _is_whole(lexeme: str) -> bool:
    """A non-negative integer token."""
    return lexeme.lstrip("+").isdigit() and lexeme.isascii()


def _is_name(lexeme: str, hyphen: bool) -> bool:
    """An identifier that is no keyword; with a hyphen only if ``hyphen``."""
    return (
        lexeme[:1] in _NAME_START
        and "'" not in lexeme  # t'...', h'...', b'...'
        and lexeme not in _RESERVED
        and (hyphen or "-" not in lexeme)
    )


# ------------------------------------------------------------------------------------- parser


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


class _Parser:
    """Recursive descent over the token strings; each method reads one grammar rule."""

    __slots__ = ("index", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[str] = _TOKEN.findall(text)
        self.index = 0

    def error(self, message: str, index: int | None = None) -> PatternSyntaxError:
        """The error at token ``index`` (default: the current one); positions are found late."""
        return PatternSyntaxError(message, self.position(index))

    def unexpected(self, expected: str) -> PatternSyntaxError:
        lexeme = self.tokens[self.index]
        if not lexeme:
            return self.error(f"expected {expected}, but the pattern ends")
        if lexeme.startswith("/*"):
            return self.error("unterminated /* comment")
        if len(lexeme) == 1 and not lexeme.isalnum() and lexeme not in "_<>=:.,()[]*":
            return self.error(_bad_character(self.text, self.position()))
        if lexeme in _SHAPES and self.text.startswith("'", self.position() + 1):
            start = self.position() + 2
            end = self.text.find("'", start)
            return self.error(_SHAPES[lexeme].format(self.text[start : end if end >= 0 else None]))
        found = repr(lexeme if len(lexeme) <= 40 else lexeme[:37] + "...")
        if lexeme.upper() in _KEYWORDS and lexeme not in _KEYWORDS:
            found += f" (keywords are upper case: {lexeme.upper()})"
        return self.error(f"expected {expected}, found {found}")

    def position(self, index: int | None = None) -> int:
        positions = [match.start(1) for match in _TOKEN.finditer(self.text)]
        return positions[self.index if index is None else index]

    def expect(self, lexeme: str, expected: str) -> None:
        if self.tokens[self.index] != lexeme:
            raise self.unexpected(expected)
        self.index += 1

    # --- observation level: FOLLOWEDBY binds loosest, then OR, then AND, then qualifiers

    def observations(self) -> ObservationExpr:
        tokens = self.tokens
        operands = [self.qualified()]
        joiners: list[str] = []
        while tokens[self.index] in _JOINERS:
            joiners.append(tokens[self.index])
            self.index += 1
            operands.append(self.qualified())
        return _join(operands, joiners, 0) if joiners else operands[0]

    def qualified(self) -> ObservationExpr:
        node = self.observation()
        tokens = self.tokens
        if tokens[self.index] not in _QUALIFIERS:
            return node
        qualifiers: list[Qualifier] = []
        while tokens[self.index] in _QUALIFIERS:
            index = self.index
            qualifier = self.qualifier()
            if any(type(seen) is type(qualifier) for seen in qualifiers):
                name = "START/STOP" if tokens[index] == "START" else tokens[index]
                raise self.error(f"{name} qualifier applied twice to one expression", index)
            qualifiers.append(qualifier)
        return Qualified(node, tuple(qualifiers))

    def qualifier(self) -> Qualifier:
        tokens = self.tokens
        keyword = tokens[self.index]
        self.index += 1
        value = tokens[self.index]
        if keyword == "WITHIN":
            if value[:1] not in _NUMBER_START or value[-1] not in _DIGITS or value[0] == "-":
                raise self.unexpected("a number of seconds after WITHIN")
            self.index += 1
            self.expect("SECONDS", "SECONDS after 'WITHIN <number>'")
            return WithinQualifier(float(self.number(value, self.index - 2)))
        if keyword == "REPEATS":
            if not _is_whole(value):
                raise self.unexpected("a whole number after REPEATS")
            self.index += 1
            self.expect("TIMES", "TIMES after 'REPEATS <number>'")
            return RepeatsQualifier(int(self.number(value, self.index - 2)))
        micros = []
        for expected in ("START", "STOP"):
            if not tokens[self.index].startswith("t'"):
                raise self.unexpected(f"a timestamp literal t'...' after {expected}")
            micros.append(self.timestamp(tokens[self.index]).micros)
            self.index += 1
            if expected == "START":
                self.expect("STOP", "STOP after 'START t'...''")
        return StartStopQualifier(micros[0], micros[1])

    def observation(self) -> ObservationExpr:
        lexeme = self.tokens[self.index]
        start = self.index
        self.index += 1
        if lexeme == "[":
            comparison = self.comparison_or()
            if self.tokens[self.index] != "]":
                opened = self.position(start)
                raise self.unexpected(
                    f"']' to close the observation expression opened at character {opened}"
                )
            self.index += 1
            return ObservationExpression(comparison)
        if lexeme == "(":
            node = self.observations()
            if self.tokens[self.index] != ")":
                raise self.unexpected(f"')' to close the '(' at character {self.position(start)}")
            self.index += 1
            return node
        self.index -= 1
        raise self.unexpected("'[' or '(' to start an observation expression")

    # --- comparison level: OR binds looser than AND

    def comparison_or(self) -> ComparisonExpr:
        node = self.comparison_and()
        if self.tokens[self.index] != "OR":
            return node
        operands: list[ComparisonExpr] = []
        while True:
            operands.extend(node.operands if isinstance(node, ComparisonOr) else (node,))
            if self.tokens[self.index] != "OR":
                return ComparisonOr(tuple(operands))
            self.index += 1
            node = self.comparison_and()

    def comparison_and(self) -> ComparisonExpr:
        node = self.comparison()
        if self.tokens[self.index] != "AND":
            return node
        operands: list[ComparisonExpr] = []
        types = _object_types(node)
        while True:
            operands.extend(node.operands if isinstance(node, ComparisonAnd) else (node,))
            if self.tokens[self.index] != "AND":
                return ComparisonAnd(tuple(operands))
            self.index += 1
            start = self.index
            node = self.comparison()
            joined = types & _object_types(node)
            if not joined:
                raise self.error(
                    "comparisons joined by AND must be satisfiable by the same object type, "
                    f"but {_names(types)} and {_names(_object_types(node))} have none in common",
                    start,
                )
            types = joined

    def comparison(self) -> ComparisonExpr:
        tokens = self.tokens
        lexeme = tokens[self.index]
        if lexeme == "(":
            start = self.index
            self.index += 1
            node = self.comparison_or()
            if tokens[self.index] != ")":
                raise self.unexpected(f"')' to close the '(' at character {self.position(start)}")
            self.index += 1
            return node
        negated = lexeme == "NOT"
        if negated:
            if tokens[self.index + 1] != "EXISTS":
                raise self.error("NOT goes after the object path (a:b NOT = 1) or before EXISTS")
            self.index += 1
            lexeme = "EXISTS"
        if lexeme == "EXISTS":
            self.index += 1
            object_type, path = self.object_path()
            return Comparison(object_type, path, "EXISTS", negated, None)
        object_type, path = self.object_path()
        lexeme = tokens[self.index]
        if lexeme == "NOT":
            negated = True
            self.index += 1
            lexeme = tokens[self.index]
        operator = _OPERATORS.get(lexeme)
        if operator is None:
            if lexeme == "EXISTS":
                raise self.error("EXISTS goes before the object path: EXISTS a:b")
            if lexeme[:1] in _NAME_START and "'" not in lexeme:
                case = " (operators are upper case)" if lexeme.upper() in _OPERATORS else ""
                raise self.error(f"unknown comparison operator {lexeme!r}{case}")
            raise self.unexpected("a comparison operator after the object path")
        self.index += 1
        start = self.index
        value: Value
        if operator == "IN":
            value = self.set_literal()
        else:
            lexeme = tokens[self.index]
            if operator in _STRING_ONLY and (lexeme[:1] != "'" or len(lexeme) < 2):
                raise self.unexpected(f"a string literal after {operator}")
            value = self.literal(f"a literal value after {operator}")
            if operator in _ORDERING and isinstance(value, bool):
                raise self.error(f"true and false cannot be compared with {operator}", start)
        if "hashes" in path and operator != "LIKE" and operator != "MATCHES":
            problem = _hash_problem(path[-1], tokens[start : self.index])
            if problem:
                raise self.error(problem, start)
        return Comparison(object_type, path, operator, negated, value)

    def object_path(self) -> tuple[str, tuple[PathStep, ...]]:
        tokens = self.tokens
        object_type = tokens[self.index]
        if not _is_name(object_type, hyphen=True):
            raise self.unexpected("an object path such as file:name")
        self.index += 1
        self.expect(":", f"':' after the object type {object_type!r}")
        path: list[PathStep] = [self.key(f"a property name after '{object_type}:'")]
        while True:
            lexeme = tokens[self.index]
            if lexeme == ".":
                self.index += 1
                path.append(self.key("a property name after '.'"))
            elif lexeme == "[":
                self.index += 1
                lexeme = tokens[self.index]
                if lexeme == "*":
                    path.append("*")
                elif _is_whole(lexeme):
                    path.append(int(self.number(lexeme, self.index)))
                else:
                    raise self.unexpected("a list index (a whole number or '*')")
                self.index += 1
                self.expect("]", "']' to close the list index")
            elif lexeme[:1] == "." and lexeme[-1:] in _DIGITS:  # a.1 reads as "a" then ".1"
                raise self.error("property names cannot start with a digit")
            else:
                return object_type, tuple(path)

    def key(self, expected: str) -> str:
        lexeme = self.tokens[self.index]
        if _is_name(lexeme, hyphen=False):
            self.index += 1
            return lexeme
        if lexeme[:1] == "'" and len(lexeme) > 1:
            self.index += 1
            return _unescape(lexeme)
        if _is_name(lexeme, hyphen=True):
            raise self.error(f"property name {lexeme!r} contains '-': quote it as '{lexeme}'")
        raise self.unexpected(expected)

    def set_literal(self) -> tuple[Scalar, ...]:
        tokens = self.tokens
        self.expect("(", "'(' to start the IN list")
        if tokens[self.index] == ")":
            self.index += 1
            return ()
        values = [self.literal("a literal value in the IN list")]
        while tokens[self.index] == ",":
            self.index += 1
            values.append(self.literal("a literal value in the IN list"))
        self.expect(")", "',' or ')' in the IN list")
        return tuple(values)

    def literal(self, expected: str) -> Scalar:
        """The literal at the current token (which it consumes)."""
        lexeme = self.tokens[self.index]
        first = lexeme[:1]
        value: Scalar
        if first == "'" and len(lexeme) > 1:
            value = _unescape(lexeme)
        elif first in _NUMBER_START and lexeme[-1] in _DIGITS:
            value = self.number(lexeme, self.index)
        elif lexeme == "true" or lexeme == "false":
            value = lexeme == "true"
        elif lexeme[1:2] == "'":  # the tokenizer only makes t'', h'' and b'' tokens that are valid
            if first == "t":
                value = self.timestamp(lexeme)
            elif first == "h":
                value = Hex(bytes.fromhex(lexeme[2:-1]))
            else:
                value = Binary(base64.b64decode(lexeme[2:-1]))
        else:
            if first == "(":
                raise self.error("a list of values needs IN")
            raise self.unexpected(expected)
        self.index += 1
        return value

    def number(self, lexeme: str, index: int) -> int | float:
        if "." in lexeme:
            number = float(lexeme)
            if math.isinf(number):
                raise self.error(f"number {lexeme[:20]}... is too large", index)
            return number
        try:
            return int(lexeme)
        except ValueError:  # more digits than sys.get_int_max_str_digits()
            raise self.error(f"integer {lexeme[:20]}... has too many digits", index) from None

    def timestamp(self, lexeme: str) -> Timestamp:
        text = lexeme[2:-1]
        dot = text.find(".")
        # The grammar allows any number of fraction digits; parse_timestamp takes up to nine.
        digits = text if dot < 0 or len(text) - dot <= 11 else text[: dot + 10] + "Z"
        try:
            return Timestamp(text, parse_timestamp(digits))
        except InvalidInput:
            raise self.error(f"timestamp literal {lexeme} is not RFC 3339: no such date") from None


def _join(operands: list[ObservationExpr], joiners: list[str], level: int) -> ObservationExpr:
    """Group ``operands`` by the ``joiners`` between them, loosest (FOLLOWEDBY) first."""
    if not joiners:
        return operands[0]
    joiner, cls = _LEVELS[level]
    if joiner not in joiners:
        return _join(operands, joiners, level + 1)
    parts: list[ObservationExpr] = []
    start = 0
    for end, between in enumerate([*joiners, joiner]):
        if between == joiner:
            part = _join(operands[start : end + 1], joiners[start:end], level + 1)
            parts.extend(part.operands if isinstance(part, cls) else (part,))
            start = end + 1
    return cls(tuple(parts))


_LEVELS: tuple[tuple[str, type[FollowedBy] | type[ObservationOr] | type[ObservationAnd]], ...] = (
    ("FOLLOWEDBY", FollowedBy),
    ("OR", ObservationOr),
    ("AND", ObservationAnd),
)


def _unescape(lexeme: str) -> str:
    inner = lexeme[1:-1]
    if "\\" in inner:
        inner = inner.replace("\\'", "'").replace("\\\\", "\\")
    return inner


def _bad_character(text: str, pos: int) -> str:
    char = text[pos]
    if char == "'":
        escape = re.compile(r"(?:[^'\\]|\\['\\])*+(\\.)?", re.DOTALL).match(text, pos + 1)
        if escape and escape.group(1):
            bad = escape.group(1)
            return f"invalid escape {bad!r} in a string literal (only \\' and \\\\ are allowed)"
        return "unterminated string literal"
    if char == '"':
        return 'strings are delimited by single quotes, not "'
    if char in "+-":
        return f"{char!r} must be directly followed by a number"
    return f"unexpected character {char!r}"


def _object_types(node: ComparisonExpr) -> frozenset[str]:
    """Object types that could satisfy ``node`` on their own (OR unions, AND intersects)."""
    if isinstance(node, Comparison):
        return frozenset((node.object_type,))
    types = [_object_types(operand) for operand in node.operands]
    if isinstance(node, ComparisonOr):
        return frozenset.union(*types)
    return frozenset.intersection(*types)


def _names(types: frozenset[str]) -> str:
    return " or ".join(repr(name) for name in sorted(types))


# stix2-patterns' hash checks (v21/object_validator.py) with the fixes the module docstring lists:
# the number of hex digits each hash has; SSDEEP has a shape of its own.
_HEX_DIGITS = {
    "MD5": (32,), "MD6": (32, 40, 56, 64, 96, 128), "RIPEMD-160": (40,), "SHA-1": (40,),
    "SHA-224": (56,), "SHA-256": (64,), "SHA-384": (96,), "SHA-512": (128,), "SHA3-224": (56,),
    "SHA3-256": (64,), "SHA3-384": (96,), "SHA3-512": (128,), "WHIRLPOOL": (128,),
}  # fmt: skip
_HASHES = {
    name.replace("-", ""): (name, re.compile("|".join(f"[a-fA-F0-9]{{{n}}}" for n in lengths)))
    for name, lengths in _HEX_DIGITS.items()
} | {"SSDEEP": ("SSDEEP", re.compile("[a-zA-Z0-9/+:.]{1,128}"))}


def _hash_problem(selector: PathStep, tokens: list[str]) -> str | None:
    """Why the value tokens do not fit the hash ``selector`` names, if they do not."""
    if not isinstance(selector, str):
        return None
    known = _HASHES.get(selector.upper().replace("-", "").replace("'", ""))
    if known is None:
        return None
    name, shape = known
    for lexeme in tokens:
        if lexeme not in "(,)":
            value = lexeme.replace("'", "")  # like stix2-patterns: as written, unquoted
            if shape.fullmatch(value) is None:
                return f"{value[:140]!r} is not a valid {name} hash"
    return None


# ------------------------------------------------------------------------ walking, formatting


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
