"""Report intake use cases: analyse text, keep private drafts, publish reviewed STIX.

A draft holds the source text and the analyst's review choices (redact victim details,
values struck out, keep benign values); the bundle is rebuilt from them each time, so
what is published is exactly what was last reviewed. Drafts are readable only by the
organisation that created them, until published with a chosen TLP, scope and attribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import InvalidInput, NotFound
from shieldwall.domain.intake import Analysis, analyse
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.scope import Scope
from shieldwall.domain.scrub import Assets
from shieldwall.domain.tlp import Tlp
from shieldwall.services import submission
from shieldwall.services.admin import DEFAULT_COLLECTION_ALIAS, assets_of
from shieldwall.services.context import Hub
from shieldwall.services.ports import DraftRecord, StatusRecord

FORMATS = ("text", "markdown", "asciidoc", "html")
MAX_SOURCE_CHARS = 2_000_000


@dataclass(frozen=True, slots=True)
class Review:
    """The analyst's choices on a draft."""

    redact: bool = True
    removed: frozenset[str] = frozenset()
    include_benign: bool = False

    def to_json(self) -> str:
        return orjson.dumps(
            {
                "redact": self.redact,
                "removed": sorted(self.removed),
                "include_benign": self.include_benign,
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str) -> Review:
        data = orjson.loads(text)
        return cls(
            bool(data.get("redact", True)),
            frozenset(data.get("removed", [])),
            bool(data.get("include_benign", False)),
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """A draft and its current analysis."""

    record: DraftRecord
    review: Review
    analysis: Analysis


def organisation_assets(hub: Hub, organisation: Organisation) -> Assets:
    """An organisation's declared assets, ready for matching."""
    pairs = assets_of(hub, organisation)
    return Assets.parse(
        [v for k, v in pairs if k == "domain"],
        [v for k, v in pairs if k == "cidr"],
        [v for k, v in pairs if k == "keyword"] + [organisation.name],
    )


def _check(text: str, fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if not text.strip():
        raise InvalidInput("the report is empty")
    if len(text) > MAX_SOURCE_CHARS:
        raise InvalidInput(f"the report is longer than {MAX_SOURCE_CHARS} characters")


def extract_report(
    hub: Hub, organisation: Organisation, text: str, fmt: str, name: str, review: Review
) -> Analysis:
    """Analyse a report without storing anything (flags use the caller's assets)."""
    _check(text, fmt)
    return analyse(
        text,
        fmt,
        organisation_assets(hub, organisation),
        name=name or "Incident report",
        created=hub.clock.now(),
        new_id=lambda t: f"{t}--{hub.ids.uuid4()}",
        redact=review.redact,
        include_benign=review.include_benign,
        removed_values=review.removed,
        created_by_ref=organisation.identity_id,
    )


def _analyse(hub: Hub, organisation: Organisation, record: DraftRecord, review: Review) -> Draft:
    analysis = extract_report(hub, organisation, record.source, record.format, record.name, review)
    return Draft(record, review, analysis)


def create_draft(hub: Hub, organisation: Organisation, text: str, fmt: str, name: str) -> Draft:
    """Store a new private draft (victim details redacted by default) and analyse it."""
    _check(text, fmt)
    now = hub.clock.now()
    review = Review()
    record = DraftRecord(
        hub.ids.uuid4(),
        organisation.id,
        (name or "Incident report")[:300],
        fmt,
        text,
        review.to_json(),
        "draft",
        now,
        now,
        None,
    )
    draft = _analyse(hub, organisation, record, review)  # fails before storing bad input
    with hub.store.write() as tx:
        tx.save_draft(record)
    return draft


def _owned(hub: Hub, organisation: Organisation, draft_id: str) -> DraftRecord:
    with hub.store.read() as tx:
        record = tx.draft(draft_id)
    if record is None or record.org_id != organisation.id:
        raise NotFound(f"no draft {draft_id}")
    return record


def get_draft(hub: Hub, organisation: Organisation, draft_id: str) -> Draft:
    """A draft of the caller's organisation, analysed (``NotFound`` for anyone else's)."""
    record = _owned(hub, organisation, draft_id)
    return _analyse(hub, organisation, record, Review.from_json(record.review))


def list_drafts(hub: Hub, organisation: Organisation) -> list[DraftRecord]:
    """The caller's drafts, most recently changed first."""
    with hub.store.read() as tx:
        return tx.drafts(organisation.id)


def review_draft(hub: Hub, organisation: Organisation, draft_id: str, review: Review) -> Draft:
    """Record the analyst's choices on a draft that is not yet published."""
    record = _owned(hub, organisation, draft_id)
    if record.status != "draft":
        raise InvalidInput("this draft is already published")
    updated = DraftRecord(
        record.id,
        record.org_id,
        record.name,
        record.format,
        record.source,
        review.to_json(),
        record.status,
        record.created_at,
        hub.clock.now(),
        None,
    )
    draft = _analyse(hub, organisation, updated, review)
    with hub.store.write() as tx:
        tx.save_draft(updated)
    return draft


def publish_draft(
    hub: Hub,
    organisation: Organisation,
    draft_id: str,
    tlp: Tlp,
    scope: Scope | None,
    attribution: Attribution,
) -> StatusRecord:
    """Publish what the draft's last review produced, with the chosen TLP, scope and
    attribution (attributed or anonymous to members; unlinkable goes through the
    member-side client). A draft is published once."""
    draft = get_draft(hub, organisation, draft_id)
    if draft.record.status != "draft":
        raise InvalidInput("this draft is already published")
    objects = list(draft.analysis.bundle["objects"])  # type: ignore[call-overload]
    status = submission.submit(
        hub, organisation, DEFAULT_COLLECTION_ALIAS, objects, tlp, scope, attribution
    )
    record = draft.record
    with hub.store.write() as tx:
        tx.save_draft(
            DraftRecord(
                record.id,
                record.org_id,
                record.name,
                record.format,
                record.source,
                record.review,
                "published",
                record.created_at,
                hub.clock.now(),
                status.id,
            )
        )
    return status


def delete_draft(hub: Hub, organisation: Organisation, draft_id: str) -> None:
    """Delete one of the caller's drafts."""
    _owned(hub, organisation, draft_id)
    with hub.store.write() as tx:
        tx.delete_draft(draft_id)
