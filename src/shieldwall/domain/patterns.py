"""STIX 2.1 patterns: a fast, dependency-free parser, an AST and a canonical formatter.

The language is STIX 2.1 section 9, "STIX Patterning"
(https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html, §9); the grammar we follow token for
token is the OASIS ANTLR grammar ``STIXPattern.g4`` (oasis-open/cti-stix2-json-schemas,
``pattern_grammar/``), which ``stix2-patterns`` compiles.  What ``stix2-patterns``' validator
accepts is our reference for validity, with these deliberate differences (each is excluded by name
in the differential test):

* Comparisons joined by AND inside one ``[...]`` must be satisfiable by one object type (OR
  unions the types of its operands, AND intersects them; an empty intersection is an error).
  The spec and ``stix2`` (cti-python-stix2) require this; ``stix2-patterns`` does not check it.
* Timestamps must be real calendar dates (``t'2021-02-30T00:00:00Z'`` is rejected); the grammar
  only checks the shape.
* Hash values (``…hashes.MD5 = '…'``) are checked as ``stix2-patterns`` does, except that IN lists
  are checked element by element (``stix2-patterns`` checks the text ``('a','b')`` and so rejects
  every IN list), LIKE/MATCHES operands are not checked (they are patterns, not hashes), an
  index as the last step (``hashes[0]``) is not checked (``stix2-patterns`` crashes), and MD6 is
  anchored at both ends.
* A qualifier type may appear only once in a qualifier chain, also after a parenthesized
  expression (``stix2-patterns`` only checks chains that follow ``[...]``).  Qualifiers on an
  inner, parenthesized expression are a separate chain: ``([a] WITHIN 1 SECONDS) WITHIN 2 SECONDS``.
* Negative list indexes (``a[-1]``) are rejected (``stix2-patterns``' validator crashes on them),
  as are numbers that do not fit a float or have more digits than Python converts to ``int``.

AST shape: ``ObservationAnd``/``ObservationOr``/``FollowedBy`` and ``ComparisonAnd``/
``ComparisonOr`` are n-ary and flattened (``a AND (b AND c)`` gives one node with three operands);
redundant parentheses leave no trace; qualifiers wrap the expression they follow in ``Qualified``.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Iterator
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

    ``path`` never is empty; its first step is a key.  ``==`` and ``<>`` are read as ``=`` and
    ``!=``.  A quoted key ``'*'`` is indistinguishable from ``[*]`` here (both are ``"*"``).
    """

    object_type: str
    path: tuple[PathStep, ...]
    operator: Operator
    negated: bool
    value: Value | None


@dataclass(frozen=True, slots=True)
class ComparisonAnd:
    operands: tuple[ComparisonExpr, ...]  # two or more; none is itself a ComparisonAnd


@dataclass(frozen=True, slots=True)
class ComparisonOr:
    operands: tuple[ComparisonExpr, ...]  # two or more; none is itself a ComparisonOr


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
    operands: tuple[ObservationExpr, ...]  # two or more; none is itself an ObservationAnd


@dataclass(frozen=True, slots=True)
class ObservationOr:
    operands: tuple[ObservationExpr, ...]  # two or more; none is itself an ObservationOr


@dataclass(frozen=True, slots=True)
class FollowedBy:
    operands: tuple[ObservationExpr, ...]  # two or more, in time order; none is a FollowedBy


@dataclass(frozen=True, slots=True)
class Qualified:
    """``expression`` followed by qualifiers (in source order, one of each type at most)."""

    expression: ObservationExpr
    qualifiers: tuple[Qualifier, ...]


ObservationExpr: TypeAlias = (
    ObservationExpression | ObservationAnd | ObservationOr | FollowedBy | Qualified
)


@dataclass(frozen=True, slots=True)
class Pattern:
    expression: ObservationExpr


# ---------------------------------------------------------------------------------- tokenizer

