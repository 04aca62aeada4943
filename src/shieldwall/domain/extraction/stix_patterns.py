"""STIX 2.1 patterns for extracted indicators.

Contract: :func:`pattern_for` returns a single-comparison pattern that
:func:`shieldwall.domain.patterns.parse_pattern` accepts, with ``'`` and ``\\`` escaped in
the value.  Hash properties quote the algorithm name (``file:hashes.'SHA-256'``) except
``MD5``, as the STIX 2.1 examples do.
"""

from __future__ import annotations

_PROPERTY = {
    "ipv4-addr": "ipv4-addr:value",
    "ipv6-addr": "ipv6-addr:value",
    "domain-name": "domain-name:value",
    "url": "url:value",
    "email-addr": "email-addr:value",
    "file:hashes.MD5": "file:hashes.MD5",
    "file:hashes.SHA-1": "file:hashes.'SHA-1'",
    "file:hashes.SHA-256": "file:hashes.'SHA-256'",
    "file:hashes.SHA-512": "file:hashes.'SHA-512'",
    "file:hashes.SHA3-256": "file:hashes.'SHA3-256'",
    "file:hashes.SHA3-512": "file:hashes.'SHA3-512'",
    "file:name": "file:name",
}


def escape(value: str) -> str:
    """``value`` as the body of a STIX pattern string literal."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def pattern_for(kind: str, value: str) -> str:
    """The STIX pattern matching an observable of ``kind`` with ``value``."""
    return f"[{_PROPERTY[kind]} = '{escape(value)}']"


def hash_algorithm(kind: str) -> str | None:
    """``"SHA-256"`` for ``"file:hashes.SHA-256"``; ``None`` for other kinds."""
    return kind.removeprefix("file:hashes.") if kind.startswith("file:hashes.") else None
