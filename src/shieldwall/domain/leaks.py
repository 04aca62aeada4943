"""What in an advisory would point at a victim: the leak check run before publication.

An advisory goes to many organisations; the victims named in the private notifications it
was written from must not be recognisable in it. ``find_leaks`` looks at every text
property of every object of the advisory (name, description, labels, external references,
…, recursively), at every value compared in an indicator's STIX pattern, and at the
advisory's scope, and reports each finding with where it is and which rule matched:

- ``own-domain``: a victim's declared domain or any subdomain of it (also inside URLs and
  e-mail addresses);
- ``own-address``: an IP address inside a victim's declared range, or a CIDR range that
  overlaps one;
- ``keyword``: a victim's declared keyword or its name, in any case; the name is also
  looked for without its legal form (``Albion Bank plc`` → ``Albion Bank``) and with
  ``&`` and ``and`` exchanged;
- ``look-alike``: a word, host name or group name that contains the victim's name or
  the first label of one of its domains once punctuation is dropped
  (``albion-bank-login.example``, ``albionbank-support``); names and labels shorter
  than six letters are not looked for this way (too many innocent words contain them);
- ``victim-reference``: the victim's STIX identity id or the id of a linked notification
  (a reference betrays the victim to whoever can resolve it);
- ``victim-in-scope``: the advisory's scope names the victim's organisation (the scope
  travels with the object, so every reader would see it);
- ``e-mail``, ``phone``: personal data in free text (not tied to a victim). An e-mail
  address that is itself an indicator of the advisory is the attacker's and is allowed.

Pure: the caller passes the victims (name, identity id, declared assets, notification ids).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from shieldwall.domain.errors import ShieldwallError
from shieldwall.domain.patterns import comparisons, parse_pattern
from shieldwall.domain.scope import Scope
from shieldwall.domain.scrub import Assets, find_in_text, indicator_values

# Properties that hold no free text a reader would see as prose: identifiers, timestamps,
# vocabularies the hub writes itself, markings and the scope extension (checked apart).
_NOT_TEXT = frozenset(
    {
        "id",
        "type",
        "spec_version",
        "created",
        "modified",
        "published",
        "valid_from",
        "valid_until",
        "pattern_type",
        "pattern_version",
        "report_types",
        "indicator_types",
        "object_marking_refs",
        "created_by_ref",
        "object_refs",
        "extensions",
        "lang",
    }
)
_CIDR = re.compile(
    r"(?<![\w.:])((?:\d{1,3}\.){3}\d{1,3}/\d{1,2}|[0-9a-f:]*:[0-9a-f:]*/\d{1,3})(?![\w/])",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")
_LOOK_ALIKE_MIN = 6
_LEGAL_FORMS = (
    "llp",
    "llc",
    "plc",
    "ag",
    "inc",
    "inc.",
    "ltd",
    "ltd.",
    "limited",
    "gmbh",
    "sa",
    "s.a.",
    "nv",
    "n.v.",
    "n.a.",
    "corp",
    "corp.",
    "corporation",
    "co",
    "co.",
    "se",
    "lp",
)


@dataclass(frozen=True, slots=True)
class Victim:
    """A victim the advisory must not point at.

    ``references`` are ids that must not appear anywhere in the advisory: the victim's
    identity id and the ids of the notifications (and their objects) sent to it.
    """

    name: str
    identity_id: str
    assets: Assets
    references: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Leak:
    """One finding: in ``part`` (an object by its type and position: ``report``,
    ``indicator[0]``, ``course-of-action[1]``, or ``scope``; its STIX id in
    ``object_id``), at ``field`` (a JSON path inside it), ``value`` matched ``rule``.
    ``victim`` names the victim it points at (``None`` for personal data); show it to the
    advisory's author only (JSON: ``object`` is ``part``)."""

    part: str
    object_id: str
    field: str
    value: str
    rule: str
    victim: str | None

    def to_json(self) -> dict[str, object]:
        """The leak as plain data (for the author)."""
        return {
            "object": self.part,
            "object_id": self.object_id,
            "field": self.field,
            "value": self.value,
            "rule": self.rule,
            "victim": self.victim,
        }


def name_keywords(name: str) -> list[str]:
    """The organisation's name and its recognisable variants: without a trailing legal form
    (``Carter & Lowe LLP`` → ``Carter & Lowe``) and with ``&``/``and`` exchanged. Variants
    shorter than four characters are left out (they would match ordinary words)."""
    variants: set[str] = set()
    base = " ".join(name.split())
    if base:
        variants.add(base)
    words = base.replace(",", " ").split()
    while len(words) > 1 and words[-1].lower() in _LEGAL_FORMS:
        words = words[:-1]
    if words:
        variants.add(" ".join(words))
    for variant in list(variants):
        if " & " in variant:
            variants.add(variant.replace(" & ", " and "))
        if " and " in variant.lower():
            variants.add(re.sub(r"(?i) and ", " & ", variant))
    return sorted((v for v in variants if len(v) >= 4), key=len, reverse=True)


def victim_assets(
    name: str, domains: Iterable[str], cidrs: Iterable[str], keywords: Iterable[str]
) -> Assets:
    """A victim's declared assets plus its name (and name variants) as keywords."""
    return Assets.parse(domains, cidrs, [*keywords, *name_keywords(name)])


def _overlapping_ranges(text: str, assets: Assets) -> Iterator[str]:
    """CIDR ranges written in ``text`` that overlap a declared range."""
    for match in _CIDR.finditer(text):
        try:
            network = ipaddress.ip_network(match.group(1), strict=False)
        except ValueError:
            continue
        if any(
            network.version == declared.version and network.overlaps(declared)
            for declared in assets.networks
        ):
            yield match.group(1)


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))


