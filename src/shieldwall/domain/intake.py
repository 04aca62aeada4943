"""Report intake: free text in, reviewed STIX out (pure).

``analyse`` runs extraction (domain/extraction), then victim protection: every place the
submitting organisation's declared assets or personal data appear is flagged with its
location, in the text and in the indicators (domain/scrub). With ``redact`` the flagged
spans are replaced in the report text and indicators that touch the organisation's own
assets are left out of the bundle; without it, the analyst sees the flags and decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shieldwall.domain.extraction import Extraction, Indicator, extract, to_bundle
from shieldwall.domain.scrub import Assets, find_in_text, redact_text


@dataclass(frozen=True, slots=True)
class Flag:
    """Something that would identify the victim: where (``text`` or ``indicator``), the
    span in the text, the value and the rule that matched."""

    where: str
    start: int
    end: int
    value: str
    rule: str


@dataclass(frozen=True, slots=True)
class Analysis:
    """An extraction, its victim flags, and the STIX bundle built from it."""

    extraction: Extraction
    flags: list[Flag]
    bundle: dict[str, object]
    dropped_indicators: list[str]


def _own_indicator(indicator: Indicator, assets: Assets) -> str | None:
    """The rule an indicator's value breaks, if it is the organisation's own asset."""
    if indicator.kind in ("file:name",) or indicator.kind.startswith("file:hashes"):
        return None
    hits = find_in_text(indicator.value, assets, personal_data=False)
    return hits[0].rule if hits else None


def analyse(
    text: str,
    fmt: str,
    assets: Assets,
    *,
    name: str,
    created: int,
    new_id: Callable[[str], str],
    redact: bool = False,
    include_benign: bool = False,
    removed_values: frozenset[str] = frozenset(),
    created_by_ref: str | None = None,
) -> Analysis:
    """Extract, flag and build a bundle (see the module docstring).

    ``removed_values`` are indicator values the analyst struck out in review; a struck-out
    e-mail address counts as personal data in the text.
    """
    extraction = extract(text, fmt, include_benign=include_benign)
    # An e-mail address the analyst struck out is somebody's address, not an attacker's:
    # it is flagged as personal data (and redacted) like any other.
    struck = frozenset(v.lower() for v in removed_values)
    indicator_values = frozenset(i.value.lower() for i in extraction.indicators) - struck
    text_hits = find_in_text(extraction.text, assets, allowed=indicator_values)
    flags = [Flag("text", h.start, h.end, h.value, h.rule) for h in text_hits]
    kept: list[Indicator] = []
    dropped: list[str] = []
    for indicator in extraction.indicators:
        rule = _own_indicator(indicator, assets)
        if rule is not None:
            start, end = indicator.spans[0] if indicator.spans else (0, 0)
            flags.append(Flag("indicator", start, end, indicator.value, rule))
        if indicator.value in removed_values or (rule is not None and redact):
            dropped.append(indicator.value)
            continue
        kept.append(indicator)
    description = redact_text(extraction.text, text_hits) if redact else extraction.text
    reviewed = Extraction(
        text=description,
        title=extraction.title,
        indicators=kept,
        techniques=extraction.techniques,
        malware=extraction.malware,
        tools=extraction.tools,
        vulnerabilities=extraction.vulnerabilities,
        skipped=extraction.skipped,
    )
    bundle = to_bundle(
        reviewed,
        name=name,
        description=description,
        created=created,
        new_id=new_id,
        created_by_ref=created_by_ref,
    )
    return Analysis(extraction, sorted(flags, key=lambda f: (f.start, f.end)), bundle, dropped)


def analysis_body(analysis: Analysis) -> dict[str, object]:
    """An analysis as plain data (for JSON): indicators with whether they are in the
    bundle, techniques, names, victim flags, skipped values and the bundle."""
    extraction = analysis.extraction
    return {
        "title": extraction.title,
        "indicators": [
            {
                "kind": i.kind,
                "value": i.value,
                "pattern": i.pattern,
                "spans": list(i.spans),
                "included": i.value not in analysis.dropped_indicators,
            }
            for i in extraction.indicators
        ],
        "techniques": [{"id": t.id, "name": t.name} for t in extraction.techniques],
        "malware": extraction.malware,
        "tools": extraction.tools,
        "vulnerabilities": extraction.vulnerabilities,
        "victim_flags": [
            {"where": f.where, "start": f.start, "end": f.end, "value": f.value, "rule": f.rule}
            for f in analysis.flags
        ],
        "skipped": [{"value": s.value, "reason": s.reason} for s in extraction.skipped],
        "bundle": analysis.bundle,
    }
