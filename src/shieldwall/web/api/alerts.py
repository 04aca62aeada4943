"""Government alerts over REST: notifications, advisories (with leak check and reach),
the inbox, acknowledgements, delivery channels and the delivery log (docs/alerts.md)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from shieldwall.domain.alerts import (
    MAX_ACTIONS,
    MAX_DESCRIPTION,
    MAX_INDICATORS,
    MAX_LABELS,
    MAX_REFERENCES,
    MAX_TITLE,
    AlertContent,
    AlertKind,
    IndicatorSpec,
    Reference,
)
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.domain.tlp import Tlp
from shieldwall.services import alerts, delivery
from shieldwall.services.alerts import AdvisoryRequest, SentAlert
from shieldwall.services.ports import AckRecord, ChannelRecord
from shieldwall.web.api.scope_fields import ScopeFields
from shieldwall.web.api.wire import json_response
from shieldwall.web.deps import current_org, hub_of

router = APIRouter(prefix="/api/v1/alerts", tags=["Government alerts"])
Caller = Annotated[Organisation, Depends(current_org)]


class IndicatorIn(BaseModel):
    """An indicator: a STIX pattern or a plain value (IP, range, domain, URL, e-mail, hash)."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(min_length=1, max_length=10_000)
    name: str = Field(default="", max_length=250)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)


class ReferenceIn(BaseModel):
    """An external reference: a source name and a URL, an external id or a description."""

    model_config = ConfigDict(extra="forbid")

    source_name: str = Field(min_length=1, max_length=200)
    url: str = Field(default="", max_length=2000)
    external_id: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=5000)


class ContentIn(BaseModel):
    """What every alert says."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=MAX_TITLE)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    indicators: list[str | IndicatorIn] = Field(default_factory=list, max_length=MAX_INDICATORS)
    actions: list[str] = Field(
        default_factory=list, max_length=MAX_ACTIONS, description="recommended actions"
    )
    labels: list[str] = Field(default_factory=list, max_length=MAX_LABELS)
    references: list[ReferenceIn] = Field(default_factory=list, max_length=MAX_REFERENCES)

    def content(self) -> AlertContent:
        return AlertContent(
            title=self.title,
            description=self.description,
            indicators=tuple(
                IndicatorSpec(i) if isinstance(i, str) else IndicatorSpec(**i.model_dump())
                for i in self.indicators
            ),
            actions=tuple(self.actions),
            labels=tuple(self.labels),
            references=tuple(Reference(**r.model_dump()) for r in self.references),
        )


class NotificationIn(ContentIn):
    """A TLP:RED notification to one organisation (its name or identity id)."""

    victim: str = Field(min_length=1, max_length=200)


class AdvisoryIn(ContentIn):
    """An advisory to a scope, linked (privately) to the notifications it comes from."""

    tlp: str = Field(default="amber", description="clear, green, amber or amber+strict")
    scope: ScopeFields = Field(default_factory=ScopeFields)
    notifications: list[str] = Field(default_factory=list, max_length=1000)

    def request(self) -> AdvisoryRequest:
        return AdvisoryRequest(
            self.content(), Tlp.parse(self.tlp), self.scope.to_scope(), tuple(self.notifications)
        )


class AckIn(BaseModel):
    """An acknowledgement; ``named``: the sender may see who acknowledged."""

    model_config = ConfigDict(extra="forbid")

    named: bool = False


class ChannelIn(BaseModel):
    """A delivery channel: ``webhook`` (an https URL) or ``email`` (an address).
    Operators may set ``organization`` (a name) to configure another organisation's."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    target: str = Field(min_length=1, max_length=2000)
    organization: str | None = None


def _sent(sent: SentAlert) -> dict[str, object]:
    record = sent.record
    return {
        "id": record.stix_id,
        "kind": record.kind,
        "tlp": Tlp(record.tlp).label,
        "created": format_timestamp(record.created_at),
        "reach": sent.reach.to_json(),
        "deliveries_queued": sent.deliveries,
    }


def _ack(ack: AckRecord | None) -> dict[str, object] | None:
    if ack is None:
        return None
    return {"at": format_timestamp(ack.at), "named": ack.named}


def _channel(channel: ChannelRecord) -> dict[str, object]:
    return {
        "id": channel.id,
        "kind": channel.kind,
        "target": channel.target,
        "created": format_timestamp(channel.created_at),
    }


@router.post("/notifications", status_code=201, summary="Send a TLP:RED victim notification")
def send_notification(request: Request, caller: Caller, body: NotificationIn) -> Response:
    """Government organisations only: the named organisation and the sender read it."""
    sent = alerts.send_notification(hub_of(request), caller, body.victim, body.content())
    return json_response({**_sent(sent), "victim": body.victim}, 201)


@router.post("/advisories/check", summary="Check an advisory without publishing it")
def check_advisory(request: Request, caller: Caller, body: AdvisoryIn) -> Response:
    """The leaks that would stop it and who it would reach; nothing is stored."""
    check = alerts.check_advisory(hub_of(request), caller, body.request())
    return json_response(
        {
            "publishable": not check.leaks,
            "leaks": [leak.to_json() for leak in check.leaks],
            "reach": check.reach.to_json(),
            "victims_checked": check.victims_checked,
        }
    )


