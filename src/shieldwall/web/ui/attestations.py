"""Security attestations in the web interface (``/ui/attestations…``; docs/attestations.md).

Both sides of the workflow: a firm writes a draft from a template's typed questions,
attaches evidence, publishes, and grants, declines or revokes other organisations'
requests; a bank (any member) requests an attestation and reads what was granted to it.

Contracts:

- Every read and write calls ``services.attestations`` the way ``web/api/attestations.py``
  does, with the session's organisation as the reader or actor. Who may view what is
  decided there (``domain.attestations.may_view``); what the reader may not view is the
  404 page, worded like an unknown id. Templates decide nothing.
- Every state-changing route takes ``Actor`` (session, CSRF token, same origin) and answers
  a success with Post/Redirect/Get. A form the services refuse is shown again with the
  service's message (which names the question at fault) and everything the user typed.
- Evidence files are served only through ``download_evidence`` (the same rule, the same
  audit entry) as attachments with ``nosniff`` and a sandboxing CSP, like the API; the
  API's own download route takes API keys only, hence ``/ui/attestations/{id}/evidence/…``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import HTMLResponse, Response

from shieldwall.domain.attestations import (
    Question,
    QuestionType,
    RequestStatus,
    Status,
    micros_date,
)
from shieldwall.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ShieldwallError,
)
from shieldwall.domain.organisations import Role
from shieldwall.services import admin, attestations
from shieldwall.services.accounts import SessionInfo
from shieldwall.services.attestations import AttestationView, TemplateView
from shieldwall.web.api.attestations import evidence_response
from shieldwall.web.deps import hub_of
from shieldwall.web.errors import status_of
from shieldwall.web.ui.session import Actor, Viewer, redirect_with, require_role
from shieldwall.web.ui.templating import render

router = APIRouter(prefix="/ui/attestations", include_in_schema=False)

DEFAULT_TEMPLATE = "bank-law-firm-baseline"
MULTIPART_OVERHEAD = 64 * 1024  # form fields and part headers around an evidence file
_QUOTED = re.compile(r"'([a-z0-9][a-z0-9_-]{0,63})'")
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")


# --- form values ----------------------------------------------------------------------------


@dataclass
class DraftForm:
    """What the draft form shows: each answer as the text of its input (``yes``/``no``
    for yes/no questions), the validity dates and the signer."""

    answers: dict[str, str] = field(default_factory=dict)
    valid_from: str = ""
    valid_until: str = ""
    signer_name: str = ""
    signer_title: str = ""


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _draft_form(questions: tuple[Question, ...], form: FormData) -> DraftForm:
    """The values a user posted, exactly as typed (to show them again on error)."""
    return DraftForm(
        {q.id: _text(form, f"answer-{q.id}") for q in questions},
        _text(form, "valid_from").strip(),
        _text(form, "valid_until").strip(),
        _text(form, "signer_name"),
        _text(form, "signer_title"),
    )


def _typed(question: Question, text: str) -> object:
    """A posted answer as the type its question asks for; an empty input is ``None`` (no
    answer). Text that is not of the type is passed on unchanged, so the service refuses
    it with its own message naming the question."""
    if question.type is QuestionType.TEXT:
        return text if text.strip() else None
    value = text.strip()
    if not value:
        return None
    if question.type is QuestionType.YESNO:
        return {"yes": True, "no": False}.get(value.lower(), value)
    if question.type is QuestionType.NUMBER:
        if _INTEGER.match(value):
            return int(value)
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _typed_answers(questions: tuple[Question, ...], values: DraftForm) -> dict[str, object]:
    return {q.id: _typed(q, values.answers.get(q.id, "")) for q in questions}


def _as_input(value: object) -> str:
    """A stored answer as the text of its input."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _stored_form(view: AttestationView, *, with_validity: bool = True) -> DraftForm:
    """A stored version's answers, validity and signer as form values."""
    record = view.record
    return DraftForm(
        {q.id: _as_input(view.answers.get(q.id)) for q in view.template.questions},
        micros_date(record.valid_from) if with_validity and record.valid_from else "",
        micros_date(record.valid_until) if with_validity and record.valid_until else "",
        record.signer_name,
        record.signer_title,
    )


def _question_at_fault(message: str, questions: tuple[Question, ...]) -> str | None:
    """The id of the question a service message names (``answer to 'mfa' (…)``)."""
    ids = {q.id for q in questions}
    for found in _QUOTED.finditer(message):
        if found.group(1) in ids:
            return found.group(1)
    return None


# --- readable values ------------------------------------------------------------------------


