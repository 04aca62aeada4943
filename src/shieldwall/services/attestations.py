"""Security attestations: questionnaires, firms' answers, requests, grants, evidence and
expiry reminders (docs/attestations.md).

Contracts:

- Attestations are private business documents between two organisations: they are never
  STIX and never reach TAXII, search, matching, feeds or the sharing policy's tables.
- Every read of an attestation version (list, show, history, evidence download, what a
  reminder carries) decides with ``domain.attestations.may_view`` on the grants read in
  the same transaction. What a reader may not view is ``NotFound``, worded exactly like
  an id that does not exist. A revoked grant stops the very next read.
- Operators add templates (new versions; a stored version never changes) and see no
  firm's answers or evidence. Any other organisation may be a firm (publish), a
  requester, or both; the hub does not restrict this by sector (docs say why).
- Each use case is one transaction, audited inside it (``services.audit``); the audit
  detail names ids, organisations, templates and versions, never answers or file bytes.
- Reminders (``remind``): at most once per (attestation version, threshold), claimed by a
  unique row before anything is sent, so concurrent passes do not both send. They reuse
  the alert delivery channels and their webhook signing and SMTP sending; a reminder names
  the attestation, its template, version and expiry date, never its answers.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from typing import Any

import orjson

from shieldwall.domain.attestations import (
    DAY,
    MAX_EVIDENCE_FILES,
    Expiry,
    Question,
    RequestStatus,
    Status,
    changed_answers,
    check_answers,
    check_filename,
    check_template_name,
    due_thresholds,
    expiry,
    may_view,
    micros_date,
    parse_questions,
    sniff_media_type,
    validity,
)
from shieldwall.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.services import audit, delivery
from shieldwall.services.context import Hub
from shieldwall.services.ports import (
    AttestationRecord,
    AttestRequestRecord,
    EvidenceRecord,
    GrantRecord,
    ReadTx,
    TemplateRecord,
)

log = logging.getLogger("shieldwall.attestations")
MAX_MESSAGE = 2000
MAX_SIGNER = 200
_NOT_FOUND = "no attestation {}"


@dataclass(frozen=True, slots=True)
class TemplateView:
    """A template version and its parsed questions."""

    record: TemplateRecord
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class AttestationView:
    """An attestation version as one reader may see it.

    ``changed_since``: for a grantee, the questions whose answers changed since the
    version it last opened (None when it never opened one or it is the same version);
    ``last_viewed_version`` that version. ``current_version``: the published version of
    the same firm and template (None if none)."""

    record: AttestationRecord
    firm: str
    template: TemplateView
    answers: dict[str, Any]
    evidence: list[EvidenceRecord]
    expiry: Expiry
    own: bool
    current_version: int | None
    last_viewed_version: int | None = None
    changed_since: list[str] | None = None


@dataclass(frozen=True, slots=True)
class RequestView:
    """A request with both organisations' names."""

    record: AttestRequestRecord
    requester: str
    firm: str


@dataclass(frozen=True, slots=True)
class GrantView:
    """A grant with both organisations' names."""

    record: GrantRecord
    firm: str
    grantee: str


@dataclass(frozen=True, slots=True)
class ReminderPass:
    """What one ``remind`` pass did: reminders claimed and messages sent or failed."""

    reminders: int = 0
    sent: int = 0
    failed: int = 0


# --- templates ----------------------------------------------------------------------------


def _template_view(record: TemplateRecord) -> TemplateView:
    return TemplateView(record, parse_questions(orjson.loads(record.questions)))


def list_templates(hub: Hub) -> list[TemplateView]:
    """Every template version, by name then version (any organisation may read them)."""
    with hub.store.read() as tx:
        return [_template_view(r) for r in tx.attest_templates()]


def get_template(hub: Hub, name: str, version: int | None = None) -> TemplateView:
    """One template version (None: the latest). ``NotFound`` if absent."""
    with hub.store.read() as tx:
        record = tx.attest_template(name, version)
    if record is None:
        which = f" version {version}" if version is not None else ""
        raise NotFound(f"no template {name!r}{which}")
    return _template_view(record)


