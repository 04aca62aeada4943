"""Exports for defences, rendered from indicators a reader may read (``services.exports``
selects them through the policy path; this module only writes formats). Pure: no I/O, no
clock (times are arguments).

Formats: CSV (one row per value), plain lists per kind (firewall external dynamic lists),
Suricata and Snort rules for network values, a STIX bundle, and a MISP feed (manifest,
events, ``hashes.csv``). Every value an indicator's STIX pattern compares with (its
``domain.observables.object_items``) is exported; values of other kinds (file names,
registry keys …) appear only in the STIX bundle.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import orjson

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.misp.common import stable_id
from shieldwall.domain.timestamps import format_stix_timestamp, format_timestamp, parse_timestamp
from shieldwall.domain.tlp import Tlp

Json = dict[str, object]

#: The kinds with a plain list (``/exports/lists/{kind}.txt``).
LIST_KINDS = ("ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512")
#: CSV columns, in order.
CSV_COLUMNS = (
    "id", "kind", "value", "pattern", "tlp", "score", "expires_at", "confidence", "created",
    "name",
)  # fmt: skip
#: Rule ids: SID_BASE + (digest mod SID_SPAN), probed upwards on a collision; stays below 2³¹.
SID_BASE = 900_000_000
SID_SPAN = 1_000_000_000
RULE_FLAVOURS = ("suricata", "snort")
_MISP_TYPES = {
    "ipv4": ("ip-dst", "Network activity"),
    "ipv6": ("ip-dst", "Network activity"),
    "domain": ("domain", "Network activity"),
    "url": ("url", "Network activity"),
    "email": ("email-src", "Payload delivery"),
    "md5": ("md5", "Payload delivery"),
    "sha1": ("sha1", "Payload delivery"),
    "sha256": ("sha256", "Payload delivery"),
    "sha512": ("sha512", "Payload delivery"),
}
_SAFE_CONTENT = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_/~=&?%@+,!*()$"
)
_SAFE_MESSAGE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-_/+:()")


@dataclass(frozen=True, slots=True)
class ExportedIndicator:
    """One indicator version a reader may read, with what exports show of it."""

    obj: Mapping[str, object]
    tlp: Tlp
    score: float
    expired: bool
    expires_at: int | None
    items: tuple[str, ...]

    @property
    def stix_id(self) -> str:
        return str(self.obj["id"])

    @property
    def name(self) -> str:
        name = self.obj.get("name")
        return name if isinstance(name, str) and name else self.stix_id


def kind_of(item: str) -> str:
    return item.partition("|")[0]


def value_of(item: str) -> str:
    return item.partition("|")[2]


def check_kind(kind: str) -> str:
    """``kind`` if it has a list; ``InvalidInput`` naming the kinds otherwise."""
    if kind not in LIST_KINDS:
        raise InvalidInput(f"no list of kind {kind!r}: use one of {', '.join(LIST_KINDS)}")
    return kind


# ---------------------------------------------------------------------------- CSV and lists


def _csv_cell(text: str) -> str:
    """A cell spreadsheets will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(indicators: Iterable[ExportedIndicator]) -> str:
    """One row per value of each indicator (``CSV_COLUMNS``), RFC 4180 quoting, ``\\r\\n``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for indicator in indicators:
        obj = indicator.obj
        confidence = obj.get("confidence")
        for item in indicator.items:
            writer.writerow(
                [
                    indicator.stix_id,
                    kind_of(item),
                    _csv_cell(value_of(item)),
                    _csv_cell(str(obj.get("pattern", ""))),
                    indicator.tlp.label,
                    f"{indicator.score:.1f}",
                    "" if indicator.expires_at is None else format_timestamp(indicator.expires_at),
                    "" if not isinstance(confidence, int) else str(confidence),
                    str(obj.get("created", "")),
                    _csv_cell(indicator.name.replace("\r", " ").replace("\n", " ")),
                ]
            )
    return out.getvalue()


def list_values(indicators: Iterable[ExportedIndicator], kind: str) -> list[str]:
    """The distinct values of ``kind``, sorted: IP networks in CIDR form, URLs without their
    scheme (the form firewall URL lists take), one per line with no comment."""
    check_kind(kind)
    found: set[str] = set()
    for indicator in indicators:
        for item in indicator.items:
            if kind_of(item) != kind:
                continue
            value = value_of(item)
            if "\n" in value or "\r" in value:
                continue  # a line-based format cannot hold it
            if kind == "url":
                value = value.partition("://")[2] or value
            found.add(value)
    return sorted(found)


def to_list(indicators: Iterable[ExportedIndicator], kind: str) -> str:
    """The plain list of ``kind`` (see :func:`list_values`), newline-terminated lines."""
    return "".join(f"{value}\n" for value in list_values(indicators, kind))


# ------------------------------------------------------------------------ IDS rules


def content(value: str) -> str:
    """``value`` as the body of a Suricata/Snort ``content:"…"`` string: characters other
    than letters, digits and ``.-_/~=&?%@+,!*()$`` written as ``|hex|`` bytes, so ``"``,
    ``;``, ``\\``, ``|``, spaces and control characters can never end the option."""
    out: list[str] = []
    for char in value:
        if char in _SAFE_CONTENT:
            out.append(char)
        else:
            out.append("|" + " ".join(f"{b:02X}" for b in char.encode("utf-8")) + "|")
    return "".join(out).replace("||", " ")


def message(text: str) -> str:
    """Text safe inside ``msg:"…"`` (anything else becomes a space)."""
    return " ".join("".join(c if c in _SAFE_MESSAGE else " " for c in text).split())[:180]


def _dns_labels(domain: str) -> str:
    """A domain in DNS wire form for a Snort ``content`` (``|04|evil|03|com|00|``)."""
    out = []
    for label in domain.split("."):
        encoded = label.encode("utf-8")
        out.append(f"|{len(encoded):02X}|" + content(label))
    return "".join(out) + "|00|"


def _address(value: str) -> str | None:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    return str(network) if network.num_addresses > 1 else str(network.network_address)


@dataclass(frozen=True, slots=True)
class _Rule:
    key: str  # stable identity of the rule: indicator id, item, variant
    body: str  # the rule with ``{sid}`` to fill


def _matches(kind: str, value: str, flavour: str) -> list[tuple[str, str, str]]:
    """``(variant, rule header, detection options)`` for one value (none if not network)."""
    if kind in ("ipv4", "ipv6"):
        address = _address(value)
        if address is None:
            return []
        return [
            ("to", f"alert ip $HOME_NET any -> [{address}] any", ""),
            ("from", f"alert ip [{address}] any -> $HOME_NET any", ""),
        ]
    if kind == "domain":
        if flavour == "suricata":
            found = f'dns.query; dotprefix; content:"{content("." + value)}"; nocase; endswith;'
            return [("", "alert dns $HOME_NET any -> any any", found)]
        found = f'content:"{_dns_labels(value)}"; nocase; fast_pattern;'
        return [("", "alert udp $HOME_NET any -> any 53", found)]
    if kind != "url":
        return []
    scheme, _, rest = value.partition("://")
    host, slash, tail = rest.partition("/")
    host = host.rpartition("@")[2].split(":")[0]
    if not host or scheme not in ("http", "https"):
        return []
    uri = slash + tail
    found = "flow:established,to_server;"
    if flavour == "suricata":
        found += f' http.host; content:"{content(host)}"; startswith; endswith;'
        if uri and uri != "/":
            found += f' http.uri; content:"{content(uri)}"; startswith;'
        return [("", "alert http $HOME_NET any -> any any", found)]
    found += f' content:"{content(host)}"; http_header; nocase;'
    if uri and uri != "/":
        found += f' content:"{content(uri)}"; http_uri;'
    return [("", "alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS", found)]


def _rules_for(indicator: ExportedIndicator, item: str, flavour: str) -> list[_Rule]:
    label = message(f"Shieldwall {indicator.tlp.label} {indicator.name}")
    tlp = indicator.tlp.name.lower()
    tail = f"metadata:shieldwall_id {indicator.stix_id}, tlp {tlp}; sid:{{sid}}; rev:1;"
    rules = []
    for variant, header, found in _matches(kind_of(item), value_of(item), flavour):
        msg = f"{label} ({variant})" if variant else label
        options = f'msg:"{msg}"; {found} {tail}' if found else f'msg:"{msg}"; {tail}'
        rules.append(_Rule(f"{indicator.stix_id}|{item}|{variant}", f"{header} ({options})"))
    return rules


def sid_of(key: str) -> int:
    """The preferred rule id of a rule key (``SID_BASE`` + digest)."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    return SID_BASE + digest % SID_SPAN


