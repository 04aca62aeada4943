"""Government alerts, the pure part: what a victim notification and an advisory are in
STIX, who an advisory reaches, acknowledgement figures, and how deliveries are signed,
retried and worded.

A **victim notification** is a STIX ``report`` (label ``victim-notification``) with its
indicators and recommended actions (``course-of-action``) as separate objects referenced
by ``object_refs``; the hub marks all of them TLP:RED with the scope
``organizations=[victim]``, so the sharing policy alone decides that the victim and the
sender read it and nobody else does. An **advisory** is the same shape (label
``advisory``) at TLP:CLEAR, GREEN, AMBER or AMBER+STRICT with a scope of sectors,
countries, groups and organisations. Neither carries anything that links an advisory to
the notifications it was written from: that link is kept by the hub, privately.

Pure: time, ids and the organisations arrive as arguments.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.patterns import comparisons, parse_pattern
from shieldwall.domain.policy import AccessLabel, Destination, may_leave, may_read
from shieldwall.domain.timestamps import format_stix_timestamp
from shieldwall.domain.tlp import Tlp

MAX_TITLE = 300
MAX_DESCRIPTION = 50_000
MAX_INDICATORS = 1000
MAX_ACTIONS = 100
MAX_LABELS = 20
MAX_REFERENCES = 50
SIGNATURE_HEADER = "X-Shieldwall-Signature"
TIMESTAMP_HEADER = "X-Shieldwall-Timestamp"
DELIVERY_HEADER = "X-Shieldwall-Delivery"
EVENT_HEADER = "X-Shieldwall-Event"


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Alert settings (``SHIELDWALL_ALERT_*``, ``SHIELDWALL_SMTP_*``; docs/configuration.md).

    ``victim_window_days``: an advisory is checked against the victims of its linked
    notifications and of every notification its sender sent in this many days (0: linked
    ones only). ``webhook_private_targets``: allow webhooks to loopback, private and
    link-local addresses (off: a member could otherwise make the hub probe its own network).
    """

    delivery_interval_seconds: int = 5
    retry_base_seconds: int = 30
    max_attempts: int = 8
    webhook_timeout_seconds: int = 10
    webhook_private_targets: bool = False
    victim_window_days: int = 30
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "shieldwall@localhost"
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)


class AlertKind(StrEnum):
    """The two kinds of government alert."""

    NOTIFICATION = "notification"
    ADVISORY = "advisory"

    @property
    def label(self) -> str:
        """The STIX ``labels`` entry that marks the report as this kind of alert."""
        return "victim-notification" if self is AlertKind.NOTIFICATION else "advisory"

    @property
    def words(self) -> str:
        """How people call it."""
        return "victim notification" if self is AlertKind.NOTIFICATION else "advisory"