def _readable(question: Question, value: object) -> str | None:
    """An answer in words (``None``: not answered)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if question.type is QuestionType.YESNO and isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _size(size: int) -> str:
    """``512 bytes``, ``12.3 KiB``, ``1.2 MiB``."""
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _validity(view: AttestationView) -> str:
    record = view.record
    if not record.valid_until:
        return ""
    return f"{micros_date(record.valid_from)} to {micros_date(record.valid_until)}"


def _soon_days(request: Request) -> int:
    """Days before expiry at which a version is flagged "expires soon" (the largest
    reminder threshold; 30 when reminders are off)."""
    days = hub_of(request).config.attestations.reminder_days
    return max(days) if days else 30


def _row(view: AttestationView, soon: int) -> dict[str, object]:
    """One attestation in a list."""
    record = view.record
    published = record.status != Status.DRAFT.value
    return {
        "id": record.id,
        "firm": view.firm,
        "template": record.template_name,
        "template_version": record.template_version,
        "version": record.version,
        "status": record.status,
        "validity": _validity(view),
        "expired": bool(record.valid_until) and view.expiry.expired,
        "days_left": view.expiry.days_left if record.valid_until else None,
        "expires_soon": published
        and bool(record.valid_until)
        and not view.expiry.expired
        and view.expiry.days_left <= soon,
        "changed_since": view.changed_since,
        "last_viewed_version": view.last_viewed_version,
    }


def _error_status(error: ShieldwallError) -> int:
    return status_of(error)[0]


# --- the overview ---------------------------------------------------------------------------


@dataclass
class RequestForm:
    """The "request an attestation" form's values."""

    firm: str = ""
    template: str = DEFAULT_TEMPLATE
    message: str = ""


