"""Finding and removing what would identify the submitter (architecture.md §4, step 4).

Used on the member's side before an anonymous submission leaves, and by report intake to
flag victim details. Rules, each reported with where it matched:

- ``own-domain``: a declared domain or any subdomain of it (also inside URLs and e-mails);
- ``own-address``: an IP address inside a declared range;
- ``keyword``: a declared keyword (the firm's name, matter or account numbers), any case;
- ``e-mail``: an e-mail address in free text (personal data), unless the same address is an
  indicator value of the submission (then it is the attacker's, and it stays);
- ``phone``: a telephone number in international form (``+44 20 7946 0958``) in free text
  (personal data); numbers written without the country prefix are not recognised.

Free-text properties are redacted in place (``[REDACTED]``). An indicator whose pattern,
or an observable whose value, touches the submitter's own assets is removed whole, and
references to removed objects go too (domain/references.py). Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from shieldwall.domain.references import redact_references

REDACTED = "[REDACTED]"
_HOST = re.compile(
    r"(?<![\w.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?![\w-])", re.IGNORECASE
)
_IPV4 = re.compile(
    r"(?<![\d.])((?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3})(?!\d|\.\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:])((?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4})?)(?![\w:])",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+@(?:[a-z0-9-]+\.)+[a-z]{2,63})(?![\w-])", re.IGNORECASE)
# International form only (a leading +): bare digit runs are too often dates, build
# numbers or the start of an IP address to redact safely.
_PHONE = re.compile(r"(?<![\w+])(\+\d{1,3}(?:[ -]?\(?\d{1,4}\)?){2,5})(?![\w.]\d)")
_SKIP = frozenset(
    {
        "id",
        "type",
        "spec_version",
        "created",
        "modified",
        "pattern_type",
        "pattern_version",
        "valid_from",
        "valid_until",
        "first_seen",
        "last_seen",
        "published",
        "hashes",
        "object_marking_refs",
        "created_by_ref",
        "extensions",
        "lang",
        "first_observed",
        "last_observed",
    }
)
_VALUE_TYPES = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"})


@dataclass(frozen=True, slots=True)
class Assets:
    """What identifies the submitter: its declared assets and known personal names."""

    domains: tuple[str, ...] = ()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    keywords: tuple[str, ...] = ()

    @classmethod
    def parse(cls, domains: Iterable[str], cidrs: Iterable[str], keywords: Iterable[str]) -> Assets:
        """Build from declared values (as the hub stores them)."""
        return cls(
            tuple(sorted({d.strip().lower().rstrip(".") for d in domains if d.strip()})),
            tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip()),
            tuple(sorted({k.strip() for k in keywords if k.strip()}, key=len, reverse=True)),
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """One match in a text: ``start``/``end`` offsets, the value and the rule."""

    start: int
    end: int
    value: str
    rule: str


@dataclass(frozen=True, slots=True)
class Finding:
    """Where something identifying was found in a submission, and what was done."""

    object_id: str
    path: str
    value: str
    rule: str
    action: str


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """The objects that may leave, and every finding."""

    objects: list[dict[str, object]]
    findings: list[Finding] = field(default_factory=list)


def _own_host(host: str, assets: Assets) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in assets.domains)


def _own_address(text: str, assets: Assets) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in assets.networks)


def find_in_text(
    text: str, assets: Assets, *, personal_data: bool = True, allowed: frozenset[str] = frozenset()
) -> list[Hit]:
    """Every identifying span of ``text`` (see the module docstring); ``allowed`` values
    (lower case) are attacker indicators and are not reported as personal data."""
    hits: list[Hit] = []
    lowered = text.lower()
    for keyword in assets.keywords:
        pattern = re.compile(r"(?<!\w)" + re.escape(keyword.lower()) + r"(?!\w)")
        hits.extend(
            Hit(m.start(), m.end(), text[m.start() : m.end()], "keyword")
            for m in pattern.finditer(lowered)
        )
    for match in _EMAIL.finditer(text):
        value = match.group(1)
        if _own_host(value.rsplit("@", 1)[1], assets):
            hits.append(Hit(match.start(1), match.end(1), value, "own-domain"))
        elif personal_data and value.lower() not in allowed:
            hits.append(Hit(match.start(1), match.end(1), value, "e-mail"))
    for match in _HOST.finditer(text):
        if _own_host(match.group(1), assets):
            hits.append(Hit(match.start(1), match.end(1), match.group(1), "own-domain"))
    for regex in (_IPV4, _IPV6):
        for match in regex.finditer(text):
            if _own_address(match.group(1), assets):
                hits.append(Hit(match.start(1), match.end(1), match.group(1), "own-address"))
    if personal_data:
        for match in _PHONE.finditer(text):
            digits = re.sub(r"\D", "", match.group(1))
            if 8 <= len(digits) <= 15 and not _IPV4.fullmatch(match.group(1)):
                hits.append(Hit(match.start(1), match.end(1), match.group(1), "phone"))
    return _merge(hits)


def _merge(hits: list[Hit]) -> list[Hit]:
    """Drop hits nested inside earlier, longer ones; sort by position."""
    merged: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if merged and hit.start < merged[-1].end:
            continue
        merged.append(hit)
    return merged


def redact_text(text: str, hits: list[Hit]) -> str:
    """``text`` with every hit replaced by ``[REDACTED]``."""
    parts: list[str] = []
    position = 0
    for hit in hits:
        parts.append(text[position : hit.start])
        parts.append(REDACTED)
        position = hit.end
    parts.append(text[position:])
    return "".join(parts)


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")


def _replace(value: object, path: str, replacements: dict[str, str]) -> object:
    if isinstance(value, str):
        return replacements.get(path, value)
    if isinstance(value, list):
        return [_replace(item, f"{path}[{i}]", replacements) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {k: _replace(v, f"{path}.{k}", replacements) for k, v in value.items()}
    return value


_ATTRIBUTING_TYPES = frozenset({"identity", "location"})


def strip_attribution(objects: list[dict[str, object]]) -> list[dict[str, object]]:
    """Drop what names the submitter before an unlinkable submission leaves the member's
    machine: identity and location objects, ``created_by_ref`` and references to the
    dropped objects (the hub would remove them too, but must never see them)."""
    dropped = {str(o.get("id")) for o in objects if o.get("type") in _ATTRIBUTING_TYPES}
    kept: list[dict[str, object]] = []
    for obj in objects:
        if obj.get("type") in _ATTRIBUTING_TYPES:
            continue
        clean = {k: v for k, v in obj.items() if k != "created_by_ref"}
        redacted = redact_references(clean, dropped)
        if redacted is not None:
            kept.append(redacted)
    return kept


def indicator_values(objects: Iterable[dict[str, object]]) -> frozenset[str]:
    """Values the submission itself shares as indicators (lower case): never personal data."""
    found: set[str] = set()
    for obj in objects:
        pattern = obj.get("pattern")
        if isinstance(pattern, str):
            found.update(v.lower() for v in re.findall(r"'((?:[^'\\]|\\.)*)'", pattern))
        value = obj.get("value")
        if obj.get("type") in _VALUE_TYPES and isinstance(value, str):
            found.add(value.lower())
    return frozenset(found)


def scrub_objects(objects: list[dict[str, object]], assets: Assets) -> ScrubResult:
    """Remove or redact what identifies the submitter (see the module docstring)."""
    findings: list[Finding] = []
    allowed = indicator_values(objects)
    removed: set[str] = set()
    kept: list[dict[str, object]] = []
    for obj in objects:
        object_id = str(obj.get("id"))
        technical = [("pattern", obj["pattern"])] if isinstance(obj.get("pattern"), str) else []
        if obj.get("type") in _VALUE_TYPES and isinstance(obj.get("value"), str):
            technical.append(("value", obj["value"]))
        own = [
            (name, hit)
            for name, text in technical
            for hit in find_in_text(str(text), assets, personal_data=False)
        ]
        if own:
            removed.add(object_id)
            findings.extend(
                Finding(object_id, name, hit.value, hit.rule, "object removed") for name, hit in own
            )
            continue
        replacements: dict[str, str] = {}
        for name, value in obj.items():
            if (
                name in _SKIP
                or name.endswith("_ref")
                or name.endswith("_refs")
                or name in ("pattern", "value")
            ):
                continue
            for path, text in _strings(value, name):
                hits = find_in_text(text, assets, allowed=allowed)
                if hits:
                    replacements[path] = redact_text(text, hits)
                    findings.extend(
                        Finding(object_id, path, h.value, h.rule, "redacted") for h in hits
                    )
        if replacements:
            obj = {k: (v if k in _SKIP else _replace(v, k, replacements)) for k, v in obj.items()}
        kept.append(obj)
    result: list[dict[str, object]] = []
    for obj in kept:
        redacted = redact_references(obj, removed)
        if redacted is None:
            findings.append(
                Finding(str(obj.get("id")), "", "", "refers-to-removed", "object removed")
            )
            continue
        result.append(redacted)
    return ScrubResult(result, findings)
