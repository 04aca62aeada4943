"""STIX 2.1 pattern parser: tables, a differential test against stix2-patterns, round trips.

stix2-patterns' ``run_validator(text, stix_version="2.1")`` is the reference for validity.  Where
we differ on purpose (listed in ``shieldwall.domain.patterns``' docstring), ``_known_divergence``
names the difference and confirms it independently; anything else fails the test.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stix2patterns.v21.grammars.STIXPatternListener import STIXPatternListener
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser
from stix2patterns.v21.pattern import Pattern as ReferencePattern
from stix2patterns.validator import run_validator

from conftest import OASIS_EXAMPLES
from shieldwall.domain import patterns
from shieldwall.domain.errors import PatternSyntaxError
from shieldwall.domain.patterns import (
    Binary,
    Comparison,
    ComparisonAnd,
    ComparisonOr,
    FollowedBy,
    Hex,
    ObservationAnd,
    ObservationExpression,
    ObservationOr,
    Pattern,
    Qualified,
    RepeatsQualifier,
    StartStopQualifier,
    Timestamp,
    WithinQualifier,
    comparisons,
    format_pattern,
    parse_pattern,
)
from shieldwall.domain.timestamps import parse_timestamp

SHA256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
MD5 = "79054025255fb1a26e4bc422aef54eb4"


def reference_accepts(text: str) -> bool:
    """stix2-patterns' verdict; its validator crashing on some inputs counts as a rejection."""
    try:
        return run_validator(text, stix_version="2.1") == []
    except Exception:  # its bugs, see _known_divergence
        return False


# ------------------------------------------------------------------------------ valid patterns

