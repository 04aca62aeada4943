"""Shared pieces of the alert tests: a community with two government partners, banks in
three countries, a law firm and an operator; the victim's declared assets; a real local
webhook receiver that checks signatures; an SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from conftest import free_port
from shieldwall.domain.alerts import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AlertContent,
    IndicatorSpec,
    verify_signature,
)
from shieldwall.domain.organisations import Organisation
from shieldwall.services import admin, alerts
from shieldwall.services.alerts import SentAlert
from shieldwall.services.context import Hub

VICTIM_DOMAIN = "albionbank.example"
VICTIM_RANGE = "203.0.113.0/24"
VICTIM_KEYWORD = "ACC-4471"
ATTACKER_IP = "185.220.101.45"
ATTACKER_DOMAIN = "evil-invoices.example"


@dataclass
class Community:
    """The organisations of the alert tests (``victim`` is Albion Bank, GB)."""

    agency: Organisation  # government, US: sends alerts
    agency2: Organisation  # government, GB: another government partner
    victim: Organisation  # financial, GB
    us_bank: Organisation  # financial, US
    us_bank2: Organisation  # financial, US
    de_bank: Organisation  # financial, DE: a foreign bank
    fr_bank: Organisation  # financial, FR: outside the usual scope
    law: Organisation  # legal, US
    insurer: Organisation  # insurance, GB
    operator: Organisation  # operator
    everyone: list[Organisation] = field(default_factory=list)


def build_community(hub: Hub) -> Community:
    """Admit the community and declare the victim's assets."""
    members = {
        "agency": ("US Cyber Agency", "government", "US", "government"),
        "agency2": ("UK Crime Agency", "government", "GB", "government"),
        "victim": ("Albion Bank plc", "financial", "GB", "member"),
        "us_bank": ("First Federal Bank", "financial", "US", "member"),
        "us_bank2": ("Hudson Valley Trust", "financial", "US", "member"),
        "de_bank": ("Rheinland Handelsbank AG", "financial", "DE", "member"),
        "fr_bank": ("Banque de Lyon", "financial", "FR", "member"),
        "law": ("Carter & Lowe LLP", "legal", "US", "member"),
        "insurer": ("Thames Insurance", "insurance", "GB", "member"),
        "operator": ("Hub Operator", "other", "US", "operator"),
    }
    made = {
        handle: admin.add_organisation(hub, name, sector, country, role)
        for handle, (name, sector, country, role) in members.items()
    }
    admin.declare_assets(hub, "Albion Bank plc", [VICTIM_DOMAIN], [VICTIM_RANGE], [VICTIM_KEYWORD])
    return Community(**made, everyone=list(made.values()))


def notification_content() -> AlertContent:
    """What the agency tells the victim (it may name the victim's own assets)."""
    return AlertContent(
        title="Intrusion at Albion Bank plc through the VPN",
        description=(
            f"Our investigation found vpn.{VICTIM_DOMAIN} (203.0.113.10) exchanging data with"
            f" {ATTACKER_IP}. Account {VICTIM_KEYWORD} was used."
        ),
        indicators=(IndicatorSpec(ATTACKER_IP), IndicatorSpec(ATTACKER_DOMAIN)),
        actions=("Reset every VPN credential", "Block the indicators at the perimeter"),
    )


def notify(hub: Hub, community: Community) -> SentAlert:
    """The agency notifies the victim."""
    return alerts.send_notification(
        hub, community.agency, community.victim.name, notification_content()
    )


@dataclass
class Received:
    """One request the webhook receiver got."""

    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    def json(self) -> Any:
        return orjson.loads(self.body)


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 that verifies each request's signature and
    answers with the next status of ``statuses`` (200 once they run out)."""

    def __init__(self, statuses: list[int]) -> None:
        self.secret = ""
        self.statuses = list(statuses)
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                timestamp = self.headers.get(TIMESTAMP_HEADER, "")
                verified = verify_signature(
                    receiver.secret,
                    timestamp,
                    body,
                    self.headers.get(SIGNATURE_HEADER, ""),
                    int(timestamp) if timestamp.isdigit() else 0,
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if not verified:
                    status = 401
                receiver.received.append(
                    Received(dict(self.headers.items()), body, verified, status)
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/shieldwall"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def deliveries(self) -> set[str]:
        return {r.headers.get(DELIVERY_HEADER, "") for r in self.received}


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        data = content if isinstance(content, bytes) else str(content).encode()
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(data)))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[tuple[list[str], Message]]]]:
    """An aiosmtpd server on 127.0.0.1: ``(port, received messages)``."""
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox.messages
    finally:
        controller.stop()