# --- content ------------------------------------------------------------------------

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[\w.+-]+@([a-z0-9-]+\.)+[a-z]{2,63}$", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-f]+$", re.IGNORECASE)
_HASHES = {32: "file:hashes.MD5", 40: "file:hashes.'SHA-1'", 64: "file:hashes.'SHA-256'"}
_HASHES[128] = "file:hashes.'SHA-512'"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def indicator_pattern(text: str) -> str:
    """A STIX pattern for an indicator given as a pattern (``[ipv4-addr:value = '…']``,
    checked by the hub's parser) or as a plain value: an IP address or CIDR range, URL,
    e-mail address, MD5/SHA-1/SHA-256/SHA-512 hash or domain name.

    Raises ``PatternSyntaxError`` for a pattern that does not parse and ``InvalidInput``
    for a value that is none of those.
    """
    value = text.strip()
    if not value:
        raise InvalidInput("an indicator is empty")
    if value.startswith(("[", "(")):
        parse_pattern(value)
        return value
    prop: str | None = None
    try:
        address = ipaddress.ip_network(value, strict=False) if "/" in value else None
        if address is None:
            address = ipaddress.ip_network(ipaddress.ip_address(value))
            value = str(address.network_address)
        else:
            value = str(address)
        prop = "ipv4-addr:value" if address.version == 4 else "ipv6-addr:value"
    except ValueError:
        if "://" in value:
            prop = "url:value"
        elif _EMAIL.match(value):
            prop = "email-addr:value"
        elif _HEX.match(value) and len(value) in _HASHES:
            prop, value = _HASHES[len(value)], value.lower()
        elif _DOMAIN.match(value.lower().rstrip(".")):
            prop, value = "domain-name:value", value.lower().rstrip(".")
    if prop is None:
        raise InvalidInput(
            f"indicator {text!r} is neither a STIX pattern nor an IP address or range, URL,"
            " e-mail address, hash or domain name"
        )
    pattern = f"[{prop} = '{_escape(value)}']"
    parse_pattern(pattern)
    return pattern


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One indicator of an alert: a STIX pattern (see ``indicator_pattern``), and optional
    name and description."""

    pattern: str
    name: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Reference:
    """An external reference (STIX 2.1 §2.5): a source name and a URL, id or description."""

    source_name: str
    url: str = ""
    external_id: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class AlertContent:
    """What the author writes: a title and description, indicators, recommended actions,
    labels and external references."""

    title: str
    description: str = ""
    indicators: tuple[IndicatorSpec, ...] = ()
    actions: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()

    def checked(self) -> AlertContent:
        """The content with text trimmed; ``InvalidInput`` naming the first problem."""
        title = self.title.strip()
        if not title or len(title) > MAX_TITLE:
            raise InvalidInput(f"the title must be 1-{MAX_TITLE} characters")
        if len(self.description) > MAX_DESCRIPTION:
            raise InvalidInput(f"the description is longer than {MAX_DESCRIPTION} characters")
        if len(self.indicators) > MAX_INDICATORS:
            raise InvalidInput(f"at most {MAX_INDICATORS} indicators per alert")
        if len(self.actions) > MAX_ACTIONS:
            raise InvalidInput(f"at most {MAX_ACTIONS} recommended actions per alert")
        if len(self.labels) > MAX_LABELS or len(self.references) > MAX_REFERENCES:
            raise InvalidInput(
                f"at most {MAX_LABELS} labels and {MAX_REFERENCES} references per alert"
            )
        indicators = tuple(
            IndicatorSpec(indicator_pattern(i.pattern), i.name.strip(), i.description.strip())
            for i in self.indicators
        )
        actions = tuple(a.strip() for a in self.actions)
        if any(not a or len(a) > MAX_DESCRIPTION for a in actions):
            raise InvalidInput(f"a recommended action must be 1-{MAX_DESCRIPTION} characters")
        labels = tuple(label.strip() for label in self.labels)
        if any(not label or len(label) > 100 for label in labels):
            raise InvalidInput("a label must be 1-100 characters")
        for reference in self.references:
            if not reference.source_name.strip():
                raise InvalidInput("an external reference needs a source_name")
            if not (reference.url or reference.external_id or reference.description):
                raise InvalidInput(
                    "an external reference needs a url, an external_id or a description"
                )
        return replace(
            self,
            title=title,
            description=self.description.strip(),
            indicators=indicators,
            actions=actions,
            labels=labels,
        )


def _default_name(pattern: str, number: int) -> str:
    values = [
        c.value for c in comparisons(parse_pattern(pattern)) if isinstance(c.value, str) and c.value
    ]
    return values[0][:250] if values else f"Indicator {number}"


def alert_objects(
    content: AlertContent,
    kind: AlertKind,
    *,
    created: int,
    new_id: Callable[[str], str],
    created_by_ref: str,
    fallback_ref: str,
) -> list[dict[str, object]]:
    """The STIX objects of an alert: the ``report`` first, then its indicators and
    courses of action, all created at ``created`` (microseconds, written to the
    millisecond) by ``created_by_ref``. A report must refer to something: without
    indicators and actions it refers to ``fallback_ref`` (an identity). ``content`` must
    have passed ``checked``. TLP and scope are written in by the caller."""
    stamp = format_stix_timestamp(created - created % 1000)
    common: dict[str, object] = {
        "spec_version": "2.1",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": created_by_ref,
    }
    parts: list[dict[str, object]] = []
    for number, spec in enumerate(content.indicators, start=1):
        indicator: dict[str, object] = {
            "type": "indicator",
            "id": new_id("indicator"),
            **common,
            "name": spec.name or _default_name(spec.pattern, number),
            "indicator_types": ["malicious-activity"],
            "pattern": spec.pattern,
            "pattern_type": "stix",
            "valid_from": stamp,
        }
        if spec.description:
            indicator["description"] = spec.description
        parts.append(indicator)
    for action in content.actions:
        first_line = action.splitlines()[0].strip() if action.splitlines() else action
        parts.append(
            {
                "type": "course-of-action",
                "id": new_id("course-of-action"),
                **common,
                "name": first_line[:120] or "Recommended action",
                "description": action,
            }
        )
    report: dict[str, object] = {
        "type": "report",
        "id": new_id("report"),
        **common,
        "name": content.title,
    }
    if content.description:
        report["description"] = content.description
    report["report_types"] = ["threat-report"]
    report["published"] = stamp
    report["labels"] = [kind.label, *content.labels]
    report["object_refs"] = [str(p["id"]) for p in parts] or [fallback_ref]
    if content.references:
        report["external_references"] = [
            {
                k: v
                for k, v in (
                    ("source_name", r.source_name.strip()),
                    ("url", r.url.strip()),
                    ("external_id", r.external_id.strip()),
                    ("description", r.description.strip()),
                )
                if v
            }
            for r in content.references
        ]
    return [report, *parts]


# --- reach ----------------------------------------------------------------------------


def addressed(organisation: Organisation, label: AccessLabel) -> bool:
    """Whether the alert is *meant for* ``organisation``: it may read it by the sharing
    rule as a member would (operators read most things by role, which does not make them
    recipients)."""
    return may_read(replace(organisation, role=Role.MEMBER), label)


@dataclass(frozen=True, slots=True)
class Releasability:
    """Who an alert reaches: the addressed organisations other than the sender, by
    country and sector, and whether it may leave the hub at all."""

    organisations: tuple[str, ...]
    by_country: dict[str, int]
    by_sector: dict[str, int]
    partner_hubs: bool
    public_feed: bool

    @property
    def summary(self) -> str:
        """``will reach 14 organisations in 3 countries``."""
        n, c = len(self.organisations), len(self.by_country)
        return (
            f"will reach {n} organisation{'' if n == 1 else 's'}"
            f" in {c} countr{'y' if c == 1 else 'ies'}"
        )

    def to_json(self) -> dict[str, object]:
        """As plain data (for the author)."""
        return {
            "summary": self.summary,
            "organizations": len(self.organisations),
            "countries": len(self.by_country),
            "sectors": len(self.by_sector),
            "by_country": self.by_country,
            "by_sector": self.by_sector,
            "names": list(self.organisations),
            "leaves_hub": {"partner_hubs": self.partner_hubs, "public_feed": self.public_feed},
        }


def recipients(label: AccessLabel, organisations: Iterable[Organisation]) -> list[Organisation]:
    """The organisations an alert labelled ``label`` is meant for (``addressed``), except
    its sender; sorted by name."""
    return sorted(
        (o for o in organisations if o.id != label.submitter_org_id and addressed(o, label)),
        key=lambda o: o.name,
    )


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def releasability(label: AccessLabel, organisations: Iterable[Organisation]) -> Releasability:
    """Who an alert labelled ``label`` would reach among ``organisations``."""
    reached = recipients(label, organisations)
    return Releasability(
        tuple(o.name for o in reached),
        _count(o.country for o in reached),
        _count(o.sector.value for o in reached),
        may_leave(label, Destination.PARTNER_HUB),
        may_leave(label, Destination.PUBLIC_FEED),
    )


@dataclass(frozen=True, slots=True)
class AckFigures:
    """Acknowledgements of one alert, for its sender: how many of the ``recipients``
    acknowledged, by sector and country, and the names of those that chose to be named."""

    acknowledged: int
    recipients: int
    by_sector: dict[str, int]
    by_country: dict[str, int]
    named: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """As plain data."""
        return {
            "acknowledged": self.acknowledged,
            "recipients": self.recipients,
            "by_sector": self.by_sector,
            "by_country": self.by_country,
            "named": list(self.named),
        }


def ack_figures(acks: Iterable[tuple[Organisation, bool]], recipient_count: int) -> AckFigures:
    """Figures from ``(organisation, chose to be named)`` pairs."""
    pairs = list(acks)
    return AckFigures(
        len(pairs),
        recipient_count,
        _count(o.sector.value for o, _ in pairs),
        _count(o.country for o, _ in pairs),
        tuple(sorted(o.name for o, named in pairs if named)),
    )


# --- delivery -------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 under ``secret`` of ``"<timestamp>." + body``, sent in
    ``X-Shieldwall-Signature`` with ``X-Shieldwall-Timestamp: <timestamp>`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp_header: str,
    body: bytes,
    signature_header: str,
    now_seconds: int,
    tolerance_seconds: int = 300,
) -> bool:
    """What a receiver checks: the signature matches (constant-time) and the timestamp is
    within ``tolerance_seconds`` of ``now_seconds`` (so a captured request cannot be
    replayed later)."""
    if not timestamp_header.isdigit():
        return False
    timestamp = int(timestamp_header)
    if abs(now_seconds - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header)


def retry_delay(attempts: int, base_seconds: int, cap_seconds: int = 6 * 3600) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt: ``base`` doubled per
    attempt (1st failure: base, 2nd: 2×base, …), at most ``cap_seconds``."""
    return int(min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1)))


