"""Government alerts in the browser (docs/alerts.md): the inbox, one alert with its
acknowledgement form, and, for government organisations, the sent list with
acknowledgement figures and the forms to notify a victim and to write an advisory (with the
leak check and the releasability preview before anything is published).

Contracts:

- Every read and write calls ``services.alerts`` exactly as ``web/api/alerts.py`` does,
  with the signed-in organisation as reader or sender, so the sharing policy alone decides
  who sees what: an alert the reader may not read is a 404 page and absent from the inbox.
- Composing is for ``Role.GOVERNMENT`` organisations only (the role
  ``services.alerts._government`` admits); anyone else gets a 403 page.
- Every POST needs the session's CSRF token (``Actor``). Forms that fail (bad input, a leak
  found, an unknown victim) are shown again with what the user typed and the reason;
  nothing is stored then. With htmx the acknowledge button and the leak check swap in
  place; without JavaScript they post and redirect (Post/Redirect/Get) or re-render.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, Response

from shieldwall.domain.alerts import (
    AckFigures,
    AlertContent,
    AlertKind,
    IndicatorSpec,
)
from shieldwall.domain.errors import InvalidInput, ShieldwallError, Unprocessable
from shieldwall.domain.organisations import Organisation, Role, Sector
from shieldwall.domain.scope import make_scope, scope_of
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, alerts
from shieldwall.services.accounts import SessionInfo
from shieldwall.services.alerts import AdvisoryCheck, AdvisoryRequest, InboxItem
from shieldwall.services.context import Hub
from shieldwall.services.ports import AckRecord
from shieldwall.web.deps import hub_of
from shieldwall.web.errors import status_of
from shieldwall.web.ui.session import Actor, Viewer, redirect_with, require_role
from shieldwall.web.ui.templating import is_htmx, render, scope_words

router = APIRouter(prefix="/ui/alerts", include_in_schema=False)

INBOX_STEP = 50
MAX_INBOX = 1000
LINKABLE_NOTIFICATIONS = 200
ADVISORY_TLPS = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT)
_SPLIT = re.compile(r"[\s,;]+")

# What each rule of the leak check (domain/leaks.py) found, in plain words.
RULE_WORDS: Mapping[str, str] = {
    "own-domain": "a domain (or a subdomain of one) the victim declared as its own",
    "own-address": "an address inside a network range the victim declared as its own",
    "keyword": "the victim's name or one of its declared keywords",
    "look-alike": "a name or host that looks like the victim's name or domain",
    "victim-reference": "the id of the victim, of a notification sent to it or of its objects",
    "victim-in-scope": "the scope names the victim's organisation, and every reader sees it",
    "e-mail": "an e-mail address (personal data)",
    "phone": "a telephone number (personal data)",
}
_PART = re.compile(r"^(?P<type>[a-z-]+)\[(?P<index>\d+)\]$")
_FIELD_WORDS: Mapping[str, str] = {
    "name": "title",
    "description": "text",
    "pattern": "pattern",
    "labels": "labels",
}


# --- plain data for the templates ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One alert in a list."""

    id: str
    kind: str
    title: str
    sender: str
    tlp: Tlp
    created: int
    ack: AckRecord | None
    figures: AckFigures | None = None

    @property
    def kind_words(self) -> str:
        """``victim notification`` or ``advisory``."""
        return AlertKind(self.kind).words


@dataclass(frozen=True, slots=True)
class Finding:
    """One leak the check found, in words: where (object and field), the value, the rule
    and what it means, and the victim it points at (the author knows the victims)."""

    where: str
    field: str
    value: str
    rule: str
    meaning: str
    victim: str | None


def _where(part: str, field_path: str) -> str:
    if part == "report":
        head = "the advisory"
    elif part == "scope":
        return "the scope"
    else:
        found = _PART.match(part)
        if found is None:
            head = part
        else:
            number = int(found.group("index")) + 1
            kind = found.group("type")
            noun = "recommended action" if kind == "course-of-action" else kind
            head = f"{noun} {number}"
    top = field_path.split(".")[0].split("[")[0]
    return f"{head}, {_FIELD_WORDS.get(top, field_path)}"


def findings(leaks: list[dict[str, object]]) -> list[Finding]:
    """Leaks as the check reports them (``Leak.to_json``) → findings in words."""
    made: list[Finding] = []
    for leak in leaks:
        part, path = str(leak.get("object", "")), str(leak.get("field", ""))
        rule = str(leak.get("rule", ""))
        victim = leak.get("victim")
        made.append(
            Finding(
                _where(part, path),
                path,
                str(leak.get("value", "")),
                rule,
                RULE_WORDS.get(rule, rule),
                str(victim) if victim else None,
            )
        )
    return made


