"""Submitting intelligence from the browser: a STIX 2.1 file or pasted JSON, or a free-text
report kept as a private draft, reviewed, then published.

Routes (all under ``/ui``; every POST needs the session's CSRF token):

- ``GET  /submit``: both ways in, with TLP, scope and attribution and who will see it.
- ``POST /submit/preview``: the audience of the chosen TLP/scope/attribution. For htmx, the
  ``audience`` fragment; without JavaScript, the submit page again with the preview (and
  what was typed or uploaded kept).
- ``POST /submit/stix``: parse the JSON (a bundle, an envelope, a list of objects or one
  object) and store it exactly as ``POST /api/v1/objects`` does
  (``services.submission.submit`` into the shared collection), then show the status.
  Malformed input re-renders the form (400) with the choices kept; nothing is stored.
- ``GET  /submit/status/{id}``: the result of a submission (only the submitter's).
- ``POST /submit/report``: keep a report as a draft (``services.reports.create_draft``) and
  go to its review page.
- ``GET  /drafts``, ``GET /drafts/{id}``: the organisation's drafts; one draft's review
  (text with indicators and victim details marked, what will be published, sharing).
- ``POST /drafts/{id}`` (save the review), ``/drafts/{id}/preview`` (save it and preview
  the audience without JavaScript), ``/drafts/{id}/publish`` (save it and publish),
  ``/drafts/{id}/delete``.

Who may read what is computed by ``domain.audience`` over every organisation with the same
label ingest stores (the policy's ``may_read``); drafts and statuses of other organisations
are 404, as in the API (the services enforce it).
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData, ImmutableMultiDict, UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.audience import Audience, audience
from shieldwall.domain.errors import InvalidInput, ShieldwallError
from shieldwall.domain.extraction import detect_format
from shieldwall.domain.organisations import Organisation, Sector
from shieldwall.domain.policy import AccessLabel
from shieldwall.domain.scope import Scope, make_scope
from shieldwall.domain.scrub import REDACTED, find_in_text
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, ingest, reading, reports, submission
from shieldwall.services.accounts import SessionInfo
from shieldwall.services.admin import DEFAULT_COLLECTION_ALIAS
from shieldwall.services.context import Hub
from shieldwall.web.deps import hub_of
from shieldwall.web.errors import status_of
from shieldwall.web.ui.session import Viewer, checked, redirect_with, signed_in
from shieldwall.web.ui.templating import is_htmx, render

router = APIRouter(prefix="/ui", include_in_schema=False)

MAX_CHOICES = 1000  # values per scope list kept from a form
KEPT_UPLOAD_CHARS = 1_000_000  # a bad file's text is put back in the paste box up to this
REPORT_FORMATS = (
    ("auto", "Detect from the file name or the text"),
    ("text", "Plain text"),
    ("markdown", "Markdown"),
    ("asciidoc", "AsciiDoc"),
    ("html", "HTML"),
)
PASTED = "the pasted text"
RULE_WORDS: Mapping[str, str] = {
    "own-domain": "your domain (or a subdomain of it)",
    "own-address": "an address in your declared IP ranges",
    "keyword": "your organisation's name or one of its declared keywords",
    "e-mail": "an e-mail address (personal data)",
    "phone": "a telephone number (personal data)",
}


# --- the posted form --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Posted:
    """A state-changing request: its checked session and its form."""

    session: SessionInfo
    form: FormData


async def _posted(request: Request) -> AsyncIterator[Posted]:
    """Like ``Actor`` (session, CSRF token, origin), but the form is read first with the
    hub's upload limit: Starlette's default stops text fields at 1 MiB and 1000 fields,
    and a pasted bundle or report may be as large as the hub accepts
    (``max_content_length``; larger bodies get 413 from ``BodyLimit``). Uploaded files
    are closed when the request is over."""
    signed_in(request)  # nothing is read for a browser without a session
    limit = hub_of(request).config.max_content_length
    try:
        form = await request.form(max_files=2, max_fields=20_000, max_part_size=limit)
    except HTTPException as exc:
        raise InvalidInput(f"the form could not be read: {exc.detail}") from None
    try:
        yield Posted(await checked(request), form)
    finally:
        await form.close()


Post = Annotated[Posted, Depends(_posted)]


def _texts(values: ImmutableMultiDict[str, Any], name: str) -> tuple[str, ...]:
    found = [v.strip() for v in values.getlist(name) if isinstance(v, str) and v.strip()]
    return tuple(dict.fromkeys(found))[:MAX_CHOICES]


def _text(values: ImmutableMultiDict[str, Any], name: str) -> str:
    value = values.get(name)
    return value if isinstance(value, str) else ""


# --- TLP, scope, attribution ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sharing:
    """TLP, scope and attribution as the analyst chose them (raw, so that a form with a
    bad value is shown again as it was sent)."""

    tlp: str
    sectors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    attribution: str = Attribution.ATTRIBUTED.value

    @classmethod
    def of(cls, values: ImmutableMultiDict[str, Any], default_tlp: Tlp) -> Sharing:
        """From form fields or query parameters (``tlp``, ``sectors``, ``countries``,
        ``groups``, ``organizations``, ``attribution``)."""
        return cls(
            _text(values, "tlp").strip() or _tlp_value(default_tlp),
            _texts(values, "sectors"),
            _texts(values, "countries"),
            _texts(values, "groups"),
            _texts(values, "organizations"),
            _text(values, "attribution").strip() or Attribution.ATTRIBUTED.value,
        )

    @property
    def chosen_tlp(self) -> Tlp | None:
        """The TLP level, or ``None`` when the value is not one."""
        try:
            return Tlp.parse(self.tlp)
        except InvalidInput:
            return None

    def level(self) -> Tlp:
        """The TLP level (``InvalidInput`` when unknown)."""
        return Tlp.parse(self.tlp)

    def scope(self) -> Scope:
        """The scope (``InvalidInput`` naming a bad value)."""
        return make_scope(self.sectors, self.countries, self.groups, self.organizations)

    def mode(self) -> Attribution:
        """Attributed or anonymous to members (unlinkable cannot be chosen here)."""
        mode = Attribution.parse(self.attribution)
        if mode is Attribution.UNLINKABLE:
            raise InvalidInput(
                "unlinkable submission needs one-time blind tokens spent from your own"
                " machine: use shieldwall anon submit (see below)"
            )
        return mode

    def label(self, submitter: Organisation) -> AccessLabel:
        """The label ingest will store (the submitter reads its own in both modes)."""
        return AccessLabel(self.level(), self.scope(), submitter.id)

    def query(self) -> str:
        """As query parameters (to come back to a page with the same choices)."""
        pairs: list[tuple[str, str]] = [("tlp", self.tlp), ("attribution", self.attribution)]
        for name in ("sectors", "countries", "groups", "organizations"):
            pairs.extend((name, value) for value in getattr(self, name))
        return urlencode(pairs)

    def command(self, base_url: str, file: str) -> str:
        """``shieldwall anon tokens`` and ``shieldwall anon submit`` with these choices
        (docs/cli.md), to send the same thing unlinkably from the member's machine."""
        level = self.chosen_tlp or Tlp.AMBER
        args = ["shieldwall", "anon", "submit", file, "--tlp", _tlp_value(level)]
        for option, values in (
            ("--sector", self.sectors),
            ("--country", self.countries),
            ("--group", self.groups),
            ("--org", self.organizations),
        ):
            for value in values:
                args.extend((option, value))
        hub = shlex.quote(base_url)
        submit = " ".join(shlex.quote(a) for a in args)
        return (
            f'shieldwall anon tokens --count 5 --hub {hub} --key "$SHIELDWALL_KEY"\n'
            f'{submit} --hub {hub} --key "$SHIELDWALL_KEY"'
        )


