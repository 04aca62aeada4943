"""Delivering alerts to the channels organisations configure: signed webhooks and e-mail.

Contracts:

- Channels belong to one organisation and are managed by it (or by an operator). A
  webhook's secret is made by the hub, shown once, and stored as it is: it must sign
  every request. Nothing lists it again.
- Publishing an alert queues one delivery per recipient organisation and channel
  (``services.alerts``). ``deliver_due`` leases due deliveries in one short transaction,
  sends with no transaction open, and records each attempt in another. A crashed worker's
  lease runs out and another takes the delivery over (at least once: receivers
  deduplicate on ``X-Shieldwall-Delivery``).
- The payload is built *for the recipient, at send time*, through ``services.reading``
  (``alerts.alert_bundle``): it holds exactly what that organisation may read then. An
  organisation that may no longer read the alert gets nothing (the delivery is skipped).
- Webhooks: ``POST`` of JSON with ``X-Shieldwall-Timestamp`` (Unix seconds) and
  ``X-Shieldwall-Signature: sha256=<HMAC-SHA256(secret, timestamp + "." + body)>``; any
  2xx answer delivers; anything else, a timeout or a refused connection is retried after
  ``retry_base_seconds`` doubled per failure, up to ``max_attempts``. Targets on
  loopback, private or link-local addresses are refused unless
  ``webhook_private_targets`` is on.
- E-mail over SMTP: the full text only for TLP:CLEAR and GREEN; a pointer otherwise
  (``domain.alerts.email_message`` says why).
- An organisation reads its own delivery log and nobody else's.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

import httpx
import orjson

from shieldwall.domain.alerts import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AlertKind,
    email_message,
    retry_delay,
    signature,
)
from shieldwall.domain.errors import Forbidden, InvalidInput, NotFound
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.domain.tlp import Tlp
from shieldwall.services import alerts, audit
from shieldwall.services.context import Hub
from shieldwall.services.ports import (
    AlertRecord,
    ChannelRecord,
    DeliveryAttempt,
    DeliveryRecord,
    ReadTx,
)

log = logging.getLogger("shieldwall.delivery")
KINDS = ("webhook", "email")
MAX_CHANNELS = 20
_EMAIL = re.compile(r"^[\w.+-]+@([a-z0-9-]+\.)+[a-z]{2,63}$", re.IGNORECASE)
_SECOND = 1_000_000


@dataclass(frozen=True, slots=True)
class NewChannel:
    """A channel just added; ``secret`` (webhooks) is shown this once."""

    record: ChannelRecord
    secret: str | None


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A delivery in its organisation's log, with every attempt."""

    record: DeliveryRecord
    attempts: list[DeliveryAttempt]


@dataclass(frozen=True, slots=True)
class DeliveryPass:
    """What one ``deliver_due`` pass did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed + self.skipped


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one send went: ``skip`` when the channel cannot work at all (no SMTP server)."""

    ok: bool
    detail: str
    skip: bool = False


# --- channels ----------------------------------------------------------------------------


def _owner(tx: ReadTx, actor: Organisation, organisation: str | None) -> Organisation:
    if organisation is None or organisation == actor.name:
        return actor
    if actor.role is not Role.OPERATOR:
        raise Forbidden("only operators manage another organisation's delivery channels")
    found = tx.organisation_by_name(organisation)
    if found is None:
        raise NotFound(f"no organisation named {organisation!r}")
    return found


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not address.is_global or address.is_multicast


