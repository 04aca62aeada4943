"""What one comparison says about one value: a ``Test``, built once per comparison.

The rules are stix2-matcher 3.0.0's (``exitPropTest*`` in its ``matcher.py``), made total:

* ``=``/``!=`` compare like types only: numbers with numbers (``true`` is no number), strings
  with strings, bytes with bytes, and bytes with a string whose code points are all below 256
  (byte for byte).  A timestamp literal reads a string value as a timestamp.
* ``<``, ``<=``, ``>``, ``>=`` order the same pairs (booleans never); a pair of other types is
  false whether or not the comparison is negated.
* ``IN`` is Python set membership (so ``true IN (1)``); timestamp sets read strings as above.
* ``LIKE`` is the whole string (``%`` any run, ``_`` one character, ``.`` not matching a line
  break, a final line break allowed), ``MATCHES`` a Python regex search; both on the NFC form,
  and on bytes (LIKE decodes UTF-8, MATCHES uses a bytes regex) when the pattern is Latin-1.
* ``ISSUBSET``/``ISSUPERSET``: see ``ip.py``.
* ``NOT`` negates the result for the value; a comparison holds for an object when it holds
  for at least one value its path selects.

Where stix2-matcher raises ``MatcherException`` for a value (a string that is no timestamp or
no IP address, undecodable UTF-8) the test is false, negated or not.  Patterns it can never
evaluate (a mixed-type IN list, an invalid regex) are refused by ``make_test`` with
``Unsupported``.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable
from datetime import UTC, datetime

from shieldwall.domain.matching.ip import Network, contains, parse_network
from shieldwall.domain.matching.paths import Normaliser
from shieldwall.domain.patterns import Binary, Comparison, Hex, Scalar, Timestamp

__all__ = [
    "Literal", "Test", "Unsupported", "bin_equals", "cidr_block", "compile_bytes_regex",
    "compile_text_regex", "json_timestamp",
    "like_regex", "literal", "make_test", "nfc",
]  # fmt: skip

Test = Callable[[object], bool]
Literal = str | int | float | bool | bytes | Timestamp


class Unsupported(Exception):
    """A comparison that cannot be evaluated (stix2-matcher raises on it for every input)."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def json_timestamp(text: str) -> int | None:
    """A timestamp string from observed data, in microseconds, as stix2-matcher reads it."""
    if any(char.islower() for char in text):
        return None
    if "." in text:
        layout = "%Y-%m-%dT%H:%M:%S.%fZ"
        parts = text.split(".")
        if len(parts[1]) > 7 and parts[1].endswith("Z"):
            parts[1] = parts[1][:6] + parts[1][-1:]
            text = ".".join(parts)
    else:
        layout = "%Y-%m-%dT%H:%M:%SZ"
    try:
        moment = datetime.strptime(text, layout).replace(tzinfo=UTC)
    except ValueError:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def bin_equals(text: str, data: bytes) -> bool:
    """A string equals bytes when its code points, all below 256, are those bytes."""
    try:
        return text.encode("latin-1") == data
    except UnicodeEncodeError:
        return False


def nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def like_regex(like: str) -> str:
    """stix2-matcher's translation of a LIKE operand (already NFC) to an anchored regex."""
    out = ["^"]
    for char in like:
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(char if char.isalnum() else "\\" + char)
    out.append("$")
    return "".join(out)


def compile_text_regex(source: str) -> re.Pattern[str]:
    """``re.compile`` without warnings (a possible nested set is no error); raises ``re.error``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return re.compile(source)


def compile_bytes_regex(source: bytes) -> re.Pattern[bytes]:
    """The same for a bytes regex."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return re.compile(source)


def literal(value: Scalar, norm: Normaliser | None = None) -> Literal:
    """A pattern literal as compared: hex and base64 literals are bytes, strings normalised."""
    if isinstance(value, Hex | Binary):
        return value.data
    if isinstance(value, str) and norm is not None:
        return norm(value)
    return value