def email_message(
    kind: AlertKind,
    tlp: Tlp,
    alert_id: str,
    sender: str,
    objects: list[dict[str, object]],
    hub_name: str,
) -> tuple[str, str]:
    """Subject and plain-text body of an e-mail about an alert.

    Only TLP:CLEAR and TLP:GREEN alerts are written out in full (title, description,
    indicators, actions). For AMBER, AMBER+STRICT and RED the mail is a pointer (kind,
    TLP, sender, id): mail is relayed and stored by systems outside the hub's and the
    recipient's control, and those levels must stay where the policy is enforced (the
    inbox, TAXII, signed webhooks).
    """
    subject = f"[{hub_name}] {tlp.label} {kind.words} from {sender}"
    pointer = (
        f"Read it in your Shieldwall inbox (shieldwall alerts show {alert_id}),\n"
        f"or over TAXII in the 'alerts' collection, with your organisation's API key.\n"
    )
    if tlp > Tlp.GREEN:
        body = (
            f"You have a {tlp.label} {kind.words} from {sender}.\n\n"
            f"Alert: {alert_id}\n\n{pointer}\n"
            f"Its content is not sent by e-mail: {tlp.label} information stays in the hub.\n"
        )
        return subject, body
    report = next((o for o in objects if o.get("type") == "report"), {})
    lines = [f"{tlp.label} {kind.words} from {sender}", "", str(report.get("name", ""))]
    if report.get("description"):
        lines += ["", str(report["description"])]
    patterns = [str(o["pattern"]) for o in objects if o.get("type") == "indicator"]
    if patterns:
        lines += ["", "Indicators:", *(f"  {p}" for p in patterns)]
    actions = [
        str(o.get("description", "")) for o in objects if o.get("type") == "course-of-action"
    ]
    if actions:
        lines += ["", "Recommended actions:", *(f"  - {a}" for a in actions)]
    lines += ["", f"Alert: {alert_id}", "", pointer]
    return subject, "\n".join(lines)