def add_template(
    hub: Hub, actor: Organisation, name: str, title: str, questions: object
) -> TemplateView:
    """Operators only: store ``questions`` as the next version of template ``name``
    (version 1 for a new name). Stored versions never change."""
    if actor.role is not Role.OPERATOR:
        raise Forbidden("only operators add attestation templates")
    check_template_name(name)
    if not isinstance(title, str) or not title.strip() or len(title) > 300:
        raise InvalidInput("a template needs a title of 1-300 characters")
    parsed = parse_questions(questions)
    with hub.store.write() as tx:
        latest = tx.attest_template(name, None)
        record = TemplateRecord(
            name,
            (latest.version + 1) if latest else 1,
            title.strip(),
            orjson.dumps([q.to_json() for q in parsed]).decode(),
            actor.id,
            hub.clock.now(),
        )
        tx.add_attest_template(record)
        audit.record(
            tx,
            record.created_at,
            actor.name,
            "attest.template.add",
            {"template": name, "version": record.version},
        )
    return TemplateView(record, parsed)


# --- reading ------------------------------------------------------------------------------


def _grantees(tx: ReadTx, firm_org_id: int, template_name: str) -> frozenset[int]:
    return frozenset(
        g.grantee_org_id for g in tx.attest_grants(firm_org_id, None, template_name) if g.active
    )


def _viewable(tx: ReadTx, reader: Organisation, attestation_id: str) -> AttestationRecord:
    """The version if ``reader`` may view it; ``NotFound`` alike for absent and hidden."""
    record = tx.attestation(attestation_id)
    if record is None or not may_view(
        reader,
        record.firm_org_id,
        record.status,
        _grantees(tx, record.firm_org_id, record.template_name),
    ):
        raise NotFound(_NOT_FOUND.format(attestation_id))
    return record


def _answers(record: AttestationRecord) -> dict[str, Any]:
    value = orjson.loads(record.answers)
    return dict(value) if isinstance(value, dict) else {}


def _view(
    tx: ReadTx,
    hub: Hub,
    reader: Organisation,
    record: AttestationRecord,
    grant: GrantRecord | None = None,
) -> AttestationView:
    firm = tx.organisation(record.firm_org_id)
    template = tx.attest_template(record.template_name, record.template_version)
    if template is None:  # the foreign key of a stored row; cannot happen
        raise NotFound(_NOT_FOUND.format(record.id))
    current = tx.current_attestations([(record.firm_org_id, record.template_name)])
    answers = _answers(record)
    changed: list[str] | None = None
    last = grant.last_viewed_version if grant else None
    if last is not None and record.version is not None and last != record.version:
        before = next(
            (
                r
                for r in tx.attestation_history(record.firm_org_id, record.template_name)
                if r.version == last
            ),
            None,
        )
        if before is not None:
            changed = changed_answers(_answers(before), answers)
    return AttestationView(
        record,
        firm.name if firm else "",
        _template_view(template),
        answers,
        tx.evidence_files(record.id),
        expiry(record.valid_until, hub.clock.now()),
        reader.id == record.firm_org_id,
        current[0].version if current else None,
        last,
        changed,
    )


def list_attestations(hub: Hub, reader: Organisation) -> list[AttestationView]:
    """What ``reader`` may see, newest first: its own versions (drafts, published and
    superseded) and, for each active grant it holds, the firm's published version."""
    with hub.store.read() as tx:
        own = tx.attestations_of(reader.id)
        grants = [g for g in tx.attest_grants(None, reader.id, None) if g.active]
        granted = tx.current_attestations((g.firm_org_id, g.template_name) for g in grants)
        by_pair = {(g.firm_org_id, g.template_name): g for g in grants}
        views = [_view(tx, hub, reader, r) for r in own]
        for record in granted:
            grant = by_pair.get((record.firm_org_id, record.template_name))
            if may_view(
                reader,
                record.firm_org_id,
                record.status,
                _grantees(tx, record.firm_org_id, record.template_name),
            ):
                views.append(_view(tx, hub, reader, record, grant))
    return views


