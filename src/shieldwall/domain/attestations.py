"""Security attestations between firms and the organisations that retain them (issue #12).

Pure rules, no I/O (docs/attestations.md):

- **Templates** are questionnaires: a name and an immutable version holding typed
  questions (``yesno``, ``date``, ``text``, ``choice``, ``number``). ``parse_questions``
  checks a template; ``check_answers`` checks answers against it and names the question
  at fault. ``DEFAULT_TEMPLATE`` is the baseline drawn from common bank requirements of
  law firms (the migration that creates the tables stores it as version 1).
- **Who may view** an attestation: ``may_view`` is the one rule every read path calls
  (list, show, history, evidence download, reminders). The firm sees its own; another
  organisation sees a *published or superseded* version only while it holds an active
  grant from that firm for that template; nobody else, operators included.
- **Evidence** files: ``sniff_media_type`` judges a file by its content (PDF, PNG, JPEG,
  plain UTF-8 text; markup such as HTML or SVG is not plain text), never by the name or
  the type the client claims; ``check_filename`` refuses names that could act as a path.
- **Expiry** (``expiry``) and **reminders** (``due_thresholds``) are computed from the
  hub clock at read time; nothing stores an "expired" flag.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.organisations import Organisation

DAY = 86_400 * 1_000_000  # microseconds
MAX_QUESTIONS = 200
MAX_TEXT = 5000
MAX_FILENAME = 200
MAX_EVIDENCE_FILES = 50
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


@dataclass(frozen=True, slots=True)
class AttestationConfig:
    """Attestation settings (``SHIELDWALL_ATTEST_*``; docs/configuration.md).

    ``evidence_max_bytes``: largest evidence file. ``reminder_days``: days before expiry at
    which reminders go out. ``reminder_interval_seconds``: seconds between reminder passes
    of each server process (0: none; run ``shieldwall attest remind``).
    """

    evidence_max_bytes: int = 10 * 1024 * 1024
    reminder_days: tuple[int, ...] = (30, 7)
    reminder_interval_seconds: int = 3600


class QuestionType(StrEnum):
    """The answer types a question may ask for."""

    YESNO = "yesno"
    DATE = "date"
    TEXT = "text"
    CHOICE = "choice"
    NUMBER = "number"


class Status(StrEnum):
    """An attestation version's life: a draft, then published, then superseded by the
    next published version of the same firm and template."""

    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class RequestStatus(StrEnum):
    """A request's life: pending until the firm grants or declines; a granted request
    becomes revoked when the firm revokes the grant."""

    PENDING = "pending"
    GRANTED = "granted"
    DECLINED = "declined"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Question:
    """One question: ``id`` (the answer's key), its text, type, whether an answer is
    required to publish, and the choices of a ``choice`` question."""

    id: str
    text: str
    type: QuestionType
    required: bool = True
    choices: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "id": self.id,
            "text": self.text,
            "type": self.type.value,
            "required": self.required,
        }
        if self.choices:
            body["choices"] = list(self.choices)
        return body


def check_template_name(name: object) -> str:
    """A template name: lower-case letters, digits, ``.``, ``_``, ``-`` (1-100)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"template name {name!r} must be 1-100 lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def parse_questions(raw: object) -> tuple[Question, ...]:
    """Check a template's questions (a JSON list of objects with ``id``, ``text``,
    ``type``, optional ``required`` and, for ``choice``, ``choices``). ``InvalidInput``
    names the first question at fault."""
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("a template needs a non-empty list of questions")
    if len(raw) > MAX_QUESTIONS:
        raise InvalidInput(f"a template has at most {MAX_QUESTIONS} questions")
    seen: set[str] = set()
    questions: list[Question] = []
    for index, item in enumerate(raw):
        where = f"question {index + 1}"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} must be an object")
        unknown = set(item) - {"id", "text", "type", "required", "choices"}
        if unknown:
            raise InvalidInput(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
        qid = item.get("id")
        if not isinstance(qid, str) or not _ID.match(qid):
            raise InvalidInput(f"{where}: id {qid!r} must be 1-64 of a-z, 0-9, '_' or '-'")
        where = f"question {qid!r}"
        if qid in seen:
            raise InvalidInput(f"{where} appears twice")
        seen.add(qid)
        text = item.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 1000:
            raise InvalidInput(f"{where} needs a text of 1-1000 characters")
        try:
            kind = QuestionType(str(item.get("type")))
        except ValueError:
            choices = ", ".join(t.value for t in QuestionType)
            raise InvalidInput(f"{where}: type must be one of {choices}") from None
        required = item.get("required", True)
        if not isinstance(required, bool):
            raise InvalidInput(f"{where}: required must be true or false")
        options = item.get("choices", [])
        if kind is QuestionType.CHOICE:
            if (
                not isinstance(options, list)
                or len(options) < 2
                or not all(isinstance(o, str) and o.strip() for o in options)
                or len(set(options)) != len(options)
            ):
                raise InvalidInput(f"{where}: a choice question needs 2 or more distinct choices")
        elif options:
            raise InvalidInput(f"{where}: only choice questions have choices")
        questions.append(Question(qid, text.strip(), kind, required, tuple(options)))
    return tuple(questions)


def _check_answer(question: Question, value: object) -> object:
    where = f"answer to {question.id!r} ({question.text})"
    match question.type:
        case QuestionType.YESNO:
            if not isinstance(value, bool):
                raise InvalidInput(f"{where} must be yes or no (true/false)")
            return value
        case QuestionType.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"{where} must be a number")
            if value != value or value in (float("inf"), float("-inf")):
                raise InvalidInput(f"{where} must be a finite number")
            return value
        case QuestionType.DATE:
            return parse_date(value, where).isoformat()
        case QuestionType.CHOICE:
            if value not in question.choices:
                raise InvalidInput(f"{where} must be one of: {', '.join(question.choices)}")
            return value
        case QuestionType.TEXT:
            if not isinstance(value, str):
                raise InvalidInput(f"{where} must be text")
            if len(value) > MAX_TEXT:
                raise InvalidInput(f"{where} is longer than {MAX_TEXT} characters")
            return value