def _row(item: InboxItem, figures: AckFigures | None = None) -> Row:
    return Row(
        item.record.stix_id,
        item.record.kind,
        str(item.report.get("name", "")),
        item.sender,
        Tlp(item.record.tlp),
        item.record.created_at,
        item.ack,
        figures,
    )


def _org_names(hub: Hub) -> dict[str, str]:
    return {o.identity_id: o.name for o in admin.list_organisations(hub)}


# --- the inbox ----------------------------------------------------------------------------


def _kind(value: str) -> AlertKind | None:
    if not value:
        return None
    try:
        return AlertKind(value)
    except ValueError:
        raise InvalidInput("kind must be notification or advisory") from None


@router.get("")
def inbox_page(
    request: Request,
    session: Viewer,
    kind: str = "",
    unacknowledged: bool = False,
    limit: int = INBOX_STEP,
) -> HTMLResponse:
    """Alerts addressed to the organisation (and, for senders, those it sent), newest
    first, through ``services.alerts.inbox``; ``kind`` and ``unacknowledged`` filter. With
    htmx only the lists are returned (block ``lists``)."""
    hub, org = hub_of(request), session.account.organisation
    wanted = _kind(kind)
    limit = max(1, min(limit, MAX_INBOX))
    items = alerts.inbox(hub, org, wanted, limit, unacknowledged)
    received = [_row(i) for i in items if i.record.sender_org_id != org.id]
    sent = [
        _row(i, alerts.acknowledgements(hub, org, i.record.stix_id))
        for i in items
        if i.record.sender_org_id == org.id
    ]
    more = None
    if len(items) == limit and limit < MAX_INBOX:
        query = {"kind": kind, "limit": str(min(limit + INBOX_STEP, MAX_INBOX))}
        if unacknowledged:
            query["unacknowledged"] = "true"
        more = "/ui/alerts?" + urlencode(query)
    context = {
        "received": received,
        "sent": sent,
        "kind": wanted.value if wanted else "",
        "unacknowledged": unacknowledged,
        "more_url": more,
        "government": org.role is Role.GOVERNMENT,
    }
    fragment = "lists" if is_htmx(request) else None
    return render(request, "alerts/inbox.html", context, session=session, fragment=fragment)


# --- composing (government organisations) ---------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass
class NotificationForm:
    """What the notification form sent (kept as typed, to show again on errors)."""

    victim: str = ""
    title: str = ""
    description: str = ""
    indicators: str = ""
    actions: str = ""

    def content(self) -> AlertContent:
        """The alert content (indicators and actions one per line)."""
        return AlertContent(
            title=self.title,
            description=self.description,
            indicators=tuple(IndicatorSpec(v) for v in _lines(self.indicators)),
            actions=tuple(_lines(self.actions)),
        )


@dataclass
class AdvisoryForm(NotificationForm):
    """What the advisory form sent: content, TLP, scope and linked notifications."""

    tlp: str = "amber"
    sectors: list[str] = field(default_factory=list)
    countries: str = ""
    groups: str = ""
    organizations: list[str] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)

    def request(self) -> AdvisoryRequest:
        """The request ``services.alerts`` checks and publishes (``InvalidInput`` for a bad
        TLP, sector, country code or group name)."""
        scope = make_scope(
            self.sectors,
            [c for c in _SPLIT.split(self.countries) if c],
            [g for g in re.split(r"[,;\n]+", self.groups) if g.strip()],
            self.organizations,
        )
        return AdvisoryRequest(
            self.content(), Tlp.parse(self.tlp), scope, tuple(self.notifications)
        )


def notification_form(
    victim: Annotated[str, Form(max_length=300)] = "",
    title: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=60_000)] = "",
    indicators: Annotated[str, Form(max_length=200_000)] = "",
    actions: Annotated[str, Form(max_length=60_000)] = "",
) -> NotificationForm:
    """Dependency: the notification form's fields."""
    return NotificationForm(victim, title, description, indicators, actions)


def advisory_form(
    title: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=60_000)] = "",
    indicators: Annotated[str, Form(max_length=200_000)] = "",
    actions: Annotated[str, Form(max_length=60_000)] = "",
    tlp: Annotated[str, Form(max_length=40)] = "amber",
    sectors: Annotated[list[str] | None, Form()] = None,
    countries: Annotated[str, Form(max_length=2000)] = "",
    groups: Annotated[str, Form(max_length=5000)] = "",
    organizations: Annotated[list[str] | None, Form()] = None,
    notifications: Annotated[list[str] | None, Form()] = None,
) -> AdvisoryForm:
    """Dependency: the advisory form's fields (multi-valued ones as lists)."""
    return AdvisoryForm(
        "",
        title,
        description,
        indicators,
        actions,
        tlp,
        list(sectors or []),
        countries,
        groups,
        list(organizations or []),
        list(notifications or []),
    )


