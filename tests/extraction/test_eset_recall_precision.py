"""Extraction from ESET's README write-ups measured against ESET's own MISP events.

For every campaign in ``../shared/data/eset-malware-ioc/`` with a README and a MISP event:

* truth = the event's ``to_ids`` network and hash attributes that the README states
  (after refanging; case-insensitive for hashes and domains); recall = found / truth,
  at least 95 % per campaign and overall;
* a second, stricter recall over *all* network/hash attributes the README states, whatever
  their ``to_ids`` (several ESET events set no ``to_ids`` at all);
* precision: an extracted network/hash value is *in the event* when any attribute (any
  type, any ``to_ids``) holds it, or holds it as a part (``domain|ip``, a URL's host, a
  ``host:port``).  Values absent from the event count as invented unless the README writes
  them defanged: the author's own mark of an indicator (ESET's events cover a subset of
  their write-ups).  Precision = 1 - unjustified / extracted, at least 99 % overall, and
  no reference link (publisher, GitHub, VirusTotal, MITRE, …) is ever an indicator.

The test prints the per-campaign table.  Unreadable MISP files (``pypi_backdoor`` is
truncated) and JSON files that are not MISP events are skipped with a printed note.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from stix2validator import ValidationOptions, validate_instance

from shieldwall.domain.extraction import NETWORK_KINDS, Extraction, extract, refang_value, to_bundle
from shieldwall.domain.patterns import parse_pattern

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "eset-malware-ioc"
HASH_TYPES = {"md5", "sha1", "sha256", "sha512"}
NETWORK_TYPES = {
    "ip-dst",
    "ip-src",
    "domain",
    "hostname",
    "url",
    "email-src",
    "email-dst",
    "email",
    "uri",
    "link",
}
PAIR_TYPES = {"domain|ip", "ip-dst|port", "ip-src|port", "hostname|port"}
REFERENCE_HOSTS = (
    "welivesecurity.com",
    "eset.com",
    "github.com",
    "virustotal.com",
    "mitre.org",
    "misp-project.org",
    "microsoft.com",
)

LINKS_ONLY = {"sednit"}  # its README only links to other files
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared ESET data not present")


@dataclass
class Attribute:
    type: str
    value: str
    to_ids: bool


def misp_attributes(path: Path) -> list[Attribute] | str:
    """The attributes of the MISP event(s) in ``path``, or a note on why there are none."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        return f"unreadable JSON ({error.__class__.__name__}: {error})"
    if isinstance(document, dict) and "Event" in document:
        events = [document["Event"]]
    elif isinstance(document, dict) and isinstance(document.get("response"), list):
        events = [item["Event"] for item in document["response"] if "Event" in item]
    else:
        return "not a MISP event"
    found: list[Attribute] = []
    for event in events:
        rows = list(event.get("Attribute", []))
        for obj in event.get("Object", []) or []:
            rows.extend(obj.get("Attribute", []) or [])
        found.extend(
            Attribute(str(r["type"]), str(r["value"]), bool(r.get("to_ids"))) for r in rows
        )
    return found


def truth_values(attribute: Attribute) -> list[str]:
    """The network/hash values an attribute stands for (both parts of ``domain|ip``, …)."""
    kind, value = attribute.type, attribute.value
    if kind in HASH_TYPES:
        return [value.lower()]
    if kind.startswith("filename|") and kind.split("|")[1] in HASH_TYPES:
        return [value.split("|", 1)[1].lower()]
    if kind in PAIR_TYPES:
        first, second = value.split("|", 1)
        return [first.lower()] if kind.endswith("|port") else [first.lower(), second.lower()]
    if kind == "url" and re.fullmatch(r"[\w.-]+:\d{1,5}", value):
        return [value.rsplit(":", 1)[0].lower()]  # a host:port typed as a URL
    if kind in NETWORK_TYPES - {"link", "uri"}:
        return [value if kind == "url" else value.lower()]
    return []


def event_infos(paths: list[Path]) -> list[str]:
    """The ``info`` (title) of every readable event."""
    infos: list[str] = []
    for path in paths:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        events = [document.get("Event")] if isinstance(document, dict) else []
        if isinstance(document, dict) and isinstance(document.get("response"), list):
            events = [item.get("Event") for item in document["response"]]
        infos.extend(str(event.get("info", "")) for event in events if isinstance(event, dict))
    return infos


def universe(attributes: list[Attribute]) -> set[str]:
    """Every value of the event, with parts: pairs split, URL hosts, ``host:port`` hosts."""
    values: set[str] = set()
    for attribute in attributes:
        for piece in [attribute.value, *attribute.value.split("|")]:
            piece = piece.strip()
            values.add(piece.lower())
            host = urlsplit(piece if "://" in piece else "x://" + piece).hostname
            if host and ("/" in piece or ":" in piece or "://" in piece):
                values.add(host.lower())
    return values