def _equal(value: object, lit: Literal) -> bool | None:
    """Equality; None where stix2-matcher raises."""
    if isinstance(lit, Timestamp):
        if type(value) is str:
            micros = json_timestamp(value)
            return None if micros is None else micros == lit.micros
        return False
    if isinstance(lit, str):
        if type(value) is str:
            return value == lit
        return type(value) is bytes and bin_equals(lit, value)
    if isinstance(lit, bytes):
        if type(value) is bytes:
            return value == lit
        return type(value) is str and bin_equals(value, lit)
    if isinstance(lit, bool):
        return type(value) is bool and value == lit
    return (type(value) is int or type(value) is float) and value == lit


_FALSE = 2  # an order comparison that is false before NOT (bytes against a wide string)


def _cmp(left: int | float | str | bytes, right: int | float | str | bytes) -> int:
    return (left > right) - (left < right)  # type: ignore[operator]


def _compare(value: object, lit: Literal) -> int | None:
    """-1/0/1 for value against literal, ``_FALSE``, or None (false even under NOT)."""
    if isinstance(lit, Timestamp):
        micros = json_timestamp(value) if type(value) is str else None
        return None if micros is None else _cmp(micros, lit.micros)
    if isinstance(lit, str):
        if type(value) is str:
            return _cmp(value, lit)
        if type(value) is bytes:
            try:
                return _cmp(value, lit.encode("latin-1"))
            except UnicodeEncodeError:
                return _FALSE
        return None
    if isinstance(lit, bytes):
        if type(value) is bytes:
            return _cmp(value, lit)
        if type(value) is str:
            try:
                return _cmp(value.encode("latin-1"), lit)
            except UnicodeEncodeError:
                return _FALSE
        return None
    if isinstance(lit, bool) or not (type(value) is int or type(value) is float):
        return None
    return _cmp(value, lit)


_ORDER: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


def make_test(comparison: Comparison, norm: Normaliser | None, cidr_equality: bool) -> Test:
    """The test of ``comparison`` for one selected value (EXISTS: any value passes).

    ``norm`` applies to string values and literals of ``=``, ``!=``, ``IN``, and (when it is
    ``str.lower``) ``LIKE``.  With ``cidr_equality`` a CIDR literal of ``=``/``!=``/``IN``
    means "an address in this block".  Raises ``Unsupported``.
    """
    operator, negated, value = comparison.operator, comparison.negated, comparison.value
    if operator == "EXISTS":
        return lambda item: True
    if operator in ("=", "!="):
        assert value is not None
        assert not isinstance(value, tuple)
        flip = negated != (operator == "!=")
        lit = literal(value, norm)
        found = cidr_block(lit) if cidr_equality else None
        if found is not None:
            return _in_block_test((), (found,), flip, norm)
        return _equality_test(lit, flip, norm)
    if operator == "IN":
        assert isinstance(value, tuple)
        return _set_test(tuple(literal(v, norm) for v in value), negated, norm, cidr_equality)
    if operator in _ORDER:
        assert value is not None
        assert not isinstance(value, tuple)
        return _order_test(literal(value), _ORDER[operator], negated)
    assert isinstance(value, str)
    if operator == "LIKE":
        return _like_test(value, negated, norm if norm is str.lower else None)
    if operator == "MATCHES":
        return _regex_test(value, negated)
    network = parse_network(value)
    if network is None:
        raise Unsupported(f"{operator} needs an IP address or CIDR block, not {value!r}")
    return _subnet_test(network, operator == "ISSUBSET", negated)


def cidr_block(lit: Literal) -> Network | None:
    """The CIDR block (shorter than an address) a literal names, if it names one."""
    if isinstance(lit, str) and "/" in lit:
        network = parse_network(lit)
        if network is not None and network[2] < network[0]:
            return network
    return None


