"""``extract``: a report's text in, indicators, techniques, software and CVEs out.

Contract: pure (reads only packaged data).  The text is converted to plain text
(``Extraction.text``), refanged in a view that maps back to it, scanned, and the results
merged: one indicator per (kind, normalised value), spans of every mention kept, order of
first mention.  A value that is an indicator anywhere is not also listed as skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shieldwall.domain.extraction import attack, software
from shieldwall.domain.extraction.formats import convert
from shieldwall.domain.extraction.model import Extraction, Indicator, Skipped, Span, Technique
from shieldwall.domain.extraction.refang import RefangedView, refang
from shieldwall.domain.extraction.scanner import Found, scan
from shieldwall.domain.extraction.stix_patterns import pattern_for

_CVE = re.compile(r"(?<![\w-])CVE-(\d{4})-(\d{4,7})(?!\d)", re.IGNORECASE)
_CASE_SENSITIVE = frozenset({"url"})


def extract(text: str, fmt: str = "text", *, include_benign: bool = False) -> Extraction:
    """Extract indicators and context from a report written in ``fmt``."""
    converted = convert(text, fmt)
    view = refang(converted.text)
    found = scan(view, converted, include_benign)
    indicators, skipped = _merge(found, view)
    mentions = software.find(view.text, converted.title)
    return Extraction(
        text=converted.text,
        title=converted.title,
        indicators=indicators,
        techniques=_techniques(view, skipped),
        malware=[m.name for m in mentions if m.stix_type == "malware"],
        tools=[m.name for m in mentions if m.stix_type == "tool"],
        vulnerabilities=_unique(f"CVE-{m.group(1)}-{m.group(2)}" for m in _CVE.finditer(view.text)),
        skipped=skipped,
    )


def _key(kind: str, value: str) -> tuple[str, str]:
    return kind, value if kind in _CASE_SENSITIVE else value.lower()


def _merge(found: list[Found], view: RefangedView) -> tuple[list[Indicator], list[Skipped]]:
    spans: dict[tuple[str, str], list[Span]] = {}
    first: dict[tuple[str, str], Found] = {}
    defanged: set[tuple[str, str]] = set()
    skipped_spans: dict[tuple[str, str, str], list[Span]] = {}
    skipped_first: dict[tuple[str, str, str], Found] = {}
    for item in found:
        span = view.span(item.start, item.end)
        if item.reason is None:
            key = _key(item.kind, item.value)
            first.setdefault(key, item)
            spans.setdefault(key, []).append(span)
            if item.defanged:
                defanged.add(key)
        else:
            skey = (item.kind, _key(item.kind, item.value)[1], item.reason)
            skipped_first.setdefault(skey, item)
            skipped_spans.setdefault(skey, []).append(span)
    indicators = [
        Indicator(
            kind=item.kind,
            value=item.value,
            spans=tuple(sorted(set(spans[key]))),
            pattern=pattern_for(item.kind, item.value),
            defanged=key in defanged,
        )
        for key, item in first.items()
    ]
    skipped = [
        Skipped(
            kind=item.kind,
            value=item.value,
            reason=item.reason or "",
            spans=tuple(sorted(set(skipped_spans[skey]))),
        )
        for skey, item in skipped_first.items()
        if (skey[0], skey[1]) not in first
    ]
    return indicators, skipped


def _techniques(view: RefangedView, skipped: list[Skipped]) -> list[Technique]:
    mentions: dict[str, list[Span]] = {}
    written: dict[str, str] = {}
    for match in attack.TECHNIQUE_ID.finditer(view.text):
        span = view.span(match.start(), match.end())
        mentions.setdefault(match.group(0).upper(), []).append(span)
    for match in attack.TECHNIQUE_URL.finditer(view.text):
        tid = match.group(1).upper() + (f".{match.group(2)}" if match.group(2) else "")
        mentions.setdefault(tid, []).append(view.span(match.start(), match.end()))
    techniques: dict[str, Technique] = {}
    for tid, spans in sorted(mentions.items(), key=lambda item: min(item[1])):
        record = attack.technique(tid)
        if record is None:
            skipped.append(
                Skipped(
                    "attack-pattern",
                    tid,
                    "not an ATT&CK Enterprise technique id "
                    "(unknown or revoked without replacement)",
                    tuple(spans),
                )
            )
            continue
        written.setdefault(record.id, tid)
        if record.id in techniques:
            old = techniques[record.id]
            merged = tuple(sorted(set(old.spans) | set(spans)))
            techniques[record.id] = Technique(
                old.id, old.name, old.stix_id, old.url, merged, old.revoked_from
            )
            continue
        techniques[record.id] = Technique(
            id=record.id,
            name=record.name,
            stix_id=record.stix_id,
            url=record.url,
            spans=tuple(sorted(set(spans))),
            revoked_from=record.revoked_from,
        )
    return list(techniques.values())


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