@router.post(
    "/advisories",
    status_code=201,
    summary="Publish an advisory to a scope",
    responses={422: {"description": "refused: error.details lists every leak"}},
)
def publish_advisory(request: Request, caller: Caller, body: AdvisoryIn) -> Response:
    """Government organisations only. Refused (422, nothing stored) while anything in it
    points at a victim of the linked notifications or holds personal data."""
    sent = alerts.publish_advisory(hub_of(request), caller, body.request())
    return json_response(_sent(sent), 201)


@router.get("/channels", summary="The caller's delivery channels")
def list_channels(request: Request, caller: Caller, organization: str | None = None) -> Response:
    """Webhooks and e-mail addresses (never secrets); operators may name an organisation."""
    channels = delivery.list_channels(hub_of(request), caller, organization)
    return json_response({"items": [_channel(c) for c in channels]})


@router.post("/channels", status_code=201, summary="Add a delivery channel")
def add_channel(request: Request, caller: Caller, body: ChannelIn) -> Response:
    """A webhook's signing secret is in this answer and never again."""
    made = delivery.add_channel(hub_of(request), caller, body.kind, body.target, body.organization)
    answer = _channel(made.record)
    if made.secret is not None:
        answer["secret"] = made.secret
    return json_response(answer, 201)


@router.delete("/channels/{channel_id}", status_code=204, summary="Remove a delivery channel")
def remove_channel(request: Request, caller: Caller, channel_id: str) -> Response:
    """Pending deliveries over it are skipped."""
    delivery.remove_channel(hub_of(request), caller, channel_id)
    return Response(status_code=204)


@router.get("/deliveries", summary="The caller's delivery log")
def list_deliveries(
    request: Request, caller: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> Response:
    """Deliveries to the caller's channels, newest first, with every attempt."""
    views = delivery.deliveries(hub_of(request), caller, limit)
    return json_response(
        {
            "items": [
                {
                    "id": v.record.id,
                    "alert": v.record.alert_id,
                    "kind": v.record.kind,
                    "target": v.record.target,
                    "status": v.record.status,
                    "last_error": v.record.last_error,
                    "delivered": (
                        format_timestamp(v.record.delivered_at) if v.record.delivered_at else None
                    ),
                    "attempts": [
                        {
                            "attempt": a.attempt,
                            "at": format_timestamp(a.at),
                            "ok": a.ok,
                            "detail": a.detail,
                        }
                        for a in v.attempts
                    ],
                }
                for v in views
            ]
        }
    )


@router.get("", summary="The caller's inbox")
def inbox(
    request: Request,
    caller: Caller,
    kind: Annotated[str | None, Query(description="notification or advisory")] = None,
    unacknowledged: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    """Alerts the caller may read (sent to it or by it), newest first."""
    wanted = None
    if kind is not None:
        try:
            wanted = AlertKind(kind)
        except ValueError:
            raise InvalidInput("kind must be notification or advisory") from None
    items = alerts.inbox(hub_of(request), caller, wanted, limit, unacknowledged)
    return json_response(
        {
            "items": [
                {
                    "id": item.record.stix_id,
                    "kind": item.record.kind,
                    "tlp": Tlp(item.record.tlp).label,
                    "title": item.report.get("name", ""),
                    "sender": item.sender,
                    "created": format_timestamp(item.record.created_at),
                    "sent_by_you": item.record.sender_org_id == caller.id,
                    "acknowledged": _ack(item.ack),
                }
                for item in items
            ]
        }
    )


@router.get("/{alert_id}", summary="One alert")
def show(request: Request, caller: Caller, alert_id: str) -> Response:
    """The report and the objects it refers to that the caller may read (404 otherwise)."""
    view = alerts.show(hub_of(request), caller, alert_id)
    record = view.record
    body: dict[str, object] = {
        "id": record.stix_id,
        "kind": record.kind,
        "tlp": Tlp(record.tlp).label,
        "title": view.report.get("name", ""),
        "sender": view.sender,
        "created": format_timestamp(record.created_at),
        "sent_by_you": record.sender_org_id == caller.id,
        "acknowledged": _ack(view.ack),
        "objects": [orjson.loads(s.body) for s in view.objects],
    }
    if record.sender_org_id == caller.id:
        if view.victim is not None:
            body["victim"] = view.victim
        if record.kind == AlertKind.ADVISORY.value:
            body["linked_notifications"] = list(view.linked)
    return json_response(body)


@router.post("/{alert_id}/ack", summary="Acknowledge an alert")
def acknowledge(
    request: Request, caller: Caller, alert_id: str, body: AckIn | None = None
) -> Response:
    """Any organisation that may read the alert, except its sender."""
    named = body.named if body is not None else False
    ack = alerts.acknowledge(hub_of(request), caller, alert_id, named)
    return json_response({"id": alert_id, "acknowledged": _ack(ack)})


@router.get("/{alert_id}/acks", summary="Acknowledgement figures (sender only)")
def acknowledgements(request: Request, caller: Caller, alert_id: str) -> Response:
    """Counts by sector and country; names only of those that chose to be named."""
    figures = alerts.acknowledgements(hub_of(request), caller, alert_id)
    return json_response({"id": alert_id, **figures.to_json()})