def _check_webhook(url: str, private_targets: bool) -> str:
    clean = url.strip()
    parts = urlsplit(clean)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(clean) > 2000:
        raise InvalidInput(f"webhook {url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise InvalidInput("a webhook URL must not carry credentials: the hub signs each request")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    local = parts.hostname == "localhost" or (literal is not None and _private(literal))
    if local and not private_targets:
        raise InvalidInput(
            f"webhook {url!r} points at a loopback, private or link-local address; this hub"
            " delivers only to public addresses"
        )
    if parts.scheme == "http" and not local:
        raise InvalidInput("a webhook to a public address must use https")
    return clean


def add_channel(
    hub: Hub, actor: Organisation, kind: str, target: str, organisation: str | None = None
) -> NewChannel:
    """Add a delivery channel to ``actor`` (or, for an operator, to ``organisation``):
    ``webhook`` with a URL (a signing secret is generated and returned once) or ``email``
    with an address. ``InvalidInput`` for a bad URL or address."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown channel kind {kind!r}: use webhook or email")
    if kind == "webhook":
        clean = _check_webhook(target, hub.config.alerts.webhook_private_targets)
        secret: str | None = "whsec_" + hub.ids.secret(32)
    else:
        clean = target.strip()
        if len(clean) > 254 or not _EMAIL.match(clean):
            raise InvalidInput(f"{target!r} is not an e-mail address")
        secret = None
    with hub.store.write() as tx:
        owner = _owner(tx, actor, organisation)
        if len(tx.alert_channels([owner.id])) >= MAX_CHANNELS:
            raise InvalidInput(f"at most {MAX_CHANNELS} channels per organisation")
        now = hub.clock.now()
        record = ChannelRecord(hub.ids.uuid4(), owner.id, kind, clean, secret, now)
        tx.add_alert_channel(record)
        audit.record(
            tx,
            now,
            actor.name,
            "alert.channel.add",
            {"organisation": owner.name, "channel": record.id, "kind": kind},
        )
    return NewChannel(record, secret)


def list_channels(
    hub: Hub, actor: Organisation, organisation: str | None = None
) -> list[ChannelRecord]:
    """The channels of ``actor`` (or, for an operator, of ``organisation``)."""
    with hub.store.read() as tx:
        owner = _owner(tx, actor, organisation)
        return tx.alert_channels([owner.id])


def remove_channel(hub: Hub, actor: Organisation, channel_id: str) -> None:
    """Remove one of ``actor``'s channels (operators: anyone's); pending deliveries over it
    are skipped. ``NotFound`` for a channel that is not the actor's."""
    with hub.store.write() as tx:
        channel = tx.alert_channel(channel_id)
        if channel is None or (channel.org_id != actor.id and actor.role is not Role.OPERATOR):
            raise NotFound(f"no channel {channel_id}")
        owner = tx.organisation(channel.org_id)
        tx.delete_alert_channel(channel_id)
        audit.record(
            tx,
            hub.clock.now(),
            actor.name,
            "alert.channel.remove",
            {"organisation": owner.name if owner else "", "channel": channel_id},
        )


def deliveries(hub: Hub, reader: Organisation, limit: int = 100) -> list[DeliveryView]:
    """The reader's own deliveries, newest first, with their attempts."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be 1-1000")
    with hub.store.read() as tx:
        records = tx.deliveries(reader.id, limit)
        attempts = tx.delivery_attempts([r.id for r in records])
    return [DeliveryView(r, attempts.get(r.id, [])) for r in records]


# --- sending -------------------------------------------------------------------------------


def payload(
    delivery: DeliveryRecord, record: AlertRecord, sender: str, objects: list[dict[str, object]]
) -> dict[str, object]:
    """The JSON a webhook receives: the alert's kind, TLP, sender and id, and a STIX
    bundle of what the recipient may read (``bundle--<delivery id>``)."""
    return {
        "delivery": delivery.id,
        "alert": {
            "id": record.stix_id,
            "kind": record.kind,
            "tlp": Tlp(record.tlp).label,
            "sender": sender,
            "created": format_timestamp(record.created_at),
        },
        "bundle": {"type": "bundle", "id": f"bundle--{delivery.id}", "objects": objects},
    }


def _public_host(host: str, port: int) -> str | None:
    """Why ``host`` may not be called (it resolves to a non-public address), or None."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        return f"cannot resolve {host}: {exc.strerror or exc}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if _private(address):
            return f"{host} resolves to a non-public address; refused"
    return None


def post_webhook(
    hub: Hub, target: str, delivery_id: str, secret: str, body: bytes, event: str
) -> Outcome:
    """POST ``body`` to ``target`` signed with ``secret`` (headers in docs/alerts.md); refuses
    non-public targets unless the hub allows them. Call outside any transaction."""
    config = hub.config.alerts
    parts = urlsplit(target)
    if not config.webhook_private_targets:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        refused = _public_host(parts.hostname or "", port)
        if refused:
            return Outcome(False, refused)
    timestamp = hub.clock.now() // _SECOND
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Shieldwall-Webhook/1",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: event,
    }
    try:
        with httpx.Client(
            timeout=config.webhook_timeout_seconds, follow_redirects=False, trust_env=False
        ) as client:
            response = client.post(target, content=body, headers=headers)
    except httpx.TimeoutException:
        return Outcome(False, f"no answer within {config.webhook_timeout_seconds} s")
    except httpx.HTTPError as exc:
        return Outcome(False, f"connection failed ({type(exc).__name__})")
    ok = 200 <= response.status_code < 300
    return Outcome(ok, f"HTTP {response.status_code}")