def to_rules(indicators: Iterable[ExportedIndicator], flavour: str) -> str:
    """Suricata or Snort rules (``flavour``) for every IP, domain and http(s) URL value:
    IPs alert both ways, domains on DNS queries (the domain and its subdomains), URLs on
    HTTP host and URI (HTTPS is encrypted: its URL rules fire only on plain HTTP). Each rule
    has a ``sid`` derived from indicator id and value (stable while the set of rules does
    not collide anew), ``msg`` with TLP and name, ``metadata`` with the indicator id."""
    if flavour not in RULE_FLAVOURS:
        raise InvalidInput(f"no rules flavour {flavour!r}: use suricata or snort")
    rules = sorted(
        (rule for i in indicators for item in i.items for rule in _rules_for(i, item, flavour)),
        key=lambda rule: rule.key,
    )
    used: set[int] = set()
    lines = [f"# Shieldwall {flavour} rules: {len(rules)} rules"]
    for rule in rules:
        sid = sid_of(rule.key)
        while sid in used:
            sid = SID_BASE + (sid - SID_BASE + 1) % SID_SPAN
        used.add(sid)
        lines.append(rule.body.replace("{sid}", str(sid)))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- STIX


def to_bundle(indicators: Sequence[ExportedIndicator], bundle_id: str) -> Json:
    """A STIX 2.1 bundle of the indicators as the reader received them (TLP markings and
    scope extension as stored)."""
    return {"type": "bundle", "id": bundle_id, "objects": [dict(i.obj) for i in indicators]}