def check_answers(
    questions: Iterable[Question], answers: Mapping[str, object], *, complete: bool
) -> dict[str, object]:
    """The answers, normalised (dates as ``YYYY-MM-DD``). Every answer must match its
    question's type and name a question of the template; with ``complete`` (publishing)
    every required question must be answered. ``InvalidInput`` names the question."""
    by_id = {q.id: q for q in questions}
    unknown = sorted(set(answers) - set(by_id))
    if unknown:
        raise InvalidInput(f"no question {unknown[0]!r} in this template")
    clean: dict[str, object] = {}
    for qid, question in by_id.items():
        value = answers.get(qid)
        if value is None or (isinstance(value, str) and not value.strip()):
            if complete and question.required:
                raise InvalidInput(f"question {qid!r} ({question.text}) needs an answer")
            continue
        clean[qid] = _check_answer(question, value)
    return clean


def parse_date(value: object, where: str = "date") -> date:
    """A ``YYYY-MM-DD`` calendar date, or ``InvalidInput`` naming ``where``."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise InvalidInput(f"{where} must be a date like 2026-01-31")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{where}: {value!r} is not a real calendar date") from None


def date_micros(day: date) -> int:
    """Midnight UTC at the start of ``day``, in microseconds since the epoch."""
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000


def micros_date(micros: int) -> str:
    """The UTC calendar date of a timestamp, ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(micros // 1_000_000, tz=UTC).date().isoformat()


def validity(valid_from: object, valid_until: object) -> tuple[int, int]:
    """Check a validity period (dates; ``valid_until`` is the first day it no longer
    holds, so it expires at midnight UTC starting that day). Microseconds."""
    start = parse_date(valid_from, "valid_from")
    end = parse_date(valid_until, "valid_until")
    if end <= start:
        raise InvalidInput("valid_until must be after valid_from")
    return date_micros(start), date_micros(end)


# --- access -------------------------------------------------------------------------------


def may_view(
    reader: Organisation, firm_org_id: int, status: str, granted_to: frozenset[int]
) -> bool:
    """THE rule for every read of an attestation version (its answers, evidence, history,
    and the reminders about it).

    ``granted_to`` holds the organisations with an *active* grant from the firm for this
    attestation's template, read in the same transaction. The firm sees every version of
    its own, drafts included; a grantee sees published and superseded versions (its
    history) while its grant stands; everyone else sees nothing, operators included (they
    manage templates, not firms' answers)."""
    if reader.id == firm_org_id:
        return True
    if status == Status.DRAFT.value:
        return False
    return reader.id in granted_to


# --- evidence -----------------------------------------------------------------------------

MEDIA_TYPES = ("application/pdf", "image/png", "image/jpeg", "text/plain")
_MARKUP = re.compile(rb"^\s*<(?:!doctype|html|svg|\?xml|script|head|body|iframe|!--)", re.I)
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def sniff_media_type(content: bytes) -> str | None:
    """The media type of ``content`` judged by its bytes alone, if it is one the hub
    accepts (``MEDIA_TYPES``); None otherwise. Markup (HTML, SVG, XML) is refused even
    though it is text: a browser could run it."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    body = content.removeprefix(b"\xef\xbb\xbf")
    if not body or _TEXT_CONTROL.search(body) or _MARKUP.match(body):
        return None
    if b"<svg" in body[:4096].lower() or b"<script" in body[:4096].lower():
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def check_filename(name: object) -> str:
    """The original name of an evidence file, kept for display only (the hub never uses
    it as a path). Refused: empty or longer than ``MAX_FILENAME``, path separators (``/``,
    ``\\``), a drive or stream colon, ``..``, NUL and other control characters, or a name
    that is only dots and spaces."""
    if not isinstance(name, str):
        raise InvalidInput("an evidence file needs a name")
    clean = unicodedata.normalize("NFC", name).strip()
    if not clean or len(clean) > MAX_FILENAME:
        raise InvalidInput(f"an evidence file name must be 1-{MAX_FILENAME} characters")
    if any(c in clean for c in "/\\:") or ".." in clean:
        raise InvalidInput(f"evidence file name {name!r} must not contain '/', '\\', ':' or '..'")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in clean):
        raise InvalidInput("an evidence file name must not contain control characters")
    if not clean.strip(". "):
        raise InvalidInput(f"{name!r} is not a file name")
    return clean


# --- expiry and reminders -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expiry:
    """Where an attestation stands against the hub clock."""

    expires_at: int
    expired: bool
    days_left: int

    def to_json(self) -> dict[str, object]:
        return {
            "expires_at": micros_date(self.expires_at),
            "expired": self.expired,
            "days_left": self.days_left,
        }


def expiry(valid_until: int, now: int) -> Expiry:
    """``days_left``: whole days until ``valid_until`` (rounded up; 0 once expired)."""
    left = valid_until - now
    return Expiry(valid_until, left <= 0, max(0, -(-left // DAY)))


def due_thresholds(valid_until: int, now: int, thresholds: Iterable[int]) -> list[int]:
    """The reminder thresholds (days before expiry) already reached for an attestation
    that has not yet expired, largest first."""
    if now >= valid_until:
        return []
    return sorted({t for t in thresholds if now >= valid_until - t * DAY}, reverse=True)


def changed_answers(old: Mapping[str, object], new: Mapping[str, object]) -> list[str]:
    """The question ids whose answers differ between two versions (added, removed or
    changed), sorted."""
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def parse_reminder_days(text: str) -> tuple[int, ...]:
    """``"30,7"`` → ``(30, 7)``; empty: no reminders."""
    days: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 3650:
            raise InvalidInput(f"reminder days must be whole numbers 1-3650, not {part!r}")
        days.append(int(part))
    return tuple(sorted(set(days), reverse=True))


# --- the default questionnaire -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """A template's content: name, version, title, questions."""

    name: str
    version: int
    title: str
    questions: tuple[Question, ...] = field(default_factory=tuple)


DEFAULT_TEMPLATE = TemplateSpec(
    "bank-law-firm-baseline",
    1,
    "Baseline security assurances banks require of the law firms they retain",
    (
        Question(
            "mfa",
            "Is multi-factor authentication enforced for all remote and e-mail "
            "access and for all privileged accounts?",
            QuestionType.YESNO,
        ),
        Question(
            "network_segmentation",
            "Are systems holding client data segmented from the rest of the firm's network?",
            QuestionType.YESNO,
        ),
        Question(
            "no_public_network_work",
            "Is bank-related work done only on computers not reachable from a public network?",
            QuestionType.YESNO,
        ),
        Question(
            "encryption_at_rest",
            "Is client data encrypted at rest (devices, servers, backups)?",
            QuestionType.YESNO,
        ),
        Question(
            "encryption_in_transit",
            "Is client data encrypted in transit (TLS 1.2 or "
            "later, encrypted e-mail where required)?",
            QuestionType.YESNO,
        ),
        Question(
            "incident_response_plan",
            "Does the firm maintain and test an incident-response plan?",
            QuestionType.YESNO,
        ),
        Question(
            "last_penetration_test",
            "Date of the last independent penetration test",
            QuestionType.DATE,
        ),
        Question(
            "breach_notification_hours",
            "Within how many hours will the firm notify the bank of a breach affecting its data?",
            QuestionType.NUMBER,
        ),
        Question("cyber_insurance", "Does the firm hold cyber insurance?", QuestionType.YESNO),
        Question(
            "cyber_insurance_cover",
            "Cyber insurance cover (amount and currency)",
            QuestionType.TEXT,
            required=False,
        ),
        Question(
            "security_framework",
            "Security framework the firm is certified against or follows",
            QuestionType.CHOICE,
            required=False,
            choices=("ISO 27001", "SOC 2", "Cyber Essentials Plus", "NIST CSF", "other", "none"),
        ),
        Question("notes", "Anything else the bank should know", QuestionType.TEXT, required=False),
    ),
)
