"""Who will be able to read a submission, before it is made (pure): the audience preview
of the web interface's submit and review pages.

Nothing here restates the sharing rule: readers are the organisations for which
``policy.may_read`` holds, where an object may go is ``policy.may_leave``, and whether a
reader is *addressed* by the label (rather than reading it only because it operates the
hub) is ``alerts.addressed``. The submitter is left out of the readers: it always reads
what it submitted, attributed or anonymous to members.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from shieldwall.domain.alerts import addressed
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.policy import AccessLabel, Destination, may_leave, may_read


@dataclass(frozen=True, slots=True)
class Reader:
    """An organisation that will be able to read the object. ``by_role`` is true when the
    label does not address it and it reads the object only because it operates the hub."""

    name: str
    sector: str
    country: str
    by_role: bool = False


@dataclass(frozen=True, slots=True)
class Audience:
    """The readers besides the submitter (sorted by name), counted by sector and by
    country, and whether the object may leave the hub for partner hubs or public feeds."""

    readers: tuple[Reader, ...]
    by_sector: dict[str, int]
    by_country: dict[str, int]
    partner_hubs: bool
    public_feed: bool

    @property
    def count(self) -> int:
        """How many organisations besides the submitter may read it."""
        return len(self.readers)

    @property
    def names(self) -> tuple[str, ...]:
        """The readers' names, sorted."""
        return tuple(r.name for r in self.readers)


def _counted(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def audience(label: AccessLabel, organisations: Iterable[Organisation]) -> Audience:
    """The audience of an object labelled ``label`` among ``organisations`` (every
    organisation of the hub, with its current sector, country and groups)."""
    readers = sorted(
        (o for o in organisations if o.id != label.submitter_org_id and may_read(o, label)),
        key=lambda o: (o.name.lower(), o.id),
    )
    return Audience(
        tuple(
            Reader(o.name, o.sector.value, o.country, by_role=not addressed(o, label))
            for o in readers
        ),
        _counted(o.sector.value for o in readers),
        _counted(o.country for o in readers),
        may_leave(label, Destination.PARTNER_HUB),
        may_leave(label, Destination.PUBLIC_FEED),
    )