def stated(value: str, readme: str) -> bool:
    """True when ``value`` appears in the (refanged) README as a whole token."""
    pattern = rf"(?<![\w.\-]){re.escape(value)}(?![\w\-]|\.[\w]|/\w)"
    return re.search(pattern, readme, re.IGNORECASE) is not None


def key(kind: str, value: str) -> str:
    return value if kind == "url" else value.lower()


def measured(extraction: Extraction) -> dict[str, bool]:
    """Extracted network/hash values → written defanged."""
    return {
        key(i.kind, i.value): i.defanged
        for i in extraction.indicators
        if i.kind in NETWORK_KINDS or i.kind.startswith("file:hashes.")
    }


def reference_links(extraction: Extraction) -> list[str]:
    return [
        i.value
        for i in extraction.indicators
        if i.kind in ("url", "domain-name") and not i.defanged and is_reference(i.value)
    ]


def is_reference(value: str) -> bool:
    try:
        host = urlsplit(value if "://" in value else "x://" + value).hostname or ""
    except ValueError:
        return False
    return any(host == ref or host.endswith("." + ref) for ref in REFERENCE_HOSTS)


def scope(readme: str, json_names: list[str], infos: list[str], links: set[str]) -> str:
    """The README sections a MISP event belongs to: those that link its file, else those
    that link its blog post (a ``link`` attribute, or a URL whose slug spells the event's
    title); the whole README when no section says."""
    parts = re.split(r"(?m)^(?===\s)", readme)
    head, sections = parts[0], parts[1:]
    chosen = [s for s in sections if any(name in s for name in json_names)]
    if not chosen:
        words = [set(re.findall(r"[a-z0-9]{3,}", info.lower())) for info in infos]

        def about(section: str) -> bool:
            for url in re.findall(r"https?://[^\s\[\]`|]+", section):
                if url.rstrip("/.") in links:
                    return True
                slug = set(re.findall(r"[a-z0-9]{3,}", url.split("/", 3)[-1].lower()))
                if any(w and len(w & slug) >= 0.6 * len(w) for w in words):
                    return True
            return False

        chosen = [s for s in sections if about(s)]
    return head + "".join(chosen) if chosen else readme


def campaigns() -> list[Path]:
    return sorted(p for p in DATA.iterdir() if (p / "README.adoc").is_file())