def send_mail(hub: Hub, to: str, delivery_id: str, subject: str, text: str) -> Outcome:
    """Send a plain-text e-mail over the hub's SMTP server. Call outside any transaction."""
    config = hub.config.alerts
    if not config.smtp_host:
        return Outcome(False, "this hub has no SMTP server (SHIELDWALL_SMTP_HOST)", skip=True)
    message = EmailMessage()
    message["From"] = config.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(hub.clock.now() / _SECOND)
    message["Message-ID"] = make_msgid(domain=config.smtp_from.rpartition("@")[2] or None)
    message[DELIVERY_HEADER] = delivery_id
    message.set_content(text)
    timeout = config.webhook_timeout_seconds
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=timeout) as smtp:
            if config.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        return Outcome(False, f"SMTP {exc.smtp_code}")
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, f"SMTP failed ({type(exc).__name__})")
    return Outcome(True, "accepted by the SMTP server")


def _attempt(hub: Hub, delivery: DeliveryRecord) -> Outcome:
    """One attempt, outside any transaction."""
    with hub.store.read() as tx:
        recipient = tx.organisation(delivery.org_id)
        channel = tx.alert_channel(delivery.channel_id) if delivery.channel_id else None
        record = tx.alert(delivery.alert_id)
        sender = tx.organisation(record.sender_org_id) if record else None
    if channel is None:
        return Outcome(False, "the channel was removed", skip=True)
    if recipient is None or record is None:
        return Outcome(False, "the alert or its recipient is gone", skip=True)
    try:
        served = alerts.alert_bundle(hub, recipient, delivery.alert_id)
    except NotFound:
        return Outcome(False, "the organisation may no longer read this alert", skip=True)
    objects: list[dict[str, object]] = [orjson.loads(s.body) for s in served]
    sender_name = sender.name if sender else ""
    kind = AlertKind(record.kind)
    if channel.kind == "webhook":
        body = orjson.dumps(payload(delivery, record, sender_name, objects))
        return post_webhook(
            hub, delivery.target, delivery.id, channel.secret or "", body, f"alert.{kind.value}"
        )
    subject, text = email_message(
        kind, Tlp(record.tlp), record.stix_id, sender_name, objects, hub.config.hub_name
    )
    return send_mail(hub, delivery.target, delivery.id, subject, text)


def deliver_due(hub: Hub, limit: int = 50) -> DeliveryPass:
    """One pass: finish alerts a crash left half-published, then attempt up to ``limit``
    due deliveries and record each outcome (see the module docstring)."""
    recovered = alerts.recover(hub)
    config = hub.config.alerts
    now = hub.clock.now()
    with hub.store.read() as tx:  # an idle hub takes no write lock
        due = tx.next_delivery_due()
    if due is None or due > now:
        return DeliveryPass(recovered=recovered)
    lease = now + (2 * config.webhook_timeout_seconds + 60) * _SECOND
    with hub.store.write() as tx:
        claimed = tx.claim_deliveries(now, lease, limit)
    counts = {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
    for delivery in claimed:
        try:
            outcome = _attempt(hub, delivery)
        except Exception as exc:  # one broken delivery must not stop the others
            log.exception("delivery %s failed unexpectedly", delivery.id)
            outcome = Outcome(False, f"internal error ({type(exc).__name__})")
        at = hub.clock.now()
        if outcome.ok:
            status, finished = "delivered", replace(delivery, delivered_at=at, last_error=None)
        elif outcome.skip:
            status, finished = "skipped", replace(delivery, last_error=outcome.detail)
        elif delivery.attempts >= config.max_attempts:
            status, finished = "failed", replace(delivery, last_error=outcome.detail)
        else:
            delay = retry_delay(delivery.attempts, config.retry_base_seconds)
            status = "retrying"
            finished = replace(
                delivery,
                status="pending",
                next_attempt_at=at + delay * _SECOND,
                last_error=outcome.detail,
            )
        if status != "retrying":
            finished = replace(finished, status=status)
        counts[status] += 1
        if not outcome.ok:
            log.info("delivery %s attempt %d: %s", delivery.id, delivery.attempts, outcome.detail)
        with hub.store.write() as tx:
            tx.finish_delivery(finished)
            tx.add_delivery_attempt(
                DeliveryAttempt(delivery.id, delivery.attempts, at, outcome.ok, outcome.detail)
            )
    return DeliveryPass(
        counts["delivered"], counts["retrying"], counts["failed"], counts["skipped"], recovered
    )