def _tlp_value(level: Tlp) -> str:
    """``amber+strict``: the form and command-line spelling of a level."""
    return level.name.lower().replace("_", "+")


@dataclass(frozen=True, slots=True)
class Options:
    """What the sharing controls offer this organisation."""

    sectors: tuple[str, ...]
    countries: tuple[str, ...]
    groups: tuple[str, ...]
    organisations: tuple[Organisation, ...]
    attributions: tuple[Attribution, ...] = (Attribution.ATTRIBUTED, Attribution.ANONYMOUS)
    levels: tuple[Tlp, ...] = tuple(Tlp)


@dataclass(frozen=True, slots=True)
class Preview:
    """Who will see a submission with the chosen label (or why it cannot be computed)."""

    audience: Audience | None
    error: str = ""
    tlp: Tlp | None = None
    scope: Scope | None = None
    mode: Attribution | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    command: str = ""
    hidden_groups: tuple[str, ...] = ()  # chosen groups whose members the reader may not see


def _options(
    organisations: Sequence[Organisation], groups: Sequence[str], me: Organisation, chosen: Sharing
) -> Options:
    countries = {o.country for o in organisations} | set(chosen.countries)
    return Options(
        tuple(s.value for s in Sector),
        tuple(sorted(countries)),
        tuple(sorted(set(groups) | set(chosen.groups))),
        tuple(sorted((o for o in organisations if o.id != me.id), key=lambda o: o.name.lower())),
    )