def test_eset_recall_and_precision(capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[tuple[str, int, int, int, int, int, int, int]] = []
    notes: list[str] = []
    totals = {
        "truth": 0,
        "found": 0,
        "all": 0,
        "all_found": 0,
        "extracted": 0,
        "absent": 0,
        "invented": 0,
    }
    failures: list[str] = []
    for folder in campaigns():
        jsons = sorted(folder.glob("*.json"))
        if not jsons:
            continue
        attributes: list[Attribute] = []
        used: list[str] = []
        for path in jsons:
            loaded = misp_attributes(path)
            if isinstance(loaded, str):
                notes.append(f"{folder.name}/{path.name}: skipped, {loaded}")
                continue
            attributes.extend(loaded)
            used.append(path.name)
        if not attributes:
            continue
        readme_raw = (folder / "README.adoc").read_text(encoding="utf-8")
        readme = refang_value(readme_raw)
        extraction = extract(readme_raw, "asciidoc")
        got_lower = {value.lower() for value in measured(extraction)}
        truth = {v for a in attributes if a.to_ids for v in truth_values(a) if stated(v, readme)}
        every = {
            v
            for a in attributes
            for v in truth_values(a)
            if stated(v, readme) and not is_reference(v)
        }
        infos = [a.value for a in attributes if a.type == "info"]
        infos += [str(i) for i in event_infos(jsons)]
        links = {a.value.rstrip("/.") for a in attributes if a.type in ("link", "url")}
        scoped = extract(scope(readme_raw, used, infos, links), "asciidoc")
        got = measured(scoped) or measured(extraction)
        found = {v for v in truth if v.lower() in got_lower}
        every_found = {v for v in every if v.lower() in got_lower}
        known = universe(attributes)
        absent = {v for v in got if v.lower() not in known}
        invented = {v for v in absent if not got[v]}
        rows.append(
            (
                folder.name,
                len(truth),
                len(found),
                len(every),
                len(every_found),
                len(got),
                len(absent),
                len(invented),
            )
        )
        for name, value in (
            ("truth", truth),
            ("found", found),
            ("all", every),
            ("all_found", every_found),
            ("extracted", got),
            ("absent", absent),
            ("invented", invented),
        ):
            totals[name] += len(value)
        if truth and len(found) / len(truth) < 0.95:
            failures.append(
                f"{folder.name}: to_ids recall {len(found)}/{len(truth)}; missed "
                f"{sorted(truth - found)[:10]}"
            )
        if every and len(every_found) / len(every) < 0.95:
            failures.append(
                f"{folder.name}: all-attribute recall {len(every_found)}/{len(every)}; "
                f"missed {sorted(every - every_found)[:10]}"
            )
        if every - every_found:
            notes.append(f"{folder.name}: missed {sorted(every - every_found)[:10]}")
        if invented:
            notes.append(f"{folder.name}: invented {sorted(invented)[:10]}")
        if reference_links(extraction):
            failures.append(
                f"{folder.name}: reference links extracted {reference_links(extraction)}"
            )
        if len(scoped.text) < len(extraction.text) and measured(scoped):
            notes.append(f"{folder.name}: precision measured on the README sections of the event")

    def ratio(part: int, whole: int) -> str:
        return f"{part / whole:7.1%}" if whole else "    n/a"

    with capsys.disabled():
        print("\n\nESET README extraction vs MISP events")
        print(
            f"{'campaign':<20} {'truth':>5} {'found':>5} {'recall':>7} {'all':>5} {'found':>5} "
            f"{'recall':>7} {'extr.':>6} {'absent':>6} {'invent':>6} {'precis.':>7}"
        )
        for name, truth_n, found_n, all_n, all_found_n, extracted, absent_n, invented_n in rows:
            print(
                f"{name:<20} {truth_n:>5} {found_n:>5} {ratio(found_n, truth_n)} {all_n:>5} "
                f"{all_found_n:>5} {ratio(all_found_n, all_n)} {extracted:>6} {absent_n:>6} "
                f"{invented_n:>6} {ratio(extracted - invented_n, extracted)}"
            )
        print(
            f"{'TOTAL':<20} {totals['truth']:>5} {totals['found']:>5} "
            f"{ratio(totals['found'], totals['truth'])} {totals['all']:>5} "
            f"{totals['all_found']:>5} {ratio(totals['all_found'], totals['all'])} "
            f"{totals['extracted']:>6} {totals['absent']:>6} {totals['invented']:>6} "
            f"{ratio(totals['extracted'] - totals['invented'], totals['extracted'])}"
        )
        print(
            "truth: to_ids network/hash attributes stated in the README; all: every network/"
            "hash attribute stated there; absent: extracted but not in the event; invent: "
            "absent and not written defanged by the author"
        )
        for note in notes:
            print("note:", note)
        for failure in failures:
            print("FAIL:", failure)
    assert rows, "no campaign with a README and a MISP event"
    assert totals["truth"] and totals["found"] / totals["truth"] >= 0.95
    assert totals["all"] and totals["all_found"] / totals["all"] >= 0.95
    assert (totals["extracted"] - totals["invented"]) / totals["extracted"] >= 0.99
    assert not failures, "\n".join(failures)


def validation_sample(bundle: dict[str, object]) -> list[dict[str, object]]:
    """The objects to validate: every SDO but indicators, and of indicators, relationships
    and SCOs the first 5 of each pattern property, relationship type or SCO type and 30 of
    the URL ones (stix2-validator takes
    ~7 ms an object, and a README bundle has up to 1,700 of them)."""
    objects = bundle["objects"]
    assert isinstance(objects, list)
    seen: Counter[str] = Counter()
    sample = []
    for obj in objects:
        kind = obj["type"]
        if kind == "indicator":
            kind += ":" + str(obj["pattern"]).split(" ")[0]
        elif kind == "relationship":
            kind += ":" + str(obj["relationship_type"])
        seen[kind] += 1
        always = kind in ("report", "malware", "tool", "attack-pattern", "vulnerability", "note")
        if kind == "report":  # every reference has the same shape: check the first 50
            obj = {**obj, "object_refs": obj["object_refs"][:50]}
        if always or seen[kind] <= 5 or ("url" in kind and seen[kind] <= 30):
            sample.append(obj)
    return sample


@pytest.mark.parametrize("folder", campaigns(), ids=lambda p: p.name)
def test_every_readme_extracts_to_a_valid_bundle(folder: Path) -> None:
    """Every README (with or without MISP event): extraction works, keeps no reference
    link, its patterns parse, and its bundle passes stix2-validator."""
    extraction = extract((folder / "README.adoc").read_text(encoding="utf-8"), "asciidoc")
    assert extraction.indicators or folder.name in LINKS_ONLY
    assert not reference_links(extraction)
    for indicator in extraction.indicators:
        assert all(0 <= a < b <= len(extraction.text) for a, b in indicator.spans)
        parse_pattern(indicator.pattern)
    counter = itertools.count(1)
    bundle = to_bundle(
        extraction,
        name=extraction.title or folder.name,
        description=None,
        created=1_700_000_000_000_000,
        new_id=lambda kind: f"{kind}--{uuid.UUID(int=next(counter), version=4)}",
    )
    options = ValidationOptions(version="2.1")
    for obj in validation_sample(bundle):
        result = validate_instance(obj, options)
        assert result.is_valid, (obj, [str(error) for error in result.errors])