def show(hub: Hub, reader: Organisation, attestation_id: str) -> AttestationView:
    """One version with its answers, evidence list and expiry. A grantee's view says what
    changed since the version it last opened, and records that it opened this one."""
    with hub.store.write() as tx:
        record = _viewable(tx, reader, attestation_id)
        grant = None
        if reader.id != record.firm_org_id:
            grant = next(
                g
                for g in tx.attest_grants(record.firm_org_id, reader.id, record.template_name)
                if g.active
            )
        view = _view(tx, hub, reader, record, grant)
        if (
            grant is not None
            and record.version is not None
            and record.version != grant.last_viewed_version
        ):
            tx.save_attest_grant(replace(grant, last_viewed_version=record.version))
    return view


def history(hub: Hub, reader: Organisation, attestation_id: str) -> list[AttestationView]:
    """The published and superseded versions of the same firm and template, newest first
    (each with what changed from the version before it in ``changed_since``)."""
    with hub.store.read() as tx:
        record = _viewable(tx, reader, attestation_id)
        versions = tx.attestation_history(record.firm_org_id, record.template_name)
        grantees = _grantees(tx, record.firm_org_id, record.template_name)
        views: list[AttestationView] = []
        for index, version in enumerate(versions):
            if not may_view(reader, version.firm_org_id, version.status, grantees):
                continue
            view = _view(tx, hub, reader, version)
            older = versions[index + 1] if index + 1 < len(versions) else None
            changed = changed_answers(_answers(older), view.answers) if older else None
            views.append(replace(view, changed_since=changed, last_viewed_version=None))
    return views


def download_evidence(
    hub: Hub, reader: Organisation, evidence_id: str
) -> tuple[EvidenceRecord, bytes]:
    """An evidence file and its bytes, for a reader that may view its attestation
    (``NotFound`` otherwise). The bytes are checked against the stored SHA-256."""
    with hub.store.write() as tx:
        found = tx.evidence_file(evidence_id)
        if found is None:
            raise NotFound(f"no evidence file {evidence_id}")
        try:
            _viewable(tx, reader, found.attestation_id)
        except NotFound:
            raise NotFound(f"no evidence file {evidence_id}") from None
        content = tx.evidence_content(evidence_id)
        if content is None or hashlib.sha256(content).hexdigest() != found.sha256:
            raise Conflict(f"evidence file {evidence_id} does not match its stored digest")
        audit.record(
            tx,
            hub.clock.now(),
            reader.name,
            "attest.evidence.download",
            {"attestation": found.attestation_id, "evidence": evidence_id},
        )
    return found, content


# --- writing (the firm) -------------------------------------------------------------------


def _firm(actor: Organisation) -> None:
    if actor.role is Role.OPERATOR:
        raise Forbidden("operators manage templates; attestations are made by member firms")