def _pattern_values(pattern: str) -> list[str]:
    """The string values an indicator pattern compares with (the pattern itself when it
    does not parse, so nothing escapes the check)."""
    try:
        parsed = parse_pattern(pattern)
    except ShieldwallError:
        return [pattern]
    values: list[str] = []
    for comparison in comparisons(parsed):
        value = comparison.value
        items = value if isinstance(value, tuple) else (value,)
        values.extend(item for item in items if isinstance(item, str))
    return values


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _look_alike_marks(victim: Victim) -> frozenset[str]:
    """What a look-alike of the victim contains: its name variants and declared keywords,
    and the first label of its domains, without punctuation."""
    marks = {_compact(k) for k in victim.assets.keywords}
    marks |= {_compact(d.split(".")[0]) for d in victim.assets.domains}
    return frozenset(m for m in marks if len(m) >= _LOOK_ALIKE_MIN)


class _Finder:
    def __init__(self, victims: list[Victim], allowed: frozenset[str]) -> None:
        self.victims = victims
        self.allowed = allowed
        self.marks = {v.name: _look_alike_marks(v) for v in victims}
        self.leaks: list[Leak] = []
        self._seen: set[tuple[str, str, str, str]] = set()

    def add(
        self, label: str, object_id: str, field: str, value: str, rule: str, victim: str | None
    ) -> None:
        key = (label, field, value.lower(), rule)
        if key not in self._seen:
            self._seen.add(key)
            self.leaks.append(Leak(label, object_id, field, value, rule, victim))

    def _reported(self, label: str, field: str, value: str) -> bool:
        return any(k[:3] == (label, field, value.lower()) for k in self._seen)

    def _covered(self, label: str, field: str, value: str, *, either_way: bool = False) -> bool:
        """Whether a finding at the same place already contains ``value`` (or, with
        ``either_way``, lies inside it)."""
        lowered = value.lower()
        return any(
            k[:2] == (label, field) and (lowered in k[2] or (either_way and k[2] in lowered))
            for k in self._seen
        )

    def references(self, label: str, object_id: str, field: str, text: str) -> None:
        lowered = text.lower()
        for victim in self.victims:
            for reference in sorted(victim.references | {victim.identity_id}):
                if reference and reference.lower() in lowered:
                    self.add(label, object_id, field, reference, "victim-reference", victim.name)

    def text(self, label: str, object_id: str, field: str, text: str) -> None:
        """Free text: every victim's assets and name, then personal data (an address
        already reported as a victim's is not reported again as personal data)."""
        self.technical(label, object_id, field, text)
        for hit in find_in_text(text, Assets(), allowed=self.allowed):
            if not self._reported(label, field, hit.value):
                self.add(label, object_id, field, hit.value, hit.rule, None)

    def technical(self, label: str, object_id: str, field: str, text: str) -> None:
        """A value that may be an attacker's (indicator, scope): victims' assets only."""
        for victim in self.victims:
            for cidr in _overlapping_ranges(text, victim.assets):
                self.add(label, object_id, field, cidr, "own-address", victim.name)
            for hit in find_in_text(text, victim.assets, personal_data=False):
                if not self._covered(label, field, hit.value):  # e.g. inside a range
                    self.add(label, object_id, field, hit.value, hit.rule, victim.name)
            marks = self.marks[victim.name]
            if marks:
                for match in _TOKEN.finditer(text.lower()):
                    token = text[match.start() : match.end()]
                    compact = _compact(token)
                    if any(m in compact for m in marks) and not self._covered(
                        label, field, token, either_way=True
                    ):
                        self.add(label, object_id, field, token, "look-alike", victim.name)
        self.references(label, object_id, field, text)


def object_labels(objects: list[dict[str, object]]) -> list[str]:
    """``report``, ``indicator[0]``, ``course-of-action[1]`` …: each object by its type and
    its position among the objects of that type (how the author refers to them)."""
    counts: dict[str, int] = {}
    labels: list[str] = []
    for obj in objects:
        kind = str(obj.get("type"))
        index = counts.get(kind, 0)
        counts[kind] = index + 1
        labels.append(kind if kind == "report" and index == 0 else f"{kind}[{index}]")
    return labels


def find_leaks(objects: list[dict[str, object]], scope: Scope, victims: list[Victim]) -> list[Leak]:
    """Every place in ``objects`` (an advisory's STIX objects) and ``scope`` that points at
    one of ``victims`` or holds personal data, in object order; empty when the advisory is
    safe to publish. See the module docstring for the rules."""
    finder = _Finder(victims, indicator_values(objects))
    for label, obj in zip(object_labels(objects), objects, strict=True):
        object_id = str(obj.get("id", ""))
        for name, value in obj.items():
            if name == "pattern" and isinstance(value, str):
                for item in _pattern_values(value):
                    finder.technical(label, object_id, "pattern", item)
                finder.references(label, object_id, "pattern", value)
                continue
            if name in _NOT_TEXT or name.endswith("_ref") or name.endswith("_refs"):
                if name != "extensions":
                    for path, text in _strings(value, name):
                        finder.references(label, object_id, path, text)
                continue
            for path, text in _strings(value, name):
                finder.text(label, object_id, path, text)
    for index, identity in enumerate(sorted(scope.organizations)):
        for victim in victims:
            if identity == victim.identity_id:
                finder.add(
                    "scope", "", f"organizations[{index}]", identity, "victim-in-scope", victim.name
                )
    for index, group in enumerate(sorted(scope.groups)):
        finder.technical("scope", "", f"groups[{index}]", group)
    return finder.leaks