def _preview(
    request: Request,
    organisations: Sequence[Organisation],
    visible_groups: Sequence[str],
    me: Organisation,
    chosen: Sharing,
) -> Preview:
    """The audience among ``organisations``, counting group members only through the
    groups the reader may see (``visible_groups``: those it belongs to or owns, as
    ``GET /api/v1/groups`` shows): the page never tells who is in another group."""
    names = {o.identity_id: o.name for o in organisations}
    visible = frozenset(visible_groups)
    hidden = tuple(sorted({g.strip() for g in chosen.groups if g.strip()} - visible))
    masked = [replace(o, groups=o.groups & visible) for o in organisations]
    command = chosen.command(str(request.base_url).rstrip("/"), "FILE")
    try:
        label = chosen.label(me)
        mode = chosen.mode()
    except InvalidInput as error:
        return Preview(None, error.message, names=names, command=command)
    return Preview(
        audience(label, masked), "", label.tlp, label.scope, mode, names, command, hidden
    )


def _sharing_context(request: Request, session: SessionInfo, chosen: Sharing) -> dict[str, object]:
    """What ``submit/_sharing.html`` and ``submit/_audience.html`` need."""
    hub = hub_of(request)
    me = session.account.organisation
    organisations = admin.list_organisations(hub)
    groups = [g.name for g in admin.list_groups(hub, me)]
    return {
        "sharing": chosen,
        "options": _options(organisations, groups, me, chosen),
        "preview": _preview(request, organisations, groups, me, chosen),
    }


# --- the submit page --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportForm:
    """The free-text form as typed."""

    title: str = ""
    text: str = ""
    format: str = "auto"


