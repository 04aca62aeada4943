"""Tokens of the STIX 2.1 pattern language (STIX 2.1 §9; the lexer rules of the OASIS
grammar ``STIXPattern.g4``), the keyword tables, and lexeme-level helpers.

Keywords are upper case, ``true``/``false`` lower case, ``/* */`` and ``//`` comments are
whitespace.  ``_TOKEN.findall`` splits a text into lexemes (strings), ending with ``""``; an
invalid character becomes a one-character lexeme that the parser reports with
:func:`_bad_character`.
"""

from __future__ import annotations

import re

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
