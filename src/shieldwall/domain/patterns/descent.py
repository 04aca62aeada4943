"""The general STIX 2.1 pattern parser (STIX 2.1 §9): recursive descent over the lexemes of
:mod:`~shieldwall.domain.patterns.lexer`, one method per rule of the OASIS grammar
``STIXPattern.g4``.

Observation level: FOLLOWEDBY binds loosest, then OR, then AND, then qualifiers (WITHIN,
REPEATS, START/STOP); comparison level: OR binds looser than AND.  The tables of operators,
joiners and qualifier keywords the rules consult are defined here.  Every error is a
``PatternSyntaxError`` whose position (a 0-based character offset) is computed only when the
error is raised.
"""

from __future__ import annotations

import base64
import math

from shieldwall.domain.errors import InvalidInput, PatternSyntaxError
from shieldwall.domain.patterns.ast import (
    Binary,
    Comparison,
    ComparisonAnd,
    ComparisonExpr,
    ComparisonOr,
    FollowedBy,
    Hex,
    ObservationAnd,
    ObservationExpr,
    ObservationExpression,
    ObservationOr,
    Operator,
    PathStep,
    Qualified,
    Qualifier,
    RepeatsQualifier,
    Scalar,
    StartStopQualifier,
    Timestamp,
    Value,
    WithinQualifier,
)
from shieldwall.domain.patterns.checks import _hash_problem, _names, _object_types
from shieldwall.domain.patterns.lexer import (
    _DIGITS,
    _KEYWORDS,
    _NAME_START,
    _NUMBER_START,
    _SHAPES,
    _TOKEN,
    _bad_character,
    _is_name,
    _is_whole,
    _unescape,
)
from shieldwall.domain.timestamps import parse_timestamp

_OPERATORS: dict[str, Operator] = {
    "=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
    "IN": "IN", "LIKE": "LIKE", "MATCHES": "MATCHES", "ISSUBSET": "ISSUBSET",
    "ISSUPERSET": "ISSUPERSET",
}  # fmt: skip
_STRING_ONLY = frozenset(("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"))
_ORDERING = frozenset(("<", "<=", ">", ">="))
_JOINERS = frozenset(("FOLLOWEDBY", "OR", "AND"))
_QUALIFIERS = frozenset(("WITHIN", "REPEATS", "START"))


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