def _text(value: str | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    clean = value.strip()
    if len(clean) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters")
    return clean


def _own_draft(tx: ReadTx, actor: Organisation, attestation_id: str) -> AttestationRecord:
    record = tx.attestation(attestation_id)
    if record is None or record.firm_org_id != actor.id:
        raise NotFound(_NOT_FOUND.format(attestation_id))
    if record.status != Status.DRAFT.value:
        raise Conflict(
            f"attestation {attestation_id} is {record.status}; a published version never"
            " changes: start a new draft"
        )
    return record


def save_draft(
    hub: Hub,
    actor: Organisation,
    *,
    attestation_id: str | None = None,
    template: str | None = None,
    answers: dict[str, object] | None = None,
    valid_from: str | None = None,
    valid_until: str | None = None,
    signer_name: str | None = None,
    signer_title: str | None = None,
) -> AttestationRecord:
    """Create a draft against the latest version of ``template`` (no ``attestation_id``)
    or change one of ``actor``'s drafts. Answers given replace the stored ones by
    question; each is checked against its question's type (required ones are checked at
    publication). Dates are ``YYYY-MM-DD``."""
    _firm(actor)
    name = _text(signer_name, "signer_name", MAX_SIGNER)
    title = _text(signer_title, "signer_title", MAX_SIGNER)
    with hub.store.write() as tx:
        now = hub.clock.now()
        if attestation_id is None:
            if not template:
                raise InvalidInput("name the template of the new attestation")
            found = tx.attest_template(template, None)
            if found is None:
                raise NotFound(f"no template {template!r}")
            record = AttestationRecord(
                hub.ids.uuid4(),
                actor.id,
                found.name,
                found.version,
                None,
                Status.DRAFT.value,
                "{}",
                0,
                0,
                "",
                "",
                now,
                None,
            )
        else:
            record = _own_draft(tx, actor, attestation_id)
            found = tx.attest_template(record.template_name, record.template_version)
            if found is None:
                raise NotFound(f"no template {record.template_name!r}")
        questions = _template_view(found).questions
        merged = {**_answers(record), **(answers or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        clean = check_answers(questions, merged, complete=False)
        start, end = record.valid_from, record.valid_until
        if valid_from is not None or valid_until is not None:
            start, end = validity(
                valid_from if valid_from is not None else micros_date(start),
                valid_until if valid_until is not None else micros_date(end),
            )
        record = replace(
            record,
            answers=orjson.dumps(clean, option=orjson.OPT_SORT_KEYS).decode(),
            valid_from=start,
            valid_until=end,
            signer_name=record.signer_name if name is None else name,
            signer_title=record.signer_title if title is None else title,
        )
        tx.save_attestation(record)
        audit.record(
            tx,
            now,
            actor.name,
            "attest.draft.save",
            {"attestation": record.id, "template": record.template_name},
        )
    return record


def add_evidence(
    hub: Hub, actor: Organisation, attestation_id: str, filename: str, content: bytes
) -> EvidenceRecord:
    """Attach a file to one of ``actor``'s drafts. Refused: larger than the configured
    limit, a type other than PDF, PNG, JPEG or plain text *judged by its content*, or a
    name that could act as a path (``domain.attestations.check_filename``). Stored in the
    database under a random id; the name is kept for display only."""
    _firm(actor)
    clean = check_filename(filename)
    limit = hub.config.attestations.evidence_max_bytes
    if len(content) > limit:
        raise InvalidInput(f"evidence file is {len(content)} bytes; the limit is {limit}")
    if not content:
        raise InvalidInput("evidence file is empty")
    media_type = sniff_media_type(content)
    if media_type is None:
        raise InvalidInput(
            f"evidence file {clean!r} is not a PDF, PNG, JPEG or plain-text file (judged by"
            " its content, not its name)"
        )
    with hub.store.write() as tx:
        record = _own_draft(tx, actor, attestation_id)
        if len(tx.evidence_files(record.id)) >= MAX_EVIDENCE_FILES:
            raise InvalidInput(f"at most {MAX_EVIDENCE_FILES} evidence files per attestation")
        evidence = EvidenceRecord(
            hub.ids.uuid4(),
            record.id,
            clean,
            media_type,
            len(content),
            hashlib.sha256(content).hexdigest(),
            hub.clock.now(),
        )
        tx.add_evidence_file(evidence, content)
        audit.record(
            tx,
            evidence.uploaded_at,
            actor.name,
            "attest.evidence.upload",
            {
                "attestation": record.id,
                "evidence": evidence.id,
                "sha256": evidence.sha256,
                "size": evidence.size,
            },
        )
    return evidence


def publish(hub: Hub, actor: Organisation, attestation_id: str) -> AttestationRecord:
    """Publish one of ``actor``'s drafts as the next version of its firm and template:
    every required question answered, a validity period not yet over, a signer. The
    version it replaces becomes ``superseded`` (grantees see the change at once)."""
    _firm(actor)
    with hub.store.write() as tx:
        record = _own_draft(tx, actor, attestation_id)
        template = tx.attest_template(record.template_name, record.template_version)
        if template is None:
            raise NotFound(f"no template {record.template_name!r}")
        check_answers(_template_view(template).questions, _answers(record), complete=True)
        now = hub.clock.now()
        if not record.valid_until:
            raise InvalidInput("set valid_from and valid_until before publishing")
        if record.valid_until <= now:
            raise InvalidInput("the validity period is already over")
        if not record.signer_name or not record.signer_title:
            raise InvalidInput("set signer_name and signer_title before publishing")
        versions = tx.attestation_history(actor.id, record.template_name)
        number = (versions[0].version or 0) + 1 if versions else 1
        record = replace(record, status=Status.PUBLISHED.value, version=number, published_at=now)
        tx.save_attestation(record)
        tx.supersede_attestations(actor.id, record.template_name, record.id)
        audit.record(
            tx,
            now,
            actor.name,
            "attest.publish",
            {"attestation": record.id, "template": record.template_name, "version": number},
        )
    return record


# --- requests and grants ------------------------------------------------------------------


def _names(tx: ReadTx, *ids: int) -> list[str]:
    found = []
    for org_id in ids:
        org = tx.organisation(org_id)
        found.append(org.name if org else "")
    return found


def request_attestation(
    hub: Hub, requester: Organisation, firm_name: str, template: str, message: str = ""
) -> AttestRequestRecord:
    """Ask ``firm_name`` for its attestations of ``template``. A pending request of the
    same pair is returned rather than duplicated."""
    _firm(requester)
    clean = _text(message, "message", MAX_MESSAGE) or ""
    with hub.store.write() as tx:
        firm = tx.organisation_by_name(firm_name)
        if firm is None or firm.role is Role.OPERATOR:
            raise NotFound(f"no organisation named {firm_name!r}")
        if firm.id == requester.id:
            raise InvalidInput("an organisation does not request its own attestation")
        if tx.attest_template(template, None) is None:
            raise NotFound(f"no template {template!r}")
        for existing in tx.attest_requests(requester.id):
            if (
                existing.firm_org_id == firm.id
                and existing.template_name == template
                and existing.status == RequestStatus.PENDING.value
            ):
                return existing
        record = AttestRequestRecord(
            hub.ids.uuid4(),
            requester.id,
            firm.id,
            template,
            clean,
            RequestStatus.PENDING.value,
            hub.clock.now(),
            None,
        )
        tx.save_attest_request(record)
        audit.record(
            tx,
            record.created_at,
            requester.name,
            "attest.request",
            {"request": record.id, "firm": firm.name, "template": template},
        )
    return record


def list_requests(hub: Hub, actor: Organisation) -> list[RequestView]:
    """Requests ``actor`` made or received, newest first."""
    with hub.store.read() as tx:
        return [
            RequestView(r, *_names(tx, r.requester_org_id, r.firm_org_id))
            for r in tx.attest_requests(actor.id)
        ]


def respond(hub: Hub, firm: Organisation, request_id: str, grant: bool) -> RequestView:
    """The firm grants or declines a pending request addressed to it. Granting lets the
    requester see the firm's published attestations of the template, and their history,
    until the firm revokes. Declining grants nothing."""
    with hub.store.write() as tx:
        record = tx.attest_request(request_id)
        if record is None or record.firm_org_id != firm.id:
            raise NotFound(f"no request {request_id}")
        if record.status != RequestStatus.PENDING.value:
            raise Conflict(f"request {request_id} is already {record.status}")
        now = hub.clock.now()
        status = RequestStatus.GRANTED if grant else RequestStatus.DECLINED
        record = replace(record, status=status.value, responded_at=now)
        tx.save_attest_request(record)
        if grant:
            before = tx.attest_grants(firm.id, record.requester_org_id, record.template_name)
            tx.save_attest_grant(
                GrantRecord(
                    firm.id,
                    record.requester_org_id,
                    record.template_name,
                    True,
                    record.id,
                    now,
                    None,
                    before[0].last_viewed_version if before else None,
                )
            )
        requester, firm_name = _names(tx, record.requester_org_id, record.firm_org_id)
        audit.record(
            tx,
            now,
            firm.name,
            "attest.grant" if grant else "attest.decline",
            {"request": record.id, "requester": requester, "template": record.template_name},
        )
    return RequestView(record, requester, firm_name)


def revoke(
    hub: Hub, firm: Organisation, grantee_name: str, template: str | None = None
) -> list[GrantRecord]:
    """Revoke ``firm``'s active grants to ``grantee_name`` (for one template, or all).
    The grantee's next read is ``NotFound``. ``NotFound`` if there was none."""
    with hub.store.write() as tx:
        grantee = tx.organisation_by_name(grantee_name)
        grants = (
            [g for g in tx.attest_grants(firm.id, grantee.id, template) if g.active]
            if grantee
            else []
        )
        if grantee is None or not grants:
            raise NotFound(f"no active grant to {grantee_name!r}")
        now = hub.clock.now()
        revoked = [replace(g, active=False, revoked_at=now) for g in grants]
        for grant in revoked:
            tx.save_attest_grant(grant)
        for request in tx.attest_requests(firm.id):
            if (
                request.firm_org_id == firm.id
                and request.requester_org_id == grantee.id
                and request.status == RequestStatus.GRANTED.value
                and any(g.template_name == request.template_name for g in revoked)
            ):
                tx.save_attest_request(replace(request, status=RequestStatus.REVOKED.value))
        audit.record(
            tx,
            now,
            firm.name,
            "attest.revoke",
            {"grantee": grantee.name, "templates": sorted(g.template_name for g in revoked)},
        )
    return revoked


def list_grants(hub: Hub, actor: Organisation) -> list[GrantView]:
    """Grants ``actor`` gave (as a firm) or holds (as a grantee), active or revoked."""
    with hub.store.read() as tx:
        records = tx.attest_grants(actor.id, None, None) + [
            g for g in tx.attest_grants(None, actor.id, None) if g.firm_org_id != actor.id
        ]
        return [GrantView(g, *_names(tx, g.firm_org_id, g.grantee_org_id)) for g in records]


# --- reminders ----------------------------------------------------------------------------


def _reminder_body(view: dict[str, object], delivery_id: str) -> bytes:
    return orjson.dumps({"event": "attestation.expiring", "delivery": delivery_id, **view})


def remind(hub: Hub) -> ReminderPass:
    """One reminder pass: for each published attestation whose expiry is within a
    configured threshold, claim the (version, threshold) rows (a row already there means
    another pass sent it), then tell the firm and every organisation holding an active
    grant through their delivery channels: one message per attestation and pass, naming
    the smallest threshold reached. Nothing is retried (at most once)."""
    thresholds = hub.config.attestations.reminder_days
    if not thresholds:
        return ReminderPass()
    now = hub.clock.now()
    horizon = now + max(thresholds) * DAY
    with hub.store.read() as tx:
        candidates = tx.expiring_attestations(now, horizon)
    reminders = sent = failed = 0
    for record in candidates:
        due = due_thresholds(record.valid_until, now, thresholds)
        if not due:
            continue
        with hub.store.write() as tx:
            claimed = [t for t in due if tx.claim_attest_reminder(record.id, t, now)]
            grantees = _grantees(tx, record.firm_org_id, record.template_name)
            recipients = [record.firm_org_id, *sorted(grantees)]
            channels = tx.alert_channels(recipients)
            firm = tx.organisation(record.firm_org_id)
        if not claimed:
            continue
        reminders += 1
        left = expiry(record.valid_until, now)
        firm_name = firm.name if firm else ""
        summary: dict[str, object] = {
            "attestation": {
                "id": record.id,
                "firm": firm_name,
                "template": record.template_name,
                "version": record.version,
                **left.to_json(),
            },
            "threshold_days": min(claimed),
        }
        outcomes: list[str] = []
        for channel in channels:
            delivery_id = hub.ids.uuid4()
            try:
                if channel.kind == "webhook":
                    outcome = delivery.post_webhook(
                        hub,
                        channel.target,
                        delivery_id,
                        channel.secret or "",
                        _reminder_body(summary, delivery_id),
                        "attestation.expiring",
                    )
                else:
                    subject = (
                        f"[{hub.config.hub_name}] attestation {record.template_name}"
                        f" v{record.version} of {firm_name}"
                        f" expires on {micros_date(record.valid_until)}"
                    )
                    text = (
                        f"{subject}.\n\n{left.days_left} days left. Open it in the hub: "
                        f"shieldwall attest show {record.id}\n"
                    )
                    outcome = delivery.send_mail(hub, channel.target, delivery_id, subject, text)
            except Exception as exc:  # one broken channel must not stop the others
                log.exception("attestation reminder over channel %s failed", channel.id)
                outcome = delivery.Outcome(False, f"internal error ({type(exc).__name__})")
            if outcome.ok:
                sent += 1
            else:
                failed += 1
            outcomes.append(f"{channel.kind}:{'ok' if outcome.ok else outcome.detail}")
        with hub.store.write() as tx:
            for threshold in claimed:
                tx.finish_attest_reminder(
                    record.id, threshold, "; ".join(outcomes) or "no channels"
                )
            audit.record(
                tx,
                hub.clock.now(),
                "hub",
                "attest.remind",
                {
                    "attestation": record.id,
                    "thresholds": claimed,
                    "channels": len(channels),
                },
            )
    return ReminderPass(reminders, sent, failed)