# ---------------------------------------------------------------------------- MISP feed


@dataclass(frozen=True, slots=True)
class FeedReport:
    """A report the reader may read: its id, name, publication and the ids it refers to."""

    stix_id: str
    name: str
    published: str | None
    refs: frozenset[str]


def tlp_tag(level: Tlp) -> str:
    """The MISP taxonomy tag of a TLP level (``tlp:amber+strict``)."""
    return "tlp:" + level.name.lower().replace("_", "+")


def _feed_uuid(*parts: str) -> str:
    return stable_id("feed", *parts).partition("--")[2]


def _seconds(stamp: object, default: int) -> int:
    try:
        return parse_timestamp(stamp) // 1_000_000
    except InvalidInput:
        return default // 1_000_000


def _attribute(indicator: ExportedIndicator, item: str, now: int) -> Json | None:
    kind = kind_of(item)
    mapped = _MISP_TYPES.get(kind)
    if mapped is None:
        return None
    misp_type, category = mapped
    stamp = _seconds(indicator.obj.get("modified"), now)
    return {
        "uuid": _feed_uuid(indicator.stix_id, item),
        "type": misp_type,
        "category": category,
        "value": value_of(item),
        "to_ids": not indicator.expired,
        "timestamp": str(stamp),
        "comment": f"{indicator.name} ({indicator.stix_id})"[:250],
        "distribution": "5",
        "Tag": [{"name": tlp_tag(indicator.tlp)}],
    }