VALID = [
    # STIX 2.1 §9 examples
    f"[file:hashes.'SHA-256' = '{SHA256}']",
    "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
    "email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
    f"[file:hashes.'SHA-256' = '{SHA256}' AND file:mime_type = 'application/x-pdf']",
    f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.MD5 = '{MD5}'] AND "
    f"[file:hashes.'SHA-256' = '{SHA256}']",
    f"[file:hashes.MD5 = '{MD5}'] FOLLOWEDBY "
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar'] WITHIN 300 SECONDS",
    "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND "
    "user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND "
    "user-account:user_id = '1008' AND user-account:account_login = 'Paul']",
    "[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND "
    "artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
    "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND "
    "network-traffic:dst_ref.value = '203.0.113.33/32']",
    "[network-traffic:dst_ref.type = 'domain-name' AND "
    "network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    "[domain-name:value = 'www.5z8.info' AND "
    "domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
    "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19']",
    "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
    "[x-usb-device:usbdrive.serial_number = '575833344E35464E35353235']",
    "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] "
    "FOLLOWEDBY [process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine "
    "TrustedPublisher$'] WITHIN 300 SECONDS",
    "[network-traffic:src_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
    "([file:name = 'foo.dll'] AND [file:size > 1024]) "
    "START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    # the shapes this parser is meant for
    "[ipv4-addr:value = '1.2.3.4']",
    "[domain-name:value = 'evil.com'] OR [url:value = 'http://x/y']",
    "[network-traffic:dst_ref.value = '10.0.0.1']",
    "[email-message:to_refs[*].value = 'a@example.com']",
    "[windows-registry-key:values[0].name = 'Run']",
    "[x-custom-type:x_prop = 42]",
    "[file:size IN (1, 2, 3) AND file:name NOT LIKE '%.tmp']",
    "[file:name NOT IN ()]",
    "[EXISTS file:hashes.MD5 AND NOT EXISTS file:name]",
    "[x:a == 'b' AND x:c <> 'd' AND x:e <= -1 AND x:f >= +2.5 AND x:g < .5]",
    "[x:a = true OR x:a = false OR x:b = b'AAAA' OR x:b = b'AAA=' OR x:b = h'']",
    "  ( ( [x:a = 'b'] ) )  ",
    "[x:a = 'b' /* a comment */ ] // and another",
    "[\tx\n:\u00a0a\u3000=\u2028'b']",
    "([x:a = 1] WITHIN 1 SECONDS) WITHIN 2 SECONDS",
    "[x:a = 1] REPEATS 2 TIMES WITHIN 0.5 SECONDS START t'2020-01-01T00:00:00Z' "
    "STOP t'2020-01-01T00:00:01.123456789012Z'",
    "[x:ts = t'2016-12-31T23:59:60Z' AND x:ts2 = t'0000-01-01T00:00:00.5Z']",
    "[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']",
    "[x-foo:'a-b'.'' = 'c' AND x-foo:'AND'.'true' = 'd']",
    "[x:a[+3] = 1]",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_patterns_parse(text: str) -> None:
    pattern = parse_pattern(text)
    assert reference_accepts(text), "table entry is not valid for stix2-patterns"
    assert pattern == _reference_ast(text)
    assert parse_pattern(format_pattern(pattern)) == pattern


# We accept these; stix2-patterns rejects them or crashes (see _known_divergence).
WE_ACCEPT_THEY_REJECT = [
    f"[file:hashes.MD5 IN ('{MD5}', '{MD5.upper()}')]",
    "[file:hashes.MD5 IN ()]",
    "[file:hashes.MD5 LIKE '7905%']",
    "[file:hashes.'SHA-256' NOT MATCHES '^[0-9a-f]+$']",
    "[file:hashes[0] = 'x']",
]


@pytest.mark.parametrize("text", WE_ACCEPT_THEY_REJECT)
def test_accepted_where_stix2_patterns_is_wrong(text: str) -> None:
    parse_pattern(text)
    try:
        theirs: Any = run_validator(text, stix_version="2.1")
    except Exception as error:  # its crashes are data here
        theirs = error
    assert theirs != []
    assert _known_divergence(text, None, theirs)


def _oasis_indicator_patterns() -> list[str]:
    found = []
    for path in sorted(OASIS_EXAMPLES.glob("*.json")):
        for obj in json.loads(path.read_text()).get("objects", []):
            if obj.get("type") == "indicator" and obj.get("pattern_type", "stix") == "stix":
                found.append(obj["pattern"])
    return found


def test_every_oasis_example_indicator_parses() -> None:
    found = _oasis_indicator_patterns()
    assert len(found) >= 5, f"expected indicators in {OASIS_EXAMPLES}"
    for text in found:
        pattern = parse_pattern(text)
        assert pattern == _reference_ast(text)
        assert parse_pattern(format_pattern(pattern)) == pattern


def test_the_ast() -> None:
    pattern = parse_pattern(
        "[email-message:to_refs[*].value = 'a\\'b\\\\c' OR windows-registry-key:values[0].name "
        "NOT MATCHES '^x'] FOLLOWEDBY ([file:hashes.'SHA-256' = '"
        + SHA256
        + "'] AND [EXISTS x-custom-type:x_prop]) WITHIN 5 SECONDS"
    )
    first = Comparison("email-message", ("to_refs", "*", "value"), "=", False, "a'b\\c")
    second = Comparison("windows-registry-key", ("values", 0, "name"), "MATCHES", True, "^x")
    third = Comparison("file", ("hashes", "SHA-256"), "=", False, SHA256)
    fourth = Comparison("x-custom-type", ("x_prop",), "EXISTS", False, None)
    assert pattern == Pattern(
        FollowedBy(
            (
                ObservationExpression(ComparisonOr((first, second))),
                Qualified(
                    ObservationAnd((ObservationExpression(third), ObservationExpression(fourth))),
                    (WithinQualifier(5.0),),
                ),
            )
        )
    )
    assert list(comparisons(pattern)) == [first, second, third, fourth]


def test_values_and_qualifiers() -> None:
    pattern = parse_pattern(
        "[x:a IN ('s', -1, 2.5, true, t'2020-01-01T00:00:00.5Z', h'0aFF', b'AAE=') "
        "AND x:b = 0] REPEATS 3 TIMES START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'"
    )
    assert isinstance(pattern.expression, Qualified)
    inner = pattern.expression.expression
    assert isinstance(inner, ObservationExpression)
    assert isinstance(inner.comparison, ComparisonAnd)
    stamp = Timestamp("2020-01-01T00:00:00.5Z", parse_timestamp("2020-01-01T00:00:00.5Z"))
    values = ("s", -1, 2.5, True, stamp, Hex(b"\x0a\xff"), Binary(b"\x00\x01"))
    first = inner.comparison.operands[0]
    assert first == Comparison("x", ("a",), "IN", False, values)
    assert isinstance(first, Comparison)
    assert isinstance(first.value, tuple)
    assert [type(v) for v in first.value] == [type(v) for v in values]  # True is not 1 here
    start, stop = parse_timestamp("2020-01-01T00:00:00Z"), parse_timestamp("2020-01-02T00:00:00Z")
    assert pattern.expression.qualifiers == (RepeatsQualifier(3), StartStopQualifier(start, stop))


def test_format_is_canonical() -> None:
    text = (
        "([x:a=='q'  OR (x:b <> 1 AND x:c = .5)]) FOLLOWEDBY (([y:d[+1] IN ( 1,2 )] "
        "OR [y:'e f' = h'FF']) AND [z:g NOT LIKE 'a%']) REPEATS 2 TIMES"
    )
    assert format_pattern(parse_pattern(text)) == (
        "[x:a = 'q' OR x:b != 1 AND x:c = 0.5] FOLLOWEDBY "
        "(([y:d[1] IN (1, 2)] OR [y:'e f' = h'ff']) AND [z:g NOT LIKE 'a%']) REPEATS 2 TIMES"
    )


def test_deep_nesting_is_a_syntax_error() -> None:
    with pytest.raises(PatternSyntaxError, match="nested too deeply"):
        parse_pattern("(" * 5000 + "[x:a = 1]" + ")" * 5000)


# ---------------------------------------------------------------------------- invalid patterns

# (pattern, fragment of PatternSyntaxError.reason, its character position)
INVALID = [
    ("", "must start with '['", 0),
    ("file:name = 'a'", "must start with '['", 0),
    ("/* leading comment */ [x:a = 1]", "must start with '['", 0),
    ("[file:name = 'a'", "expected ']' to close the observation expression", 16),
    ("([file:name = 'a']", "expected ')' to close the '(' at character 0", 18),
    ("[file:name EQ 'a']", "unknown comparison operator 'EQ'", 11),
    ("[file:name like 'a']", "operators are upper case", 11),
    ("[file:name = 'a'] and [file:name = 'b']", "keywords are upper case: AND", 18),
    ("[file:name = 'a' and file:size = 1]", "keywords are upper case: AND", 17),
    ("[file:created = t'2020-13-01T00:00:00Z']", "timestamp literal t'2020-13-01", 16),
    ("[file:created = t'2021-02-29T00:00:00Z']", "is not RFC 3339", 16),
    ("[file:created = t'2020-01-01 00:00:00Z']", "is not RFC 3339", 16),
    ("[x:a = 'x'] START '2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:00Z'", "timestamp", 18),
    ("[x:a = h'abc']", "hex literal h'abc' must be an even number", 7),
    ("[x:a = b'']", "binary literal b''", 7),
    ("[x:a = 'abc]", "unterminated string literal", 7),
    ("[x:a = 'a\\b']", "invalid escape '\\\\b'", 7),
    ('[x:a = "a"]', "single quotes", 7),
    ("[x:a = True]", "expected a literal value after =, found 'True'", 7),
    ("[x:a < true]", "cannot be compared with <", 7),
    ("[x:a LIKE 1]", "expected a string literal after LIKE", 10),
    ("[x:a = ('a')]", "a list of values needs IN", 7),
    ("[x:a IN 'a']", "expected '(' to start the IN list", 8),
    ("[x:a IN ('a',)]", "expected a literal value in the IN list", 13),
    ("[x:a = 01]", "found '1'", 8),
    ("[x:a = - 1]", "'-' must be directly followed by a number", 7),
    ("[x:a = 1] #", "unexpected character '#'", 10),
    ("[x:a = 1] /* never closed", "unterminated /* comment", 10),
    ("[]", "expected an object path", 1),
    ("[x-foo:a-b = 1]", "contains '-': quote it", 7),
    ("[x:a.1 = 1]", "cannot start with a digit", 4),
    ("[x:AND = 1]", "expected a property name after 'x:', found 'AND'", 3),
    ("[true:a = 1]", "expected an object path", 1),
    ("[x:a[-1] = 1]", "list index", 5),
    ("[x:a[*]b = 1]", "unknown comparison operator 'b'", 7),
    ("[NOT x:a = 1]", "NOT goes after the object path", 1),
    ("[x:a NOT EXISTS]", "EXISTS goes before the object path", 9),
    ("[x:a = 1] WITHIN -1 SECONDS", "a number of seconds after WITHIN", 17),
    ("[x:a = 1] WITHIN 5 MINUTES", "SECONDS after 'WITHIN <number>'", 19),
    ("[x:a = 1] REPEATS 1.5 TIMES", "a whole number after REPEATS", 18),
    ("[x:a = 1] REPEATS 2", "TIMES after 'REPEATS <number>', but the pattern ends", 19),
    (
        "[x:a = 1] WITHIN 1 SECONDS REPEATS 2 TIMES WITHIN 3 SECONDS",
        "WITHIN qualifier applied twice",
        43,
    ),
    ("[x:a = 1] OR", "'[' or '(' to start an observation expression", 12),
    ("[file:hashes.MD5 = 'abc']", "'abc' is not a valid MD5 hash", 19),
    ("[file:hashes.'sha-256' = 'abc']", "not a valid SHA-256 hash", 25),
    ("[file:hashes.MD5 IN ('" + MD5 + "', 'x')]", "'x' is not a valid MD5 hash", 20),
    ("[file:name = 'a' AND url:value = 'b']", "satisfiable by the same object type", 21),
    (f"[file:hashes.MD6 = '{MD5}zz']", "is not a valid MD6 hash", 19),
    ("([x:a = 1]) WITHIN 1 SECONDS WITHIN 2 SECONDS", "WITHIN qualifier applied twice", 29),
    ("[x:a = t'2021-02-29T00:00:00Z']", "no such date", 7),
    ("[file:name = 'a' AND (file:size = 1 OR url:x = 2) AND url:y = 3]", "'file' and 'url'", 54),
]


@pytest.mark.parametrize(("text", "fragment", "position"), INVALID)
def test_invalid_patterns_are_rejected(text: str, fragment: str, position: int) -> None:
    with pytest.raises(PatternSyntaxError) as caught:
        parse_pattern(text)
    assert fragment in caught.value.reason
    assert caught.value.position == position
    if not reference_accepts(text):
        return
    assert _known_divergence(text, caught.value, run_validator(text, stix_version="2.1"))


# ------------------------------------------------------------------------ differential testing


# --- stix2-patterns' parse tree, converted to our AST without our parser

_P = STIXPatternParser
_JOINED: dict[str, type[Any]] = {
    "FOLLOWEDBY": FollowedBy, "OR": ObservationOr, "AND": ObservationAnd,
}  # fmt: skip
_QUALIFIED = (
    _P.ObservationExpressionWithinContext,
    _P.ObservationExpressionRepeatedContext,
    _P.ObservationExpressionStartStopContext,
)


def _rules(ctx: Any) -> list[Any]:
    return [child for child in ctx.getChildren() if hasattr(child, "getRuleIndex")]


def _micros(token: str) -> int:
    return parse_timestamp(re.sub(r"(\.[0-9]{9})[0-9]+Z$", r"\1Z", token[2:-1]))


def _reference_literal(terminal: Any) -> Any:
    text, kind = terminal.getText(), terminal.symbol.type
    if kind == _P.StringLiteral:
        return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    if kind in (_P.IntPosLiteral, _P.IntNegLiteral):
        return int(text)
    if kind in (_P.FloatPosLiteral, _P.FloatNegLiteral):
        return float(text)
    if kind == _P.BoolLiteral:
        return text == "true"
    if kind == _P.TimestampLiteral:
        return Timestamp(text[2:-1], _micros(text))
    if kind == _P.HexLiteral:
        return Hex(bytes.fromhex(text[2:-1]))
    assert kind == _P.BinaryLiteral
    return Binary(base64.b64decode(text[2:-1]))


def _literal_of(node: Any) -> Any:
    """The literal in a primitiveLiteral or orderableLiteral rule, or in a terminal."""
    while hasattr(node, "getRuleIndex"):
        node = node.getChild(0)
    return _reference_literal(node)


def _reference_path(ctx: Any) -> tuple[str, tuple[Any, ...]]:
    def key(terminal: Any) -> Any:
        is_string = terminal.symbol.type == _P.StringLiteral
        return _reference_literal(terminal) if is_string else terminal.getText()

    def steps(component: Any) -> list[Any]:
        if isinstance(component, _P.PathStepContext):
            return [step for part in _rules(component) for step in steps(part)]
        if isinstance(component, _P.KeyPathStepContext):
            return [key(component.getChild(1))]
        index = component.getChild(1).getText()
        return ["*" if index == "*" else int(index)]

    parts = _rules(ctx)
    path = [key(parts[1].getChild(0)), *(steps(parts[2]) if len(parts) > 2 else [])]
    return parts[0].getText(), tuple(path)


def _reference_comparison(ctx: Any) -> Any:
    if isinstance(ctx, _P.PropTestParenContext):
        return _reference_comparison(ctx.comparisonExpression())
    if isinstance(ctx, _P.PropTestContext):
        object_type, path = _reference_path(ctx.objectPath())
        negated = ctx.NOT() is not None
        if isinstance(ctx, _P.PropTestExistsContext):
            return Comparison(object_type, path, "EXISTS", negated, None)
        *_, operator, value = ctx.getChildren()
        operator = {"==": "=", "<>": "!="}.get(operator.getText(), operator.getText())
        if isinstance(value, _P.SetLiteralContext):
            return Comparison(
                object_type, path, operator, negated, tuple(map(_literal_of, _rules(value)))
            )
        return Comparison(object_type, path, operator, negated, _literal_of(value))
    parts = [_reference_comparison(part) for part in _rules(ctx)]
    if len(parts) == 1:
        return parts[0]
    cls = ComparisonOr if isinstance(ctx, _P.ComparisonExpressionContext) else ComparisonAnd
    flat = [op for part in parts for op in (part.operands if type(part) is cls else (part,))]
    return cls(tuple(flat))


def _reference_qualifier(ctx: Any) -> Any:
    words = [c.getText() for c in ctx.getChildren()]
    if isinstance(ctx, _P.WithinQualifierContext):
        return WithinQualifier(float(words[1]))
    if isinstance(ctx, _P.RepeatedQualifierContext):
        return RepeatsQualifier(int(words[1]))
    return StartStopQualifier(_micros(words[1]), _micros(words[3]))


def _reference_observation(ctx: Any) -> Any:
    if isinstance(ctx, _P.ObservationExpressionSimpleContext):
        return ObservationExpression(_reference_comparison(ctx.comparisonExpression()))
    if isinstance(ctx, _P.ObservationExpressionCompoundContext):
        return _reference_observation(ctx.observationExpressions())
    if isinstance(ctx, _QUALIFIED):
        qualifiers = []
        while isinstance(ctx, _QUALIFIED):
            qualifiers.insert(0, _reference_qualifier(_rules(ctx)[1]))
            ctx = ctx.observationExpression()
        return Qualified(_reference_observation(ctx), tuple(qualifiers))
    parts = [_reference_observation(part) for part in _rules(ctx)]
    if len(parts) == 1:
        return parts[0]
    cls = _JOINED[ctx.getChild(1).getText()]
    flat = [op for part in parts for op in (part.operands if type(part) is cls else (part,))]
    return cls(tuple(flat))


class _Tree(STIXPatternListener):  # type: ignore[misc]
    def enterPattern(self, ctx: Any) -> None:  # ANTLR's name
        self.root = ctx.observationExpressions()


def _reference_ast(text: str) -> Pattern:
    """stix2-patterns' parse of ``text`` as our AST (for texts its validator accepts)."""
    tree = _Tree()
    ReferencePattern(text).walk(tree)
    return Pattern(_reference_observation(tree.root))


def _types_in(ctx: Any) -> frozenset[str]:
    """Object types that can satisfy a comparison expression of stix2-patterns' parse tree."""
    if isinstance(ctx, _P.PropTestParenContext):
        return _types_in(ctx.comparisonExpression())
    if isinstance(ctx, _P.PropTestContext):
        return frozenset([ctx.objectPath().objectType().getText()])
    parts = [_types_in(child) for child in _rules(ctx)]
    if isinstance(ctx, _P.ComparisonExpressionAndContext) and len(parts) == 2:
        if not parts[0] & parts[1]:
            raise _MixedTypesError
        return parts[0] & parts[1]
    return frozenset().union(*parts)


class _MixedTypesError(Exception):
    pass


def _mixes_object_types(text: str) -> bool:
    """The AND rule, checked on stix2-patterns' parse tree (cti-python-stix2 has the rule too,
    but checks only the first two operands of an AND chain)."""
    found = []

    class Observations(STIXPatternListener):  # type: ignore[misc]
        def enterObservationExpressionSimple(self, ctx: Any) -> None:  # ANTLR's name
            try:
                _types_in(ctx.comparisonExpression())
            except _MixedTypesError:
                found.append(ctx)

    ReferencePattern(text).walk(Observations())
    return bool(found)


class _QualifierChains(STIXPatternListener):  # type: ignore[misc]
    """Finds a qualifier type repeated in one chain that follows a parenthesized expression."""

    def __init__(self) -> None:
        self.found = False

    def enterEveryRule(self, ctx: Any) -> None:  # ANTLR's name
        if not isinstance(ctx, _QUALIFIED) or isinstance(ctx.parentCtx, _QUALIFIED):
            return
        kinds = []
        while isinstance(ctx, _QUALIFIED):
            kinds.append(type(ctx))
            ctx = ctx.observationExpression()
        compound = isinstance(ctx, _P.ObservationExpressionCompoundContext)
        self.found |= compound and len(kinds) != len(set(kinds))


def _known_divergence(text: str, ours: PatternSyntaxError | None, theirs: Any) -> str | None:
    """The documented difference that explains a disagreement, confirmed independently."""
    if ours is not None:  # we reject, stix2-patterns accepts
        reason = ours.reason
        if "same object type" in reason and _mixes_object_types(text):
            return "AND across object types"
        if "no such date" in reason:
            date = reason.split("t'")[1][:10]
            with pytest.raises(ValueError, match="day is out of range"):
                datetime.strptime(date, "%Y-%m-%d")
            return "calendar-invalid timestamp: stix2-patterns checks only the shape"
        if "MD6 hash" in reason and re.match(r"'[0-9a-fA-F]{32}", reason):
            return "MD6: stix2-patterns' regex accepts anything starting with 32 hex digits"
        if "applied twice" in reason:
            chains = _QualifierChains()
            ReferencePattern(text).walk(chains)
            if chains.found:
                return "repeated qualifier after (...): stix2-patterns checks only after [...]"
        return None
    # we accept, stix2-patterns rejects or crashes
    if isinstance(theirs, AttributeError) and "'int' object has no attribute 'upper'" in str(
        theirs
    ):
        return "hashes[<index>]: stix2-patterns crashes"
    if isinstance(theirs, list) and theirs:
        unchecked = {  # hash names (as written) whose values we deliberately do not check
            c.path[-1]
            for c in comparisons(parse_pattern(text))
            if "hashes" in c.path and c.operator in ("IN", "LIKE", "MATCHES")
        }
        names = [re.fullmatch(r"FAIL: '.*' is not a valid (.*) hash", m, re.DOTALL) for m in theirs]
        if all(name and name.group(1) in unchecked for name in names):
            return "hash values in IN lists and LIKE/MATCHES operands"
    return None


_GOOD_PATHS = [
    "name", "size", "value", "hashes.MD5", "hashes.'SHA-256'", "hashes.'sha-1'", "hashes.MD6",
    "hashes.SSDEEP", "hashes[*]", "parent_directory_ref.path", "to_refs[*].value",
    "values[0].name", "x_prop", "'quoted key'", "a.'b c'.d", "a . b [ 1 ]",
]  # fmt: skip
_BAD_PATHS = ["a-b", "AND", "true", "a[-1]", "a.1", "a[01]", "a[", "a..b", "", "'a"]
_GOOD_VALUES = [
    "'text'", "'it\\'s'", "'C:\\\\Windows'", "''", f"'{MD5}'", f"'{SHA256}'",
    f"'{'0123456789abcdef' * 2}'", "'3:abc:def'", "0", "42", "-7", "+3", "1.5", "-.5", "true",
    "false", "t'2020-01-01T00:00:00Z'", "t'2020-06-30T12:30:60.1234567891Z'",
    "t'2020-02-30T00:00:00Z'", "h'ff00'", "h''", "b'AAAA'", "b'AAA='", "b'AA=='", f"'{MD5}zz'",
    "'abc'",
]  # fmt: skip
_BAD_VALUES = [
    "01", "1.", "True", "h'abc'", "b''", "b'A'", "'unterminated", "'bad\\escape'", '"double"',
    "t'2021-13-01T00:00:00Z'", "t'2020-01-01 00:00:00Z'", "t'2020-01-01T00:00:00'", "- 1", "1e5",
]  # fmt: skip
_GOOD_OPERATORS = ["=", "!=", "==", "<>", "<", "<=", ">", ">=", "LIKE", "MATCHES", "ISSUBSET"]
_BAD_OPERATORS = ["EQ", "like", "===", "=<", "EXISTS", "NOT NOT =", "CONTAINS"]
_TYPES = ["file", "file", "file", "url", "x-custom-type"]
_SPACE = [" ", " ", " ", " ", "", "  ", "\n", " /* c */ ", "\u00a0", "\x1c", "\t"]
_QUALIFIERS = [  # one list per qualifier type
    ["WITHIN 5 SECONDS", "WITHIN 1.5 SECONDS", "WITHIN 0 SECONDS", "WITHIN +.5 SECONDS"],
    ["REPEATS 3 TIMES", "REPEATS 0 TIMES"],
    ["START t'2020-01-01T00:00:00Z' STOP t'2020-02-01T00:00:00.25Z'"],
]
_BAD_QUALIFIERS = [
    "WITHIN -1 SECONDS", "WITHIN 5 MINUTES", "within 5 SECONDS", "REPEATS 1.5 TIMES", "REPEATS 3",
    "START '2020-01-01T00:00:00Z' STOP t'2020-02-01T00:00:00Z'", "WITHIN SECONDS",
    "START t'2020-02-30T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",  # we reject, they accept
]  # fmt: skip


@st.composite
def _qualifiers(draw: st.DrawFn, valid_only: bool) -> str:
    """One to three qualifiers; repeated types and bad ones unless ``valid_only``."""
    if valid_only:
        kinds = draw(st.permutations(_QUALIFIERS))[: draw(st.integers(1, 3))]
        return " ".join(draw(st.sampled_from(kind)) for kind in kinds)
    every = [qualifier for kind in _QUALIFIERS for qualifier in kind]
    chosen = st.lists(_choice(every, _BAD_QUALIFIERS, False), min_size=1, max_size=3)
    return " ".join(draw(chosen))


@st.composite
def _choice(draw: st.DrawFn, good: list[str], bad: list[str], valid_only: bool) -> str:
    """Mostly from ``good``, sometimes from ``bad`` (never when ``valid_only``)."""
    if valid_only or draw(st.integers(0, 9)) < 9:
        return draw(st.sampled_from(good))
    return draw(st.sampled_from(bad))


def _parses(text: str) -> bool:
    try:
        parse_pattern(text)
    except PatternSyntaxError:
        return False
    return True


_IN_LISTS = ["()", "('a')", f"('{MD5}', 1, true)", "(t'2020-01-01T00:00:00Z', h'00', -2.5)"]
# For the round trip: "path operator value" combinations that are valid for any object type.
_VALID_TAILS = [
    tail
    for path in _GOOD_PATHS
    for operator in [*_GOOD_OPERATORS, "IN"]
    for value in (_IN_LISTS if operator == "IN" else _GOOD_VALUES)
    if _parses(f"[x:{(tail := f'{path} {operator} {value}')}]")
]


@st.composite
def _comparison_text(draw: st.DrawFn, valid_only: bool, one_type: bool = True) -> str:
    if valid_only:  # one_type: one object type per pattern, so AND never mixes types
        types = st.sampled_from(_TYPES)
        object_type = draw(st.shared(types, key="object type") if one_type else types)
        if draw(st.integers(0, 9)) == 0:
            return f"{draw(st.sampled_from(['', 'NOT ']))}EXISTS {object_type}:x"
        tail = draw(st.integers(0, len(_VALID_TAILS) - 1).map(_VALID_TAILS.__getitem__))
        return f"{object_type}:{tail}"
    space = st.sampled_from(_SPACE)
    path = f"{draw(st.sampled_from(_TYPES))}:{draw(_choice(_GOOD_PATHS, _BAD_PATHS, False))}"
    if draw(st.integers(0, 9)) == 0:
        return f"{draw(st.sampled_from(['', 'NOT ']))}EXISTS{draw(space)}{path}"
    operator = draw(_choice([*_GOOD_OPERATORS, "IN"], _BAD_OPERATORS, False))
    negation = draw(st.sampled_from(["", "", "NOT "]))
    value = _choice(_GOOD_VALUES, _BAD_VALUES, False)
    if operator == "IN":
        items = draw(st.lists(value, max_size=3))
        closing = draw(st.sampled_from(["", "", "", ",", ")"]))
        text = f"({','.join(items)}{closing})"
    else:
        text = draw(value)
    return f"{path}{draw(space)}{negation}{operator}{draw(space)}{text}"


def _joined(inner: st.SearchStrategy[str], words: list[str]) -> st.SearchStrategy[str]:
    """``inner``s joined by ``words`` (mixed, so precedence matters), or one in parentheses."""
    more = st.lists(st.tuples(st.sampled_from(words), inner), min_size=1, max_size=3)
    return st.one_of(
        st.tuples(inner, more).map(lambda t: t[0] + "".join(f" {w} {x}" for w, x in t[1])),
        inner.map(lambda text: f"({text})"),
    )


def _patterns(valid_only: bool, one_type: bool = True) -> st.SearchStrategy[str]:
    """Pattern texts built from the tables above; nested, qualified, with odd spacing."""
    joins = ["AND", "OR"] if valid_only else ["AND", "OR", "AND", "OR", "and", "&&"]
    comparison = st.recursive(
        _comparison_text(valid_only, one_type), lambda inner: _joined(inner, joins), max_leaves=4
    )
    qualifiers = _qualifiers(valid_only)
    observation = st.one_of(
        comparison.map(lambda text: f"[{text}]"),
        st.tuples(comparison, qualifiers).map(lambda t: f"[{t[0]}] {t[1]}"),
    )
    words = [*joins, "FOLLOWEDBY"] if valid_only else [*joins, "FOLLOWEDBY", "FOLLOWED BY"]
    expression = st.recursive(
        observation,
        lambda inner: st.one_of(
            _joined(inner, words),
            st.tuples(inner, qualifiers).map(lambda t: f"({t[0]}) {t[1]}"),
        ),
        max_leaves=4,
    )
    more = st.lists(st.tuples(st.sampled_from(words), expression), max_size=3)
    return st.tuples(expression, more).map(lambda t: t[0] + "".join(f" {w} {x}" for w, x in t[1]))


# Each appends one documented divergence to a valid pattern.
_DIVERGENT = [
    "({}) WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "{} AND [file:created = t'2021-02-29T00:00:00Z']",
    "{} OR [file:hashes.MD5 IN ('" + MD5 + "')]",
    "{} OR [file:hashes[0] = 'x']",
    "{} FOLLOWEDBY [file:hashes.MD6 = '" + MD5 + "zz']",
    "{} OR [url:value = 'a' AND file:name = 'b']",
]


@st.composite
def _mutated(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> str:
    """A text from ``texts``, at times with a character deleted or inserted, or cut short."""
    text = draw(texts)
    mutation = draw(st.sampled_from(["none"] * 7 + ["delete", "insert", "truncate"]))
    if mutation == "none" or not text:
        return text
    at = draw(st.integers(0, len(text) - 1))
    if mutation == "delete":
        return text[:at] + text[at + 1 :]
    if mutation == "insert":
        return text[:at] + draw(st.sampled_from(list("[]()'\\ :.,=!<>*-+x0/"))) + text[at:]
    return text[:at]


_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@_SETTINGS
@given(
    st.one_of(  # about 3 : 1 : 1 : 2
        *(_patterns(valid_only=True) for _ in range(3)),
        _patterns(valid_only=True, one_type=False),
        st.tuples(st.sampled_from(_DIVERGENT), _patterns(valid_only=True)).map(
            lambda t: t[0].format(t[1])
        ),
        *(_mutated(_patterns(valid_only=False)) for _ in range(2)),
    )
)
def test_differential_against_stix2_patterns(text: str) -> None:
    try:
        theirs: Any = run_validator(text, stix_version="2.1")
    except Exception as error:  # its crashes are data here
        theirs = error
    theirs_ok = theirs == []
    ours: PatternSyntaxError | None = None
    try:
        pattern = parse_pattern(text)
    except PatternSyntaxError as error:
        ours = error
    if ours is not None:
        if theirs_ok:
            assert _known_divergence(text, ours, theirs), f"we reject {text!r}: {ours}"
        return
    if not theirs_ok:
        assert _known_divergence(text, None, theirs), f"we accept {text!r}; they: {theirs}"
    else:
        assert pattern == _reference_ast(text)
    assert patterns._parse_general(text) == pattern


@settings(_SETTINGS, max_examples=100)
@given(_patterns(valid_only=True))
def test_round_trip(text: str) -> None:
    try:
        pattern = parse_pattern(text)
    except PatternSyntaxError:
        assume(False)
        return
    canonical = format_pattern(pattern)
    assert parse_pattern(canonical) == pattern
    assert format_pattern(parse_pattern(canonical)) == canonical
    if reference_accepts(text):
        assert reference_accepts(canonical), canonical


_NAMES = st.sampled_from(
    ["value", "name", "hashes", "MD5", "AND", "true", "x_1", "'SHA-256'", "'a b'"]
)


@settings(_SETTINGS, max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ipv4-addr", "file", "x-a", "true", "OR"]),
            st.lists(_NAMES, min_size=1, max_size=3),
            st.sampled_from(["=", "!=", " = ", "=="]),
            st.sampled_from(["'1.2.3.4'", f"'{MD5}'", "'abc'", "'a/*b'", "''"]),
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([" OR ", " OR  ", " AND ", "  OR "]),
    st.sampled_from(["", " ", "]", " x"]),
)
def test_the_fast_path_agrees_with_the_general_parser(
    parts: list[tuple[str, list[str], str, str]], joiner: str, tail: str
) -> None:
    text = joiner.join(f"[{t}:{'.'.join(path)} {op} {value}]" for t, path, op, value in parts)
    text += tail
    results = []
    for parse in (parse_pattern, patterns._parse_general):
        try:
            results.append(parse(text))
        except PatternSyntaxError as error:
            results.append((error.reason, error.position))
    assert results[0] == results[1]


_PATTERN_CHARACTERS = st.sampled_from([*"[]()':.,=!<>*-+ \nabtfhxTZ019_\\/\"", "AND ", "OR "])


@settings(_SETTINGS, max_examples=150)
@given(st.lists(st.one_of(_PATTERN_CHARACTERS, st.characters()), max_size=40).map("".join))
def test_any_text_parses_or_raises_pattern_syntax_error(text: str) -> None:
    """Nothing but PatternSyntaxError escapes, and its position is inside the text."""
    try:
        pattern: Pattern | None = parse_pattern("[" + text)
    except PatternSyntaxError as error:
        pattern, position = None, error.position
    if pattern is None:
        assert 0 <= position <= len(text) + 1
    else:
        assert parse_pattern(format_pattern(pattern)) == pattern