def _equality_test(lit: Literal, flip: bool, norm: Normaliser | None) -> Test:
    if isinstance(lit, str) and not flip:
        text = lit

        def string_test(v: object) -> bool:
            if type(v) is str:
                return (norm(v) if norm is not None else v) == text
            return type(v) is bytes and bin_equals(text, v)

        return string_test

    def test(v: object) -> bool:
        if norm is not None and type(v) is str:
            v = norm(v)
        result = _equal(v, lit)
        return False if result is None else result != flip

    return test


def _set_test(
    elements: tuple[Literal, ...], negated: bool, norm: Normaliser | None, cidr_equality: bool
) -> Test:
    kinds = {type(e) for e in elements}
    if len(kinds) > 1 and not kinds <= {int, float}:
        raise Unsupported("IN list mixes value types")
    if elements and isinstance(elements[0], Timestamp):
        stamps = frozenset(e.micros for e in elements if isinstance(e, Timestamp))

        def timestamp_test(v: object) -> bool:
            if type(v) is not str:
                return negated
            micros = json_timestamp(v)
            return False if micros is None else (micros in stamps) != negated

        return timestamp_test
    blocks = tuple(b for b in map(cidr_block, elements) if b is not None) if cidr_equality else ()
    if blocks:
        return _in_block_test(elements, blocks, negated, norm)
    members = frozenset(elements)

    def set_test(v: object) -> bool:
        if norm is not None and type(v) is str:
            v = norm(v)
        try:
            found = v in members
        except TypeError:  # unhashable (a list or dict)
            found = False
        return found != negated

    return set_test


def _in_block_test(
    elements: tuple[Literal, ...], blocks: tuple[Network, ...], flip: bool, norm: Normaliser | None
) -> Test:
    members = frozenset(elements)

    def test(v: object) -> bool:
        if type(v) is not str:
            return flip
        text = norm(v) if norm is not None else v
        if text in members:
            return not flip
        network = parse_network(text)
        if network is None:
            return False
        return any(contains(block, network) for block in blocks) != flip

    return test


def _order_test(lit: Literal, holds: Callable[[int], bool], negated: bool) -> Test:
    def test(v: object) -> bool:
        order = _compare(v, lit)
        if order is None:
            return False
        return (order != _FALSE and holds(order)) != negated

    return test


def _like_test(operand: str, negated: bool, lower: Normaliser | None) -> Test:
    operand = nfc(lower(operand) if lower is not None else operand)
    source = like_regex(operand)
    try:
        pattern = compile_text_regex(source)
    except re.error as error:
        raise Unsupported(f"LIKE operand does not compile: {error}") from None
    latin = all(ord(char) < 256 for char in source)

    def test(v: object) -> bool:
        if type(v) is bytes and latin:
            try:
                v = v.decode("utf-8")
            except UnicodeDecodeError:
                return False
        if type(v) is not str:
            return negated
        text = lower(v) if lower is not None else v
        return (pattern.match(nfc(text)) is not None) != negated

    return test


def _regex_test(source: str, negated: bool) -> Test:
    source = nfc(source)
    try:
        text_pattern = compile_text_regex(source)
        latin = all(ord(char) < 256 for char in source)
        bytes_pattern = compile_bytes_regex(source.encode("latin-1")) if latin else None
    except re.error as error:
        raise Unsupported(f"MATCHES regex does not compile: {error}") from None

    def test(v: object) -> bool:
        if type(v) is str:
            found = text_pattern.search(nfc(v)) is not None
        elif type(v) is bytes and bytes_pattern is not None:
            found = bytes_pattern.search(v) is not None
        else:
            found = False
        return found != negated

    return test


def _subnet_test(network: Network, subset: bool, negated: bool) -> Test:
    def test(v: object) -> bool:
        if type(v) is not str:
            return negated
        parsed = parse_network(v)
        if parsed is None:
            return False
        inside = contains(network, parsed) if subset else contains(parsed, network)
        return inside != negated

    return test