def _event(
    event_uuid: str, info: str, date: str, members: list[ExportedIndicator], org: Json, now: int
) -> Json:
    attributes = [
        attribute
        for indicator in members
        for item in indicator.items
        if (attribute := _attribute(indicator, item, now)) is not None
    ]
    level = max((i.tlp for i in members), default=Tlp.CLEAR)
    stamp = max((int(str(a["timestamp"])) for a in attributes), default=now // 1_000_000)
    return {
        "uuid": event_uuid,
        "info": info[:250],
        "date": date,
        "analysis": "2",
        "threat_level_id": "2",
        "published": True,
        "timestamp": str(stamp),
        "publish_timestamp": str(stamp),
        "distribution": "0",
        "Orgc": org,
        "Tag": [{"name": tlp_tag(level)}],
        "Attribute": attributes,
    }


@dataclass(frozen=True, slots=True)
class MispFeed:
    """A MISP feed: ``events`` by uuid (each ``{"Event": …}``), its manifest and hashes."""

    events: dict[str, Json]

    def manifest(self) -> Json:
        """``manifest.json``: event uuid → the event's header and tags."""
        keys = ("info", "date", "analysis", "threat_level_id", "timestamp", "Orgc", "Tag")
        out: Json = {}
        for event_uuid, wrapped in self.events.items():
            event = wrapped["Event"]
            assert isinstance(event, dict)
            out[event_uuid] = {key: event[key] for key in keys}
        return out

    def attributes(self) -> list[tuple[str, Mapping[str, object]]]:
        """``(event uuid, attribute)`` for every attribute of the feed."""
        found: list[tuple[str, Mapping[str, object]]] = []
        for event_uuid, wrapped in self.events.items():
            event = wrapped["Event"]
            assert isinstance(event, dict)
            attributes = event["Attribute"]
            assert isinstance(attributes, list)
            found.extend((event_uuid, attribute) for attribute in attributes)
        return found

    def hashes_csv(self) -> str:
        """``hashes.csv``: ``md5(value),event uuid`` per attribute (MISP's feed cache)."""
        lines = []
        for event_uuid, attribute in self.attributes():
            digest = hashlib.md5(str(attribute["value"]).encode()).hexdigest()  # noqa: S324
            lines.append(f"{digest},{event_uuid}\n")
        return "".join(lines)


def to_misp_feed(
    indicators: Sequence[ExportedIndicator],
    reports: Sequence[FeedReport],
    reader_key: str,
    org: Json,
    now: int,
) -> MispFeed:
    """A MISP feed of the indicators: one event per report (event uuid = the report's uuid)
    holding the exported indicators it refers to, and one event per UTC day of ``created``
    for indicators in no such report (uuid derived from ``reader_key`` and the day, so each
    reader's feed is stable). Attributes carry ``to_ids`` (false for expired indicators,
    present only when asked for), their TLP tag and the indicator id in the comment; an
    event is tagged with its most restrictive TLP. ``org`` is the ``Orgc`` of every event
    (the hub: exports never name submitters)."""
    by_id = {i.stix_id: i for i in indicators}
    events: dict[str, Json] = {}
    placed: set[str] = set()
    for report in sorted(reports, key=lambda r: r.stix_id):
        members = [by_id[ref] for ref in sorted(report.refs) if ref in by_id]
        if not members:
            continue
        placed.update(i.stix_id for i in members)
        event_uuid = report.stix_id.partition("--")[2]
        date = (report.published or format_stix_timestamp(now))[:10]
        events[event_uuid] = {"Event": _event(event_uuid, report.name, date, members, org, now)}
    loose: dict[str, list[ExportedIndicator]] = {}
    for indicator in indicators:
        if indicator.stix_id not in placed:
            day = str(indicator.obj.get("created", format_stix_timestamp(now)))[:10]
            loose.setdefault(day, []).append(indicator)
    for day, members in sorted(loose.items()):
        event_uuid = _feed_uuid(reader_key, "day", day)
        info = f"Shieldwall indicators of {day}"
        events[event_uuid] = {"Event": _event(event_uuid, info, day, members, org, now)}
    return MispFeed({k: v for k, v in events.items() if v["Event"]["Attribute"]})  # type: ignore[index]


def json_bytes(document: object) -> bytes:
    """Compact JSON."""
    return orjson.dumps(document)