# One alternation, ordered so that the first alternative to match is the longest token ANTLR's
# lexer would produce (special literals before identifiers, floats before ints, '<=' before '<').
_TOKEN = re.compile(
    r"""
    (?P<ws>[\x20\t\r\n\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+
        |/\*.*?\*/|//[^\r\n]*)
    |(?P<str>'[^'\\]*(?:\\['\\][^'\\]*)*')
    |(?P<ts>t'[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])
        T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z')
    |(?P<hex>h'(?:[0-9A-Fa-f]{2})*')
    |(?P<bin>b'(?:[A-Za-z0-9+/]{4})*
        (?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)')
    |(?P<id>[A-Za-z_][A-Za-z0-9_-]*)
    |(?P<float>[+-]?[0-9]*\.[0-9]+)
    |(?P<int>[+-]?(?:0|[1-9][0-9]*))
    |(?P<punct><=|<>|>=|==|!=|[<>=:.,()\[\]*])
    |(?P<bad>.)
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
_LITERAL_SHAPES = {
    "t": "timestamp literal t'{}' is not RFC 3339 (expected YYYY-MM-DDTHH:MM:SS[.fraction]Z)",
    "h": "hex literal h'{}' must be an even number of hex digits",
    "b": "binary literal b'{}' is not non-empty, padded base64",
}
_OPERATORS: dict[str, Operator] = {
    "=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
    "IN": "IN", "LIKE": "LIKE", "MATCHES": "MATCHES", "ISSUBSET": "ISSUBSET",
    "ISSUPERSET": "ISSUPERSET",
}  # fmt: skip
_ORDERING = frozenset(("<", "<=", ">", ">="))
_STRING_ONLY = frozenset(("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"))
_SCALAR_KINDS = frozenset(("str", "int", "float", "bool", "ts", "hex", "bin"))

Token: TypeAlias = tuple[str, str, int]  # kind, text, offset


def _tokenize(text: str) -> list[Token]:
    """Tokens without whitespace and comments; kind is the keyword or punctuation itself."""
    tokens: list[Token] = []
    append = tokens.append
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "bad"
        if kind == "ws":
            continue
        lexeme = match.group()
        if kind == "id":
            if lexeme in _KEYWORDS:
                kind = lexeme
            elif lexeme == "true" or lexeme == "false":
                kind = "bool"
            elif "-" in lexeme:
                kind = "hid"
            elif lexeme in _LITERAL_SHAPES and text.startswith("'", match.end()):
                end = text.find("'", match.end() + 1)
                inner = text[match.end() + 1 : end if end >= 0 else None]
                raise PatternSyntaxError(_LITERAL_SHAPES[lexeme].format(inner), match.start())
        elif kind == "punct":
            kind = lexeme
        elif kind == "bad":
            raise PatternSyntaxError(_bad_character(text, match.start()), match.start())
        append((kind, lexeme, match.start()))
    append(("eof", "", len(text)))
    return tokens


def _bad_character(text: str, pos: int) -> str:
    char = text[pos]
    if char == "'":
        escape = re.compile(r"(?:[^'\\]|\\['\\])*(\\.)?", re.DOTALL).match(text, pos + 1)
        if escape is not None and escape.group(1):
            return (
                f"invalid escape {escape.group(1)!r} in string literal "
                "(only \\' and \\\\ are allowed)"
            )
        return "unterminated string literal"
    if char == '"':
        return 'strings are delimited by single quotes, not "'
    if char in "+-":
        return f"'{char}' must be directly followed by a number"
    return f"unexpected character {char!r}"


# ------------------------------------------------------------------------------------- parser


def parse_pattern(text: str) -> Pattern:
    """Parse a STIX 2.1 pattern.

    Returns the AST; raises ``PatternSyntaxError`` (with a 0-based character ``position``) for
    every text that is not a valid pattern, including the semantic checks listed in the module
    docstring.  Never raises anything else for a ``str`` argument.
    """
    leading = _LEADING.match(text)
    start = leading.end() if leading else 0
    if not text.startswith("[", start):  # the same shortcut check stix2-patterns makes
        raise PatternSyntaxError(
            "a pattern must start with '[' (optionally after opening parentheses)", start
        )
    parser = _Parser(_tokenize(text))
    try:
        expression = parser.followed_by()
    except RecursionError:
        raise PatternSyntaxError("pattern is nested too deeply", 0) from None
    if parser.tokens[parser.index][0] != "eof":
        raise parser.unexpected("the end of the pattern")
    return Pattern(expression)


class _Parser:
    """Recursive descent over the token list; each method consumes one grammar rule."""

    __slots__ = ("index", "tokens")

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def unexpected(self, expected: str) -> PatternSyntaxError:
        kind, text, pos = self.tokens[self.index]
        if kind == "eof":
            return PatternSyntaxError(f"expected {expected}, but the pattern ends", pos)
        found = repr(text if len(text) <= 40 else text[:37] + "...")
        hint = ""
        if kind in ("id", "hid") and text.upper() in _KEYWORDS:
            hint = f" (keywords are upper case: {text.upper()})"
        return PatternSyntaxError(f"expected {expected}, found {found}{hint}", pos)

    def expect(self, kind: str, expected: str) -> None:
        if self.tokens[self.index][0] != kind:
            raise self.unexpected(expected)
        self.index += 1

    # --- observation level: FOLLOWEDBY < OR < AND < qualified primary

    def _joined(
        self,
        keyword: str,
        cls: type[FollowedBy] | type[ObservationOr] | type[ObservationAnd],
        operand: Callable[[], ObservationExpr],
    ) -> ObservationExpr:
        node = operand()
        tokens = self.tokens
        if tokens[self.index][0] != keyword:
            return node
        operands = list(node.operands) if isinstance(node, cls) else [node]
        while tokens[self.index][0] == keyword:
            self.index += 1
            node = operand()
            if isinstance(node, cls):
                operands.extend(node.operands)
            else:
                operands.append(node)
        return cls(tuple(operands))

    def followed_by(self) -> ObservationExpr:
        return self._joined("FOLLOWEDBY", FollowedBy, self.observation_or)

    def observation_or(self) -> ObservationExpr:
        return self._joined("OR", ObservationOr, self.observation_and)

    def observation_and(self) -> ObservationExpr:
        return self._joined("AND", ObservationAnd, self.qualified)

    def qualified(self) -> ObservationExpr:
        node = self.observation()
        tokens = self.tokens
        kind, _, pos = tokens[self.index]
        if kind != "WITHIN" and kind != "REPEATS" and kind != "START":
            return node
        qualifiers: list[Qualifier] = []
        while kind == "WITHIN" or kind == "REPEATS" or kind == "START":
            qualifier = self.qualifier(kind)
            if any(type(seen) is type(qualifier) for seen in qualifiers):
                name = "START/STOP" if kind == "START" else kind
                raise PatternSyntaxError(f"{name} qualifier applied twice to one expression", pos)
            qualifiers.append(qualifier)
            kind, _, pos = tokens[self.index]
        return Qualified(node, tuple(qualifiers))

    def qualifier(self, kind: str) -> Qualifier:
        tokens = self.tokens
        self.index += 1
        value_kind, text, pos = tokens[self.index]
        if kind == "WITHIN":
            if value_kind not in ("int", "float") or text[0] == "-":
                raise self.unexpected("a number of seconds after WITHIN")
            self.index += 1
            self.expect("SECONDS", "SECONDS after 'WITHIN <number>'")
            return WithinQualifier(_float(text, pos))
        if kind == "REPEATS":
            if value_kind != "int" or text[0] == "-":
                raise self.unexpected("a whole number after REPEATS")
            self.index += 1
            self.expect("TIMES", "TIMES after 'REPEATS <number>'")
            return RepeatsQualifier(_int(text, pos))
        if value_kind != "ts":
            raise self.unexpected("a timestamp literal t'...' after START")
        start = _timestamp(text, pos).micros
        self.index += 1
        self.expect("STOP", "STOP after 'START t'...''")
        if tokens[self.index][0] != "ts":
            raise self.unexpected("a timestamp literal t'...' after STOP")
        stop = _timestamp(tokens[self.index][1], tokens[self.index][2]).micros
        self.index += 1
        return StartStopQualifier(start, stop)

    def observation(self) -> ObservationExpr:
        kind, _, pos = self.tokens[self.index]
        self.index += 1
        if kind == "[":
            comparison = self.comparison_or()
            self.expect("]", f"']' to close the observation expression (opened at character {pos})")
            return ObservationExpression(comparison)
        if kind == "(":
            node = self.followed_by()
            self.expect(")", f"')' to close the parenthesis (opened at character {pos})")
            return node
        self.index -= 1
        raise self.unexpected("'[' or '(' to start an observation expression")

    # --- comparison level: OR < AND < comparison

    def comparison_or(self) -> ComparisonExpr:
        node = self.comparison_and()
        tokens = self.tokens
        if tokens[self.index][0] != "OR":
            return node
        operands: list[ComparisonExpr] = (
            list(node.operands) if isinstance(node, ComparisonOr) else [node]
        )
        while tokens[self.index][0] == "OR":
            self.index += 1
            node = self.comparison_and()
            if isinstance(node, ComparisonOr):
                operands.extend(node.operands)
            else:
                operands.append(node)
        return ComparisonOr(tuple(operands))

    def comparison_and(self) -> ComparisonExpr:
        node = self.comparison()
        tokens = self.tokens
        if tokens[self.index][0] != "AND":
            return node
        operands: list[ComparisonExpr] = (
            list(node.operands) if isinstance(node, ComparisonAnd) else [node]
        )
        types = _object_types(node)
        while tokens[self.index][0] == "AND":
            self.index += 1
            pos = tokens[self.index][2]
            node = self.comparison()
            joined = types & _object_types(node)
            if not joined:
                raise PatternSyntaxError(
                    "comparisons joined by AND must be satisfiable by the same object type, "
                    f"but {_names(types)} and {_names(_object_types(node))} have none in common",
                    pos,
                )
            types = joined
            if isinstance(node, ComparisonAnd):
                operands.extend(node.operands)
            else:
                operands.append(node)
        return ComparisonAnd(tuple(operands))

    def comparison(self) -> ComparisonExpr:
        tokens = self.tokens
        kind, _, pos = tokens[self.index]
        if kind == "(":
            self.index += 1
            node = self.comparison_or()
            self.expect(")", f"')' to close the parenthesis (opened at character {pos})")
            return node
        negated = kind == "NOT"
        if negated:
            if tokens[self.index + 1][0] != "EXISTS":
                raise PatternSyntaxError(
                    "NOT goes after the object path (file:name NOT = 'x') or before EXISTS", pos
                )
            self.index += 1
            kind = "EXISTS"
        if kind == "EXISTS":
            self.index += 1
            object_type, path = self.object_path()
            return Comparison(object_type, path, "EXISTS", negated, None)
        object_type, path = self.object_path()
        kind, text, pos = tokens[self.index]
        if kind == "NOT":
            negated = True
            self.index += 1
            kind, text, pos = tokens[self.index]
        operator = _OPERATORS.get(kind)
        if operator is None:
            if kind == "EXISTS":
                raise PatternSyntaxError("EXISTS goes before the object path", pos)
            if kind in ("id", "hid", "bool"):
                hint = " (operators are upper case)" if text.upper() in _OPERATORS else ""
                raise PatternSyntaxError(f"unknown comparison operator {text!r}{hint}", pos)
            raise self.unexpected("a comparison operator after the object path")
        self.index += 1
        kind, text, pos = tokens[self.index]
        raw: list[str]
        value: Value
        if operator == "IN":
            value, raw = self.set_literal()
        elif kind not in _SCALAR_KINDS:
            if kind == "(":
                raise PatternSyntaxError(f"{operator} takes one value; use IN for a list", pos)
            raise self.unexpected(f"a literal value after {operator}")
        elif operator in _STRING_ONLY and kind != "str":
            raise PatternSyntaxError(f"{operator} must be followed by a string literal", pos)
        elif kind == "bool" and operator in _ORDERING:
            raise PatternSyntaxError(f"booleans cannot be compared with {operator}", pos)
        else:
            value = _scalar(kind, text, pos)
            raw = [text]
            self.index += 1
        if "hashes" in path and operator != "LIKE" and operator != "MATCHES":
            _check_hash(path[-1], raw, pos)
        return Comparison(object_type, path, operator, negated, value)

    def object_path(self) -> tuple[str, tuple[PathStep, ...]]:
        tokens = self.tokens
        kind, object_type, pos = tokens[self.index]
        if kind != "id" and kind != "hid":
            raise self.unexpected("an object path such as file:name")
        self.index += 1
        self.expect(":", f"':' after the object type {object_type!r}")
        path: list[PathStep] = [self.key(f"a property name after '{object_type}:'")]
        while True:
            kind, text, pos = tokens[self.index]
            if kind == ".":
                self.index += 1
                path.append(self.key("a property name after '.'"))
            elif kind == "[":
                self.index += 1
                kind, text, pos = tokens[self.index]
                if kind == "*":
                    path.append("*")
                elif kind == "int" and text[0] != "-":
                    path.append(_int(text, pos))
                else:
                    raise self.unexpected("a non-negative list index or '*'")
                self.index += 1
                self.expect("]", "']' to close the list index")
            elif kind == "float" and text[0] == ".":
                raise PatternSyntaxError(f"property names cannot start with a digit: {text!r}", pos)
            else:
                return object_type, tuple(path)

    def key(self, expected: str) -> str:
        kind, text, pos = self.tokens[self.index]
        if kind == "id":
            self.index += 1
            return text
        if kind == "str":
            self.index += 1
            return _unescape(text)
        if kind == "hid":
            raise PatternSyntaxError(f"property name {text!r} contains '-'; quote it", pos)
        raise self.unexpected(expected)

    def set_literal(self) -> tuple[tuple[Scalar, ...], list[str]]:
        tokens = self.tokens
        self.expect("(", "'(' to start the IN list")
        values: list[Scalar] = []
        raw: list[str] = []
        if tokens[self.index][0] == ")":
            self.index += 1
            return (), raw
        while True:
            kind, text, pos = tokens[self.index]
            if kind not in _SCALAR_KINDS:
                raise self.unexpected("a literal value in the IN list")
            values.append(_scalar(kind, text, pos))
            raw.append(text)
            self.index += 1
            kind = tokens[self.index][0]
            if kind == ")":
                self.index += 1
                return tuple(values), raw
            self.expect(",", "',' or ')' in the IN list")


def _unescape(token: str) -> str:
    inner = token[1:-1]
    if "\\" in inner:
        inner = inner.replace("\\'", "'").replace("\\\\", "\\")
    return inner


def _int(text: str, pos: int) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than sys.get_int_max_str_digits()
        raise PatternSyntaxError(f"integer {text[:20]}... has too many digits", pos) from None


def _float(text: str, pos: int) -> float:
    number = float(text)
    if math.isinf(number):
        raise PatternSyntaxError(f"number {text[:20]}... is too large", pos)
    return number


def _timestamp(token: str, pos: int) -> Timestamp:
    text = token[2:-1]
    dot = text.find(".")
    # The grammar allows any number of fraction digits; parse_timestamp takes up to nine.
    digits = text if dot < 0 or len(text) - dot <= 11 else text[: dot + 10] + "Z"
    try:
        return Timestamp(text, parse_timestamp(digits))
    except InvalidInput:
        raise PatternSyntaxError(
            f"timestamp literal t'{text}' is not RFC 3339: no such calendar date", pos
        ) from None


def _scalar(kind: str, text: str, pos: int) -> Scalar:
    if kind == "str":
        return _unescape(text)
    if kind == "int":
        return _int(text, pos)
    if kind == "float":
        return _float(text, pos)
    if kind == "bool":
        return text == "true"
    if kind == "ts":
        return _timestamp(text, pos)
    if kind == "hex":
        return Hex(bytes.fromhex(text[2:-1]))
    return Binary(base64.b64decode(text[2:-1]))


def _object_types(node: ComparisonExpr) -> frozenset[str]:
    """Object types that could satisfy ``node`` on their own (OR unions, AND intersects)."""
    if isinstance(node, Comparison):
        return frozenset((node.object_type,))
    types = [_object_types(operand) for operand in node.operands]
    return (
        frozenset.union(*types)
        if isinstance(node, ComparisonOr)
        else frozenset.intersection(*types)
    )


def _names(types: frozenset[str]) -> str:
    return " or ".join(repr(name) for name in sorted(types))


# Hash checks as stix2-patterns' object_validator makes them (see the module docstring).
_HASHES = {
    name.upper().replace("-", ""): (name, re.compile(shape))
    for name, shape in {
        "MD5": "[a-fA-F0-9]{32}",
        "MD6": "[a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{56}|[a-fA-F0-9]{64}"
        "|[a-fA-F0-9]{96}|[a-fA-F0-9]{128}",
        "RIPEMD-160": "[a-fA-F0-9]{40}",
        "SHA-1": "[a-fA-F0-9]{40}",
        "SHA-224": "[a-fA-F0-9]{56}",
        "SHA-256": "[a-fA-F0-9]{64}",
        "SHA-384": "[a-fA-F0-9]{96}",
        "SHA-512": "[a-fA-F0-9]{128}",
        "SHA3-224": "[a-fA-F0-9]{56}",
        "SHA3-256": "[a-fA-F0-9]{64}",
        "SHA3-384": "[a-fA-F0-9]{96}",
        "SHA3-512": "[a-fA-F0-9]{128}",
        "SSDEEP": "[a-zA-Z0-9/+:.]{1,128}",
        "WHIRLPOOL": "[a-fA-F0-9]{128}",
    }.items()
}


def _check_hash(selector: PathStep, raw_values: list[str], pos: int) -> None:
    if not isinstance(selector, str):
        return
    known = _HASHES.get(selector.upper().replace("-", "").replace("'", ""))
    if known is None:
        return
    name, shape = known
    for raw in raw_values:
        value = raw.replace("'", "")  # like stix2-patterns: the literal as written, sans quotes
        if shape.fullmatch(value) is None:
            raise PatternSyntaxError(f"{value[:140]!r} is not a valid {name} hash", pos)


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
    """Canonical text for ``pattern``: ``parse_pattern(format_pattern(p)) == p`` for parsed ``p``.

    Single spaces around operators, upper-case keywords, ``=``/``!=`` for ``==``/``<>``, minimal
    parentheses, bare property names where the grammar allows them, lower-case hex, padded
    base64, and START/STOP timestamps with microseconds only when they are not zero.
    """
    return _format_observation(pattern.expression, 0)


_JOINS: dict[type[object], tuple[str, int]] = {
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
        inner = node.expression
        text = _format_observation(inner, 9)  # joins come back parenthesized
        if isinstance(inner, Qualified):
            text = f"({text})"
        return " ".join([text, *map(_format_qualifier, node.qualifiers)])
    joiner, level = _JOINS[type(node)]
    text = joiner.join(_format_observation(operand, level) for operand in node.operands)
    return f"({text})" if level <= outer else text


def _format_comparison(node: ComparisonExpr, outer: int) -> str:
    if not isinstance(node, Comparison):
        joiner, level = _JOINS[type(node)]
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
    if _BARE_KEY.fullmatch(key) and key not in _KEYWORDS and key not in ("true", "false"):
        return key
    return _format_string(key)


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
    text = format(Decimal(repr(number)), "f")  # never an exponent, shortest round trip
    return text if "." in text else text + ".0"


def _format_qualifier(qualifier: Qualifier) -> str:
    if isinstance(qualifier, WithinQualifier):
        seconds = qualifier.seconds
        whole = float(seconds).is_integer()
        number = str(int(seconds)) if whole else _format_float(seconds)
        return f"WITHIN {number} SECONDS"
    if isinstance(qualifier, RepeatsQualifier):
        return f"REPEATS {qualifier.times} TIMES"
    start, stop = _format_micros(qualifier.start_micros), _format_micros(qualifier.stop_micros)
    return f"START t'{start}' STOP t'{stop}'"


def _format_micros(micros: int) -> str:
    """RFC 3339 for years 0000-9999 (``datetime`` stops at year 1)."""
    days, micros = divmod(micros, 86_400_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    days += 719_468  # civil_from_days, Howard Hinnant
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    year = year_of_era + era * 400 + (month <= 2)
    text = (
        f"{year:04d}-{month:02d}-{day:02d}"
        f"T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    )
    return f"{text}.{fraction:06d}Z" if fraction else f"{text}Z"
