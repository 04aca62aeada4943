"""The dashboard (``GET /ui/``): what is new for the signed-in organisation. ``router`` also
carries the feed and object pages (``web/ui/feed.py``), so the area is one router.

Contract: every figure is computed from what ``services`` give the session's organisation
as reader (``reading`` for objects and sightings, ``indicators`` for the live indicators
matching uses, ``alerts.inbox`` for alerts), so it counts only what the organisation may
read. Every read is bounded: per collection at most ``CAP`` of the newest objects are read,
and a figure that reached the bound reads "1,000+" (a chart marks the days it could not
count completely) instead of scanning a large hub.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from shieldwall.domain.errors import NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import ObjectQuery
from shieldwall.services import admin, alerts, indicators, reading
from shieldwall.services.context import Hub
from shieldwall.web.deps import hub_of
from shieldwall.web.ui import feed
from shieldwall.web.ui.feed import DAY, INTELLIGENCE, Row, day_of, rows_of
from shieldwall.web.ui.session import Viewer
from shieldwall.web.ui.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)

CAP = 1000
CHART_DAYS = 30
NEW_DAYS = 7
NEWEST_SHOWN = 10
ALERTS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Recent:
    """The newest object versions a reader may read across its (non-exercise) collections,
    newest first, one per id. ``complete_after``: counts of versions added after this
    moment are exact (``None``: every count is)."""

    items: list[reading.Served]
    complete_after: int | None

    def count_after(self, moment: int) -> tuple[int, bool]:
        """How many were added after ``moment``, and whether that is exact."""
        found = sum(1 for s in self.items if s.row.date_added > moment)
        exact = self.complete_after is None or self.complete_after <= moment
        return found, exact

    def per_day(self, first_day: int, days: int) -> list[tuple[str, int, bool]]:
        """(day, count, exact) for ``days`` UTC days from ``first_day`` (a midnight)."""
        counts = [0] * days
        for served in self.items:
            index = (served.row.date_added - first_day) // DAY
            if 0 <= index < days:
                counts[index] += 1
        return [
            (
                day_of(first_day + i * DAY)[5:],
                counts[i],
                self.complete_after is None or self.complete_after < first_day + i * DAY,
            )
            for i in range(days)
        ]


def newest_everywhere(hub: Hub, reader: Organisation, query: ObjectQuery, cap: int) -> Recent:
    """At most ``cap`` of the newest versions ``query`` selects in each collection the
    reader may read (exercises left out), merged newest first (through ``reading``)."""
    items: dict[str, reading.Served] = {}
    complete_after: int | None = None
    for collection in reading.readable_collections(hub, reader):
        if reading.is_exercise(collection):
            continue
        try:
            page = reading.list_objects(
                hub,
                reader,
                collection.collection_id,
                replace(query, newest_first=True, limit=cap, cursor=None),
            )
        except NotFound:  # a collection the reader may only write to
            continue
        for served in page.items:
            known = items.get(served.row.stix_id)
            if known is None or known.row.date_added < served.row.date_added:
                items[served.row.stix_id] = served
        if page.more and page.items:
            edge = page.items[-1].row.date_added
            complete_after = edge if complete_after is None else max(complete_after, edge)
    ordered = sorted(items.values(), key=lambda s: (s.row.date_added, s.row.seq), reverse=True)
    return Recent(ordered, complete_after)


@dataclass(frozen=True, slots=True)
class Figure:
    """One number of the dashboard (``capped``: at least this many)."""

    value: int
    capped: bool = False

    @property
    def text(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"


def _live_indicators(hub: Hub, reader: Organisation) -> Figure:
    """Indicators the reader may read that are matched now (its matching snapshot)."""
    snapshot = indicators.snapshot(hub, reader)
    with snapshot.lock:
        return Figure(len(snapshot.indicators))


def dashboard_context(hub: Hub, reader: Organisation) -> dict[str, object]:
    """The dashboard's figures, charts and lists for ``reader``."""
    now = hub.clock.now()
    today = now - now % DAY
    first_day = today - (CHART_DAYS - 1) * DAY
    window = ObjectQuery(added_after=first_day - 1)
    objects = newest_everywhere(hub, reader, replace(window, types=INTELLIGENCE), CAP)
    seen = newest_everywhere(hub, reader, replace(window, types=frozenset({"sighting"})), CAP)
    new_count, new_exact = objects.count_after(now - NEW_DAYS * DAY)
    sight_count, sight_exact = seen.count_after(first_day - 1)
    pending = alerts.inbox(hub, reader, None, CAP, unacknowledged=True)
    waiting = [item for item in pending if item.record.sender_org_id != reader.id]
    organisations = admin.list_organisations(hub)
    newest: list[Row] = rows_of(hub, reader, objects.items[:NEWEST_SHOWN], organisations)
    if len(newest) < NEWEST_SHOWN and objects.complete_after is None:
        # a quiet month: the newest objects of any time
        older = newest_everywhere(hub, reader, ObjectQuery(types=INTELLIGENCE), NEWEST_SHOWN)
        newest = rows_of(hub, reader, older.items[:NEWEST_SHOWN], organisations)
    sightings_days = seen.per_day(first_day, CHART_DAYS)
    objects_days = objects.per_day(first_day, CHART_DAYS)
    return {
        "new_intel": Figure(new_count, not new_exact),
        "live": _live_indicators(hub, reader),
        "unacknowledged": Figure(len(waiting), len(pending) >= CAP),
        "sightings_count": Figure(sight_count, not sight_exact),
        "sightings_chart": [(label, value) for label, value, _ in sightings_days],
        "sightings_partial": [label for label, _, exact in sightings_days if not exact],
        "objects_chart": [(label, value) for label, value, _ in objects_days],
        "objects_partial": [label for label, _, exact in objects_days if not exact],
        "chart_from": day_of(first_day),
        "newest": newest,
        "alerts": alerts.inbox(hub, reader, None, ALERTS_SHOWN),
        "new_days": NEW_DAYS,
        "chart_days": CHART_DAYS,
        "cap": CAP,
    }


@router.get("/")
def dashboard(request: Request, session: Viewer) -> HTMLResponse:
    """The signed-in organisation's dashboard."""
    context = dashboard_context(hub_of(request), session.account.organisation)
    return render(request, "home/dashboard.html", context, session=session)


# the feed and object pages (web/ui/feed.py) are served under /ui with the dashboard
router.include_router(feed.router)