def _overview(
    request: Request,
    session: SessionInfo,
    *,
    asked: RequestForm | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    hub = hub_of(request)
    org = session.account.organisation
    soon = _soon_days(request)
    views = attestations.list_attestations(hub, org)
    requests = attestations.list_requests(hub, org)
    grants = attestations.list_grants(hub, org)
    templates = attestations.list_templates(hub)
    template_names = sorted({t.record.name for t in templates})
    firms = sorted(
        o.name
        for o in admin.list_organisations(hub)
        if o.id != org.id and o.role is not Role.OPERATOR
    )
    context = {
        "operator": org.role is Role.OPERATOR,
        "own": [_row(v, soon) for v in views if v.own],
        "shared": [_row(v, soon) for v in views if not v.own],
        "received": [r for r in requests if r.record.firm_org_id == org.id],
        "made": [r for r in requests if r.record.requester_org_id == org.id],
        "given": [g for g in grants if g.record.firm_org_id == org.id],
        "held": [g for g in grants if g.record.grantee_org_id == org.id],
        "pending": RequestStatus.PENDING.value,
        "firms": firms,
        "template_names": template_names,
        "asked": asked or RequestForm(),
        "error": error,
        "soon": soon,
    }
    return render(request, "attestations/index.html", context, session=session, status=status)


@router.get("")
def index(request: Request, session: Viewer) -> Response:
    """The organisation's own attestations, requests it received (to grant or decline),
    grants it gave (to revoke), attestations shared with it, the requests it made, and a
    form to request one."""
    return _overview(request, session)


@router.post("/requests")
def make_request(
    request: Request,
    session: Actor,
    firm: Annotated[str, Form(max_length=200)] = "",
    template: Annotated[str, Form(max_length=100)] = "",
    message: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Ask ``firm`` for its attestations of ``template`` (``request_attestation``)."""
    asked = RequestForm(firm, template, message)
    try:
        record = attestations.request_attestation(
            hub_of(request), session.account.organisation, firm, template, message
        )
    except ShieldwallError as error:
        return _overview(
            request, session, asked=asked, error=error.message, status=_error_status(error)
        )
    return redirect_with(
        "/ui/attestations",
        f"Requested {record.template_name} from {firm}; you will see it once they grant it.",
    )


def _respond(request: Request, session: SessionInfo, request_id: str, grant: bool) -> Response:
    view = attestations.respond(hub_of(request), session.account.organisation, request_id, grant)
    if grant:
        message = f"Granted: {view.requester} may now see your {view.record.template_name}."
    else:
        message = f"Declined {view.requester}'s request for {view.record.template_name}."
    return redirect_with("/ui/attestations", message)


@router.post("/requests/{request_id}/grant")
def grant(request: Request, session: Actor, request_id: str) -> Response:
    """The firm grants a pending request addressed to it."""
    return _respond(request, session, request_id, True)


@router.post("/requests/{request_id}/decline")
def decline(request: Request, session: Actor, request_id: str) -> Response:
    """The firm declines a pending request addressed to it (grants nothing)."""
    return _respond(request, session, request_id, False)


@router.post("/grants/revoke")
def revoke(
    request: Request,
    session: Actor,
    grantee: Annotated[str, Form(max_length=200)] = "",
    template: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The firm revokes its grants to ``grantee`` (one template, or all when empty); the
    grantee's next read is a 404."""
    revoked = attestations.revoke(
        hub_of(request), session.account.organisation, grantee, template or None
    )
    names = ", ".join(sorted(g.template_name for g in revoked))
    return redirect_with("/ui/attestations", f"Revoked {grantee}'s access to {names}.")


# --- authoring ------------------------------------------------------------------------------


def _form_page(
    request: Request,
    session: SessionInfo,
    template: TemplateView,
    values: DraftForm,
    *,
    draft: AttestationView | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    """The draft form: a new draft of ``template`` (``draft`` None) or a stored draft
    with its evidence, upload and publish controls."""
    fault = _question_at_fault(error, template.questions) if error else None
    context = {
        "template": template,
        "questions": template.questions,
        "values": values,
        "draft": draft,
        "evidence": [(e, _size(e.size)) for e in draft.evidence] if draft else [],
        "error": error,
        "fault": fault,
        "max_bytes": _size(hub_of(request).config.attestations.evidence_max_bytes),
        "action": f"/ui/attestations/{draft.record.id}/edit" if draft else "/ui/attestations",
    }
    return render(request, "attestations/form.html", context, session=session, status=status)


@router.get("/new")
def new(request: Request, session: Viewer, template: str = "", source: str = "") -> Response:
    """Pick a template, then its questions as a form (the latest template version). With
    ``source`` (one of the organisation's own versions) the form starts from its answers
    and signer: the way to publish a new version."""
    require_role(session, Role.MEMBER, Role.GOVERNMENT)
    hub = hub_of(request)
    if not template:
        templates = attestations.list_templates(hub)
        latest: dict[str, TemplateView] = {}
        for view in templates:
            latest[view.record.name] = view  # listed by name then version
        return render(
            request,
            "attestations/new.html",
            {"templates": sorted(latest.values(), key=lambda t: t.record.name)},
            session=session,
        )
    chosen = attestations.get_template(hub, template)
    values = DraftForm()
    if source:
        earlier = attestations.show(hub, session.account.organisation, source)
        if not earlier.own:
            raise NotFound(f"no attestation {source}")
        values = _stored_form(earlier, with_validity=False)
        known = {q.id for q in chosen.questions}
        values.answers = {k: v for k, v in values.answers.items() if k in known}
    return _form_page(request, session, chosen, values)


async def _save_and_maybe_publish(
    request: Request,
    session: SessionInfo,
    template: TemplateView,
    draft: AttestationView | None,
) -> Response:
    """Save the posted draft form (a new draft of ``template``, or a change to ``draft``),
    then publish it when the user pressed "Save and publish". Errors show the form again
    with what was typed."""
    hub = hub_of(request)
    org = session.account.organisation
    form = await request.form()
    values = _draft_form(template.questions, form)
    publishing = _text(form, "action") == "publish"
    try:
        record = await run_in_threadpool(
            lambda: attestations.save_draft(
                hub,
                org,
                attestation_id=draft.record.id if draft else None,
                template=None if draft else template.record.name,
                answers=_typed_answers(template.questions, values),
                valid_from=values.valid_from or None,
                valid_until=values.valid_until or None,
                signer_name=values.signer_name,
                signer_title=values.signer_title,
            )
        )
    except ShieldwallError as error:
        return _form_page(
            request,
            session,
            template,
            values,
            draft=draft,
            error=error.message,
            status=_error_status(error),
        )
    if not publishing:
        return redirect_with(f"/ui/attestations/{record.id}/edit", "Draft saved.")
    try:
        published = await run_in_threadpool(attestations.publish, hub, org, record.id)
    except ShieldwallError as error:
        saved = await run_in_threadpool(attestations.show, hub, org, record.id)
        return _form_page(
            request,
            session,
            saved.template,
            values,
            draft=saved,
            error=f"Saved as a draft but not published: {error.message}",
            status=_error_status(error),
        )
    return redirect_with(
        f"/ui/attestations/{published.id}",
        f"Published version {published.version} of {published.template_name}.",
    )


@router.post("")
async def create(request: Request, session: Actor) -> Response:
    """Start a draft against the latest version of the posted ``template``
    (``save_draft``), and publish it at once if asked."""
    form = await request.form()
    name = _text(form, "template")
    template = await run_in_threadpool(attestations.get_template, hub_of(request), name)
    return await _save_and_maybe_publish(request, session, template, None)


def _own_draft(request: Request, session: SessionInfo, attestation_id: str) -> AttestationView:
    """One of the organisation's own drafts (404 for anything it may not view or that is
    another organisation's; 409 for a published version)."""
    view = attestations.show(hub_of(request), session.account.organisation, attestation_id)
    if not view.own:
        raise NotFound(f"no attestation {attestation_id}")
    if view.record.status != Status.DRAFT.value:
        raise Conflict(
            f"attestation {attestation_id} is {view.record.status}; a published version never"
            " changes: start a new draft"
        )
    return view


@router.get("/{attestation_id}/edit")
def edit(request: Request, session: Viewer, attestation_id: str) -> Response:
    """The draft form for one of the organisation's drafts, with its evidence files, an
    upload form and "Save and publish"."""
    view = _own_draft(request, session, attestation_id)
    return _form_page(request, session, view.template, _stored_form(view), draft=view)


@router.post("/{attestation_id}/edit")
async def update(request: Request, session: Actor, attestation_id: str) -> Response:
    """Change a draft (answers given replace the stored ones), and publish it if asked."""
    view = await run_in_threadpool(_own_draft, request, session, attestation_id)
    return await _save_and_maybe_publish(request, session, view.template, view)


async def _bounded_upload(request: Request) -> None:
    """Refuse a declared body far larger than an evidence file may be, before the form is
    read (the hub-wide body limit bounds undeclared ones)."""
    limit = hub_of(request).config.attestations.evidence_max_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"the upload is {declared} bytes; an evidence file may have at most"
            f" {hub_of(request).config.attestations.evidence_max_bytes}",
            limit,
        )


@router.post("/{attestation_id}/evidence", dependencies=[Depends(_bounded_upload)])
async def upload(request: Request, session: Actor, attestation_id: str) -> Response:
    """Attach the posted file (multipart field ``file``) to a draft through
    ``add_evidence``, which judges its type by its bytes and refuses unsafe names."""
    hub = hub_of(request)
    org = session.account.organisation
    view = await run_in_threadpool(_own_draft, request, session, attestation_id)
    form = await request.form()
    sent = form.get("file")
    limit = hub.config.attestations.evidence_max_bytes
    try:
        if not isinstance(sent, UploadFile) or not sent.filename:
            raise InvalidInput("choose a file to attach")
        if sent.size is not None and sent.size > limit:
            raise PayloadTooLarge(
                f"evidence file is {sent.size} bytes; the limit is {limit}", limit
            )
        content = await sent.read(limit + 1)
        record = await run_in_threadpool(
            attestations.add_evidence, hub, org, attestation_id, sent.filename, content
        )
    except ShieldwallError as error:
        return _form_page(
            request,
            session,
            view.template,
            _stored_form(view),
            draft=view,
            error=error.message,
            status=_error_status(error),
        )
    return redirect_with(
        f"/ui/attestations/{attestation_id}/edit",
        f"Attached {record.filename} ({record.media_type}, {_size(record.size)}).",
    )


# --- reading --------------------------------------------------------------------------------


@router.get("/{attestation_id}")
def show(request: Request, session: Viewer, attestation_id: str) -> Response:
    """One version the organisation may view (404 otherwise): answers in words, evidence
    with download links, validity and signer, published versions and what changed."""
    hub = hub_of(request)
    org = session.account.organisation
    view = attestations.show(hub, org, attestation_id)
    versions = attestations.history(hub, org, attestation_id)
    changed = set(view.changed_since or [])
    rows = [
        {
            "question": q,
            "answer": _readable(q, view.answers.get(q.id)),
            "changed": q.id in changed,
        }
        for q in view.template.questions
    ]
    texts = {q.id: q.text for q in view.template.questions}
    context = {
        "view": view,
        "row": _row(view, _soon_days(request)),
        "rows": rows,
        "evidence": [(e, _size(e.size)) for e in view.evidence],
        "versions": [
            {
                "view": v,
                "validity": _validity(v),
                "changed": [texts.get(q, q) for q in v.changed_since or []],
                "first": v.changed_since is None,
            }
            for v in versions
        ],
        "changed_texts": [texts.get(q, q) for q in view.changed_since or []],
    }
    return render(request, "attestations/show.html", context, session=session)


@router.get("/{attestation_id}/evidence/{evidence_id}")
def download(request: Request, session: Viewer, attestation_id: str, evidence_id: str) -> Response:
    """An evidence file of an attestation the organisation may view, as an attachment of
    its sniffed type (never rendered): the API's headers, ``download_evidence``'s rule."""
    record, content = attestations.download_evidence(
        hub_of(request), session.account.organisation, evidence_id
    )
    if record.attestation_id != attestation_id:
        raise NotFound(f"no evidence file {evidence_id}")
    return evidence_response(record, content)