def _others(hub: Hub, org: Organisation) -> list[Organisation]:
    return sorted(
        (o for o in admin.list_organisations(hub) if o.id != org.id), key=lambda o: o.name
    )


def _sent_notifications(hub: Hub, org: Organisation) -> list[Row]:
    items = alerts.inbox(hub, org, AlertKind.NOTIFICATION, LINKABLE_NOTIFICATIONS)
    return [_row(i) for i in items if i.record.sender_org_id == org.id]


def _advisory_page(
    request: Request,
    session: SessionInfo,
    form: AdvisoryForm,
    *,
    check: AdvisoryCheck | None = None,
    refused: Unprocessable | None = None,
    error: str = "",
    status: int = 200,
    fragment: str | None = None,
) -> HTMLResponse:
    """The advisory form with ``form``'s input, and, when given, the check's findings and
    reach (or, failing a check, the findings of a refused publication)."""
    hub, org = hub_of(request), session.account.organisation
    if check is not None and check.leaks:
        found = findings([leak.to_json() for leak in check.leaks])
    elif refused is not None:
        found = findings(refused.details)
    else:
        found = []
    try:
        selected: Tlp | None = Tlp.parse(form.tlp)
    except InvalidInput:
        selected = None
    context = {
        "form": form,
        "error": error,
        "inline_error": fragment is not None,
        "selected_tlp": selected,
        "check": check,
        "findings": found,
        "reach": check.reach if check else None,
        "tlps": ADVISORY_TLPS,
        "sectors": [s.value for s in Sector],
        "organisations": _others(hub, org),
        "my_groups": [g.name for g in admin.list_groups(hub, org)],
        "linkable": [] if fragment else _sent_notifications(hub, org),
    }
    return render(
        request,
        "alerts/advisory.html",
        context,
        session=session,
        status=status,
        fragment=fragment,
    )


@router.get("/new/advisory")
def advisory_compose(request: Request, session: Viewer, notification: str = "") -> HTMLResponse:
    """The advisory form (government organisations only); ``notification`` pre-links one
    of the sender's notifications."""
    require_role(session, Role.GOVERNMENT)
    form = AdvisoryForm(notifications=[notification] if notification else [])
    return _advisory_page(request, session, form)


@router.post("/check")
def advisory_check(
    request: Request,
    session: Actor,
    form: Annotated[AdvisoryForm, Depends(advisory_form)],
) -> HTMLResponse:
    """Run the leak check and the releasability preview (``services.alerts.check_advisory``);
    stores nothing. htmx gets the result block alone; without JavaScript the whole form is
    shown again with the result and the input kept."""
    require_role(session, Role.GOVERNMENT)
    fragment = "check" if is_htmx(request) else None
    hub, org = hub_of(request), session.account.organisation
    try:
        check = alerts.check_advisory(hub, org, form.request())
    except ShieldwallError as error:
        status, _ = status_of(error)
        return _advisory_page(
            request, session, form, error=error.message, status=status, fragment=fragment
        )
    return _advisory_page(request, session, form, check=check, fragment=fragment)


@router.post("/advisory")
def advisory_publish(
    request: Request,
    session: Actor,
    form: Annotated[AdvisoryForm, Depends(advisory_form)],
) -> Response:
    """Publish the advisory (``services.alerts.publish_advisory``) and go to it; when the
    leak check finds anything, nothing is published and the form comes back (422) with
    every finding and the user's input."""
    require_role(session, Role.GOVERNMENT)
    hub, org = hub_of(request), session.account.organisation
    try:
        advisory = form.request()
        sent = alerts.publish_advisory(hub, org, advisory)
    except Unprocessable as refused:
        # nothing was published: show every finding and who it would have reached
        try:
            check: AdvisoryCheck | None = alerts.check_advisory(hub, org, advisory)
        except ShieldwallError:
            check = None
        return _advisory_page(
            request,
            session,
            form,
            check=check,
            refused=refused,
            error=refused.message,
            status=422,
        )
    except ShieldwallError as error:
        status, _ = status_of(error)
        return _advisory_page(request, session, form, error=error.message, status=status)
    return redirect_with(
        f"/ui/alerts/{quote(sent.record.stix_id)}",
        f"Advisory published: it {sent.reach.summary}.",
    )