def _size(limit: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if limit >= size:
            return f"{limit / size:.0f} {unit}"
    return f"{limit} bytes"


def _submit_page(
    request: Request,
    session: SessionInfo,
    chosen: Sharing,
    *,
    stix_text: str = "",
    stix_error: str = "",
    stix_note: str = "",
    report: ReportForm | None = None,
    report_error: str = "",
    status: int = 200,
) -> HTMLResponse:
    hub = hub_of(request)
    drafts = reports.list_drafts(hub, session.account.organisation)
    context: dict[str, object] = {
        **_sharing_context(request, session, chosen),
        "stix_text": stix_text,
        "stix_error": stix_error,
        "stix_note": stix_note,
        "report": report or ReportForm(),
        "report_error": report_error,
        "report_formats": REPORT_FORMATS,
        "open_drafts": sum(1 for d in drafts if d.status == "draft"),
        "max_size": _size(hub.config.max_content_length),
        "max_report_chars": reports.MAX_SOURCE_CHARS,
    }
    return render(request, "submit/index.html", context, session=session, status=status)


@router.get("/submit")
def submit_page(request: Request, session: Viewer) -> HTMLResponse:
    """Upload STIX or write a report; choose TLP, scope and attribution; see who will read it."""
    chosen = Sharing.of(request.query_params, hub_of(request).config.default_tlp)
    return _submit_page(request, session, chosen)


def _upload_text(form: FormData, name: str) -> tuple[str, str | None]:
    """The text of an uploaded file field (``""`` when none was chosen) and its name."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "", None
    data = upload.file.read()
    try:
        return data.decode("utf-8-sig"), upload.filename
    except UnicodeDecodeError:
        raise InvalidInput(
            f"{upload.filename} is not UTF-8 text: save it as UTF-8 and try again"
        ) from None


def _stix_source(form: FormData) -> tuple[str, str]:
    """(the JSON text to submit, where it came from); file and paste box are exclusive."""
    pasted = _text(form, "stix_text")
    uploaded, filename = _upload_text(form, "stix_file")
    if filename and pasted.strip():
        raise InvalidInput(
            "you chose a file and also pasted JSON: clear the box or the file, then try again"
        )
    if filename:
        return uploaded, filename
    return pasted, PASTED


def parse_stix(text: str, source: str) -> list[object]:
    """The objects of a STIX bundle, a TAXII envelope, a JSON list of objects or a single
    object; ``InvalidInput`` saying what is wrong (and where, for malformed JSON)."""
    if not text.strip():
        raise InvalidInput("choose a STIX file or paste STIX JSON: there is nothing to submit")
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if isinstance(document, list):
        items: list[object] = document
    elif (
        isinstance(document, dict)
        and "objects" not in document
        and isinstance(document.get("type"), str)
        and document.get("type") != "bundle"
    ):
        items = [document]
    else:
        try:
            items = ingest.envelope_objects(document)
        except InvalidInput as error:
            raise InvalidInput(f"{source} is not STIX: {error.message}") from None
    if not items:
        raise InvalidInput(f"{source} holds no STIX objects: nothing to submit")
    return items


@router.post("/submit/preview")
def preview(request: Request, posted: Post) -> Response:
    """Who will see it. htmx: the ``audience`` fragment; otherwise the whole submit page
    with the preview, keeping the pasted JSON (and an uploaded file's text, which a
    browser cannot keep in a file field)."""
    session, form = posted.session, posted.form
    chosen = Sharing.of(form, hub_of(request).config.default_tlp)
    if is_htmx(request):
        context = _sharing_context(request, session, chosen)
        return render(
            request, "submit/audience.html", context, session=session, fragment="audience"
        )
    note = ""
    try:
        text, source = _stix_source(form)
    except InvalidInput as error:
        text, note = _text(form, "stix_text"), error.message
    else:
        if source != PASTED and text:
            if len(text) <= KEPT_UPLOAD_CHARS:
                note = f"The content of {source} is in the box below, ready to submit."
            else:
                text, note = "", f"Choose {source} again before submitting."
    report = ReportForm(_text(form, "title"), _text(form, "report_text"), _text(form, "format"))
    return _submit_page(request, session, chosen, stix_text=text, stix_note=note, report=report)


@router.post("/submit/stix")
def submit_stix(request: Request, posted: Post) -> Response:
    """Store the uploaded or pasted STIX with the chosen TLP, scope and attribution (as
    ``POST /api/v1/objects``), then show the status; a bad form is shown again (400) with
    the choices kept and the JSON in the paste box, and nothing is stored."""
    hub = hub_of(request)
    session, form = posted.session, posted.form
    me = session.account.organisation
    chosen = Sharing.of(form, hub.config.default_tlp)
    text, source = _text(form, "stix_text"), PASTED
    try:
        text, source = _stix_source(form)
        items = parse_stix(text, source)
        tlp, scope, mode = chosen.level(), chosen.scope(), chosen.mode()
        record = submission.submit(hub, me, DEFAULT_COLLECTION_ALIAS, items, tlp, scope, mode)
    except ShieldwallError as error:
        kept = text if len(text) <= KEPT_UPLOAD_CHARS else ""
        note = ""
        if source != PASTED:
            note = (
                f"The content of {source} is in the box below: correct it there and submit again."
                if kept
                else f"Choose {source} again after correcting it."
            )
        return _submit_page(
            request,
            session,
            chosen,
            stix_text=kept,
            stix_error=error.message,
            stix_note=note,
            status=status_of(error)[0],
        )
    return redirect_with(f"/ui/submit/status/{record.id}")


# --- the result of a submission ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One entry of a status: the object id, its type and the hub's message."""

    id: str
    type: str
    version: str
    message: str

    @property
    def already_stored(self) -> bool:
        """Sent before: nothing new was stored."""
        return self.message.startswith("already stored")


def _outcomes(entries: object) -> list[Outcome]:
    found: list[Outcome] = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            stix_id = str(entry.get("id", ""))
            found.append(
                Outcome(
                    stix_id,
                    stix_id.partition("--")[0] if "--" in stix_id else "",
                    str(entry.get("version", "")),
                    str(entry.get("message") or ""),
                )
            )
    return found


@router.get("/submit/status/{status_id}")
def status_page(request: Request, session: Viewer, status_id: str) -> HTMLResponse:
    """What a submission stored and refused, with links to the stored objects (404 for
    anyone but the submitting organisation)."""
    record = reading.get_status(hub_of(request), session.account.organisation, status_id)
    details = orjson.loads(record.details)
    successes = _outcomes(details.get("successes"))
    failures = _outcomes(details.get("failures"))
    types = Counter(o.type for o in successes if not o.already_stored)
    context = {
        "record": record,
        "successes": successes,
        "failures": failures,
        "warnings": [o for o in successes if o.message and not o.already_stored],
        "stored": sum(1 for o in successes if not o.already_stored),
        "types": sorted(types.items()),
    }
    return render(request, "submit/status.html", context, session=session)


# --- free-text reports: drafts ----------------------------------------------------------


def _report_source(form: FormData) -> tuple[ReportForm, str]:
    """(the report as typed or uploaded, the format to analyse it in); a file and typed
    text are exclusive, and ``auto`` detects the format from the file name or the text."""
    title, typed = _text(form, "title").strip(), _text(form, "report_text")
    chosen = _text(form, "format") or "auto"
    uploaded, filename = _upload_text(form, "report_file")
    if filename and typed.strip():
        raise InvalidInput(
            "you chose a file and also typed a report: clear the box or the file, then try again"
        )
    text = uploaded if filename else typed
    if chosen != "auto" and chosen not in reports.FORMATS:
        raise InvalidInput(f"unknown format {chosen!r}: choose one from the list")
    fmt = detect_format(filename, text) if chosen == "auto" else chosen
    return ReportForm(title or (filename or ""), text, chosen), fmt


@router.post("/submit/report")
def submit_report(request: Request, posted: Post) -> Response:
    """Keep a report as a private draft and open its review; nothing is shared yet."""
    hub = hub_of(request)
    session, form = posted.session, posted.form
    me = session.account.organisation
    typed = ReportForm(_text(form, "title"), _text(form, "report_text"), _text(form, "format"))
    try:
        typed, fmt = _report_source(form)
        _check_title(hub, me, typed.title)
        draft = reports.create_draft(hub, me, typed.text, fmt, typed.title)
    except ShieldwallError as error:
        return _submit_page(
            request,
            session,
            Sharing(_tlp_value(hub.config.default_tlp)),
            report=typed if len(typed.text) <= reports.MAX_SOURCE_CHARS else ReportForm(),
            report_error=error.message,
            status=status_of(error)[0],
        )
    return redirect_with(
        f"/ui/drafts/{draft.record.id}",
        "Your report is kept as a private draft: review it, then publish.",
    )


def _check_title(hub: Hub, me: Organisation, title: str) -> None:
    """A title is published as written (it is not redacted): refuse one that names the
    victim (the organisation's own name, domains, ranges or keywords, or personal data)."""
    hits = find_in_text(title, reports.organisation_assets(hub, me))
    if hits:
        found = ", ".join(sorted({h.value for h in hits}))
        raise InvalidInput(
            f"the title names a victim detail ({found}): titles are published as written,"
            " so choose one that does not identify the victim"
        )


@router.get("/drafts")
def drafts_page(request: Request, session: Viewer) -> HTMLResponse:
    """The organisation's report drafts, most recently changed first."""
    found = reports.list_drafts(hub_of(request), session.account.organisation)
    return render(request, "submit/drafts.html", {"drafts": found}, session=session)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of the report text: plain (``kind`` empty), an ``indicator`` or a
    ``victim`` detail; ``note`` says what it is."""

    text: str
    kind: str = ""
    note: str = ""


def highlight(text: str, marks: Sequence[tuple[int, int, str, str]]) -> list[Segment]:
    """``text`` cut into segments by ``marks`` (start, end, kind, note). Where marks
    overlap, a victim detail wins over an indicator (a URL on the victim's own domain is
    shown as a victim detail). The segments' text is the report's own: templates escape it."""
    spans = sorted(
        (max(0, s), min(len(text), e), kind, note) for s, e, kind, note in marks if e > s
    )
    points = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    segments: list[Segment] = []
    active: list[tuple[int, int, str, str]] = []
    pending = iter(spans)
    upcoming = next(pending, None)
    for start, end in pairwise(points):
        while upcoming is not None and upcoming[0] <= start:
            active.append(upcoming)
            upcoming = next(pending, None)
        active = [m for m in active if m[1] > start]
        chosen = next((m for m in active if m[2] == "victim"), active[0] if active else None)
        kind, note = (chosen[2], chosen[3]) if chosen else ("", "")
        if segments and segments[-1].kind == kind and segments[-1].note == note:
            segments[-1] = Segment(segments[-1].text + text[start:end], kind, note)
        else:
            segments.append(Segment(text[start:end], kind, note))
    return segments


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    """An extracted indicator and what review does with it."""

    kind: str
    value: str
    places: int
    kept: bool
    victim: bool  # the organisation's own asset
    left_out: bool  # ... and left out of the bundle because redaction is on


@dataclass(frozen=True, slots=True)
class VictimRow:
    """A victim detail the hub found, and what happens to it."""

    value: str
    why: str
    where: str
    outcome: str


def _review_context(draft: reports.Draft) -> dict[str, object]:
    analysis, review = draft.analysis, draft.review
    extraction = analysis.extraction
    own = {f.value for f in analysis.flags if f.where == "indicator"}
    marks: list[tuple[int, int, str, str]] = []
    rows: list[IndicatorRow] = []
    for indicator in extraction.indicators:
        victim = indicator.value in own
        note = "victim detail: your own asset" if victim else f"indicator ({indicator.kind})"
        marks.extend((s, e, "victim" if victim else "indicator", note) for s, e in indicator.spans)
        dropped = indicator.value in analysis.dropped_indicators
        rows.append(
            IndicatorRow(
                indicator.kind,
                indicator.value,
                len(indicator.spans),
                not dropped,
                victim,
                victim and review.redact,
            )
        )
    victims: list[VictimRow] = []
    for flag in analysis.flags:
        why = RULE_WORDS.get(flag.rule, flag.rule)
        if flag.where == "text":
            marks.append((flag.start, flag.end, "victim", f"victim detail: {why}"))
            outcome = f"replaced with {REDACTED}" if review.redact else "kept (redaction is off)"
            where = "the text"
        else:
            outcome = "indicator left out" if review.redact else "kept (redaction is off)"
            where = "an indicator"
        victims.append(VictimRow(flag.value, why, where, outcome))
    objects = analysis.bundle.get("objects")
    published = objects if isinstance(objects, list) else []
    counts = Counter(str(o.get("type")) for o in published if isinstance(o, dict))
    return {
        "draft": draft,
        "review": review,
        "segments": highlight(extraction.text, marks),
        "indicators": rows,
        "victims": victims,
        "skipped": extraction.skipped,
        "techniques": extraction.techniques,
        "malware": extraction.malware,
        "tools": extraction.tools,
        "vulnerabilities": extraction.vulnerabilities,
        "object_counts": sorted(counts.items()),
        "bundle_json": orjson.dumps(analysis.bundle, option=orjson.OPT_INDENT_2).decode(),
    }


def _draft_page(
    request: Request,
    session: SessionInfo,
    draft: reports.Draft,
    chosen: Sharing,
    *,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    context = {
        **_sharing_context(request, session, chosen),
        **_review_context(draft),
        "error": error,
    }
    return render(request, "submit/draft.html", context, session=session, status=status)


@router.get("/drafts/{draft_id}")
def draft_page(request: Request, session: Viewer, draft_id: str) -> HTMLResponse:
    """A draft's review: the text with indicators and victim details marked, the
    indicators to keep, the victim details removed, and how to publish it (404 for drafts
    of other organisations). Query parameters preset the sharing choices."""
    hub = hub_of(request)
    draft = reports.get_draft(hub, session.account.organisation, draft_id)
    chosen = Sharing.of(request.query_params, hub.config.default_tlp)
    return _draft_page(request, session, draft, chosen)


def _review_of(form: FormData, previous: reports.Review) -> reports.Review:
    """The review the form asks for. Indicators listed on the page (``shown``) and not
    ticked (``keep``) are struck out; values struck out earlier and not on the page now
    (e.g. benign values hidden again) stay struck out."""
    shown = set(_all_texts(form, "shown"))
    kept = set(_all_texts(form, "keep"))
    removed = (previous.removed - shown) | (shown - kept)
    return reports.Review(
        redact=_text(form, "redact") == "on",
        removed=frozenset(removed),
        include_benign=_text(form, "include_benign") == "on",
    )


def _all_texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def _save_review(request: Request, posted: Posted, draft_id: str) -> reports.Draft:
    hub = hub_of(request)
    me = posted.session.account.organisation
    current = reports.get_draft(hub, me, draft_id)
    if _text(posted.form, "review_form") != "1":  # a form without the review part
        return current
    return reports.review_draft(hub, me, draft_id, _review_of(posted.form, current.review))


@router.post("/drafts/{draft_id}")
def save_review(request: Request, posted: Post, draft_id: str) -> Response:
    """Record the review (indicators kept, redaction, benign values) and come back to it
    with the same sharing choices."""
    chosen = Sharing.of(posted.form, hub_of(request).config.default_tlp)
    _save_review(request, posted, draft_id)
    return redirect_with(f"/ui/drafts/{draft_id}?{chosen.query()}", "Your review was saved.")


@router.post("/drafts/{draft_id}/preview")
def preview_draft(request: Request, posted: Post, draft_id: str) -> Response:
    """Without JavaScript: save the review and show the page with who will see it."""
    chosen = Sharing.of(posted.form, hub_of(request).config.default_tlp)
    draft = _save_review(request, posted, draft_id)
    return _draft_page(request, posted.session, draft, chosen)


@router.post("/drafts/{draft_id}/publish")
def publish_draft(request: Request, posted: Post, draft_id: str) -> Response:
    """Save the review and publish what it produces with the chosen TLP, scope and
    attribution; then show the status. A refused publication shows the page again."""
    hub = hub_of(request)
    me = posted.session.account.organisation
    chosen = Sharing.of(posted.form, hub.config.default_tlp)
    draft = _save_review(request, posted, draft_id)
    try:
        record = reports.publish_draft(
            hub, me, draft_id, chosen.level(), chosen.scope(), chosen.mode()
        )
    except ShieldwallError as error:
        return _draft_page(
            request, posted.session, draft, chosen, error=error.message, status=status_of(error)[0]
        )
    return redirect_with(
        f"/ui/submit/status/{record.id}", f"Your report “{draft.record.name}” was published."
    )


@router.post("/drafts/{draft_id}/delete")
def delete_draft(request: Request, posted: Post, draft_id: str) -> Response:
    """Delete one of the organisation's drafts (what was published stays published)."""
    hub = hub_of(request)
    me = posted.session.account.organisation
    draft = reports.get_draft(hub, me, draft_id)
    reports.delete_draft(hub, me, draft_id)
    return redirect_with("/ui/drafts", f"The draft “{draft.record.name}” was deleted.")
