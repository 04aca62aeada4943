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

Modules: ``ast`` (the node classes and ``comparisons``), ``lexer`` (tokens and keyword
tables), ``checks`` (the AND object-type rule and hash values), ``descent`` (the general
recursive-descent parser), ``parser`` (``parse_pattern`` and its fast path for the common
``[type:path = 'text']`` shape) and ``format`` (``format_pattern``).  Import from this package,
not from the modules.
"""

from __future__ import annotations

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
    Pattern,
    Qualified,
    Qualifier,
    RepeatsQualifier,
    Scalar,
    StartStopQualifier,
    Timestamp,
    Value,
    WithinQualifier,
    comparisons,
)
from shieldwall.domain.patterns.format import format_pattern
from shieldwall.domain.patterns.parser import _parse_general as _parse_general
from shieldwall.domain.patterns.parser import parse_pattern

__all__ = [
    "Binary", "Comparison", "ComparisonAnd", "ComparisonExpr", "ComparisonOr", "FollowedBy",
    "Hex", "ObservationAnd", "ObservationExpr", "ObservationExpression", "ObservationOr",
    "Operator", "PathStep", "Pattern", "Qualified", "Qualifier", "RepeatsQualifier", "Scalar",
    "StartStopQualifier", "Timestamp", "Value", "WithinQualifier", "comparisons",
    "format_pattern", "parse_pattern",
]  # fmt: skip