def _notification_page(
    request: Request,
    session: SessionInfo,
    form: NotificationForm,
    *,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    hub, org = hub_of(request), session.account.organisation
    context = {"form": form, "error": error, "organisations": _others(hub, org)}
    return render(request, "alerts/notification.html", context, session=session, status=status)


@router.get("/new/notification")
def notification_compose(request: Request, session: Viewer) -> HTMLResponse:
    """The form to notify one victim organisation privately (government only)."""
    require_role(session, Role.GOVERNMENT)
    return _notification_page(request, session, NotificationForm())


@router.post("/notification")
def notification_send(
    request: Request,
    session: Actor,
    form: Annotated[NotificationForm, Depends(notification_form)],
) -> Response:
    """Send the TLP:RED notification (``services.alerts.send_notification``) and go to it;
    on any refusal the form comes back with the reason and the input."""
    require_role(session, Role.GOVERNMENT)
    hub, org = hub_of(request), session.account.organisation
    try:
        if not form.victim.strip():
            raise InvalidInput("choose the organisation to notify")
        sent = alerts.send_notification(hub, org, form.victim, form.content())
    except ShieldwallError as error:
        status, _ = status_of(error)
        return _notification_page(request, session, form, error=error.message, status=status)
    names = _org_names(hub)
    victim = names.get(form.victim, form.victim)
    return redirect_with(
        f"/ui/alerts/{quote(sent.record.stix_id)}",
        f"Notification sent to {victim} (TLP:RED: only {victim} and you can read it).",
    )


# --- one alert ----------------------------------------------------------------------------


def _texts(body: Mapping[str, object], *keys: str) -> dict[str, str]:
    """``keys`` of a STIX object as strings (empty when absent), for the templates."""
    return {key: str(body.get(key) or "") for key in keys}


def _detail(hub: Hub, org: Organisation, alert_id: str) -> dict[str, object]:
    """What the alert page shows, read through ``services.alerts.show`` (``NotFound`` when
    the reader may not read it)."""
    view = alerts.show(hub, org, alert_id)
    report = view.report
    record = view.record
    indicators: list[dict[str, str]] = []
    actions: list[dict[str, str]] = []
    for served in view.objects[1:]:
        body = orjson.loads(served.body)
        if body.get("type") == "indicator":
            indicators.append(_texts(body, "name", "pattern", "description"))
        elif body.get("type") == "course-of-action":
            actions.append(_texts(body, "name", "description"))
    kind = AlertKind(record.kind)
    raw_labels = report.get("labels")
    labels = [
        str(label)
        for label in (raw_labels if isinstance(raw_labels, list) else [])
        if str(label) != kind.label
    ]
    raw_references = report.get("external_references")
    references = [
        _texts(r, "source_name", "url", "external_id", "description")
        for r in (raw_references if isinstance(raw_references, list) else [])
        if isinstance(r, dict)
    ]
    is_sender = record.sender_org_id == org.id
    names = _org_names(hub)
    description = str(report.get("description", ""))
    return {
        "alert_id": record.stix_id,
        "kind": kind,
        "title": str(report.get("name", "")),
        "paragraphs": [p.strip() for p in re.split(r"\n\s*\n", description) if p.strip()],
        "sender": view.sender,
        "created": record.created_at,
        "tlp": Tlp(record.tlp),
        "scope": scope_words(scope_of(report), names),
        "labels": labels,
        "references": references,
        "indicators": indicators,
        "actions": actions,
        "ack": view.ack,
        "is_sender": is_sender,
        "figures": alerts.acknowledgements(hub, org, alert_id) if is_sender else None,
        "victim": view.victim if is_sender else None,
        "linked": list(view.linked) if is_sender else [],
    }


@router.get("/{alert_id}")
def alert_page(request: Request, session: Viewer, alert_id: str) -> HTMLResponse:
    """One alert: its text, indicators, recommended actions, TLP and scope in words, the
    acknowledge form for recipients and the acknowledgement figures for its sender."""
    context = _detail(hub_of(request), session.account.organisation, alert_id)
    return render(request, "alerts/detail.html", context, session=session)


@router.post("/{alert_id}/ack")
def acknowledge(
    request: Request,
    session: Actor,
    alert_id: str,
    named: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Acknowledge the alert (``services.alerts.acknowledge``; ``named=yes``: the sender may
    see our name). htmx gets the acknowledgement block; otherwise back to the alert."""
    hub, org = hub_of(request), session.account.organisation
    ack = alerts.acknowledge(hub, org, alert_id, named == "yes")
    if is_htmx(request):
        context = _detail(hub, org, alert_id)
        return render(request, "alerts/detail.html", context, session=session, fragment="ack")
    how = "the sender may see your name" if ack.named else "the sender sees only a count"
    return redirect_with(f"/ui/alerts/{quote(alert_id)}", f"Acknowledged ({how}).")
