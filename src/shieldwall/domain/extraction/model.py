"""The value types of report extraction: what :func:`extract` returns.

Contract: every span is a half-open ``(start, end)`` range of code-point offsets into
``Extraction.text`` (the plain text after format conversion, *not* refanged), sorted, and
``Extraction.text[start:end]`` is the value as written there (possibly defanged).  Lists
are deduplicated and kept in order of first appearance.  All types are immutable.
"""

from __future__ import annotations

from dataclasses import dataclass

Span = tuple[int, int]

#: Indicator kinds, in the ``object:property`` form of their STIX pattern.
NETWORK_KINDS = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr")
HASH_KINDS = (
    "file:hashes.MD5",
    "file:hashes.SHA-1",
    "file:hashes.SHA-256",
    "file:hashes.SHA-512",
    "file:hashes.SHA3-256",
    "file:hashes.SHA3-512",
)
FILE_NAME_KIND = "file:name"
KINDS = (*NETWORK_KINDS, *HASH_KINDS, FILE_NAME_KIND)


@dataclass(frozen=True)
class Indicator:
    """One merged indicator: ``value`` is normalised and refanged; ``pattern`` is STIX."""

    kind: str
    value: str
    spans: tuple[Span, ...]
    pattern: str
    defanged: bool = False  # written defanged at least once (the author marked it as hostile)


@dataclass(frozen=True)
class Technique:
    """An ATT&CK technique named in the text and resolved against the packaged ATT&CK data."""

    id: str  # "T1059.001"
    name: str  # "Command and Scripting Interpreter: PowerShell" for sub-techniques
    stix_id: str  # MITRE's attack-pattern id
    url: str
    spans: tuple[Span, ...]
    revoked_from: str | None = None  # the id as written, when ATT&CK revoked it for ``id``


@dataclass(frozen=True)
class Skipped:
    """A value seen but not made an indicator, and why (shown to the analyst in review)."""

    kind: str
    value: str
    reason: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Extraction:
    """The result of :func:`shieldwall.domain.extraction.extract`."""

    text: str
    title: str | None
    indicators: list[Indicator]
    techniques: list[Technique]
    malware: list[str]
    tools: list[str]
    vulnerabilities: list[str]
    skipped: list[Skipped]
