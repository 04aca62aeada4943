"""Semantic checks the grammar of STIX 2.1 §9 does not make: the object-type rule for
comparisons joined by AND, and hash values against the hash algorithm a path names.

Both follow the reference implementations (``stix2``'s pattern classes for the AND rule,
``stix2-patterns``' ``v21/object_validator.py`` for hashes) with the fixes listed in
:mod:`shieldwall.domain.patterns`.
"""

from __future__ import annotations

import re

from shieldwall.domain.patterns.ast import Comparison, ComparisonExpr, ComparisonOr, PathStep


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
