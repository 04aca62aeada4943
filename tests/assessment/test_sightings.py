"""Sightings through the services, on both engines: figures, anonymity, the policy, and
counts under concurrent reports."""

from __future__ import annotations

import threading
import uuid

import orjson
import pytest

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import InvalidInput, NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.scope import make_scope
from shieldwall.domain.sightings import NewSighting
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, correlation, matching, reading, sightings, submission
from shieldwall.services.context import Hub


def indicator(value: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, value)}",
        "created": "2023-11-01T00:00:00.000Z",
        "modified": "2023-11-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2023-11-01T00:00:00Z",
    }


class Community:
    def __init__(self, hub: Hub) -> None:
        self.us_bank = admin.add_organisation(hub, "US Bank", "financial", "US")
        self.gb_bank = admin.add_organisation(hub, "GB Bank", "financial", "GB")
        self.de_bank = admin.add_organisation(hub, "DE Bank", "financial", "DE")
        self.law = admin.add_organisation(hub, "Law Firm", "legal", "US")
        self.operator = admin.add_organisation(hub, "Hub Ops", "other", "GB", "operator")


@pytest.fixture
def community(hub: Hub) -> Community:
    return Community(hub)


def share(hub: Hub, who: Organisation, obj: dict[str, object], tlp: Tlp, **scope: list[str]) -> str:
    status = submission.submit(
        hub, who, "shared", [obj], tlp, make_scope(**scope) if scope else None
    )
    assert status.failure_count == 0, status.details
    return str(obj["id"])


def sight(hub: Hub, who: Organisation, target: str, **options: object) -> str:
    attribution = options.pop("attribution", Attribution.ATTRIBUTED)
    recorded = sightings.record(hub, who, [NewSighting(target, **options)], attribution)  # type: ignore[arg-type]
    assert recorded.status.failure_count == 0, recorded.status.details
    return next(iter(recorded.sightings))


def test_figures_count_organisations_sectors_countries_and_false_positives(
    hub: Hub, community: Community
) -> None:
    target = share(hub, community.us_bank, indicator("185.220.101.47"), Tlp.GREEN)
    sight(hub, community.us_bank, target, count=3)
    sight(hub, community.us_bank, target, count=2)  # the same organisation again
    sight(hub, community.gb_bank, target)
    sight(hub, community.law, target, false_positive=True)
    sight(hub, community.de_bank, target, attribution=Attribution.ANONYMOUS)
    figures = sightings.summary(hub, community.gb_bank, target)
    assert figures.reports == 5
    assert figures.observations == 7
    assert figures.organisations == 3  # US Bank, GB Bank, one anonymous
    assert figures.named == ("GB Bank", "US Bank")
    assert figures.anonymous == 1
    assert figures.sectors == {"financial": 2}  # the anonymous bank gives no sector...
    assert figures.countries == {"GB": 1, "US": 1}  # ...and no country
    assert figures.false_positives == 1
    assert figures.first_seen is not None and figures.last_seen is not None


def test_a_sighting_takes_its_indicators_tlp_and_scope(hub: Hub, community: Community) -> None:
    target = share(hub, community.us_bank, indicator("185.220.101.48"), Tlp.AMBER, countries=["US"])
    sighting_id = sight(hub, community.law, target)
    _, served = reading.object_anywhere(hub, community.us_bank, sighting_id)
    assert served.row.tlp == Tlp.AMBER
    body = orjson.loads(served.body)
    assert "US" in str(body["extensions"])
    with pytest.raises(NotFound):
        reading.object_anywhere(hub, community.gb_bank, sighting_id)


def test_figures_are_invisible_to_those_who_may_not_read_the_indicator(
    hub: Hub, community: Community
) -> None:
    target = share(
        hub,
        community.us_bank,
        indicator("185.220.101.49"),
        Tlp.RED,
        organizations=[community.us_bank.identity_id, community.law.identity_id],
    )
    sight(hub, community.law, target)
    assert sightings.summary(hub, community.us_bank, target).reports == 1
    for outsider in (community.gb_bank, community.de_bank, community.operator):
        with pytest.raises(NotFound):
            sightings.summary(hub, outsider, target)
        assert target not in sightings.summaries(hub, outsider)
    with pytest.raises(NotFound):  # nor can an outsider report one (it cannot tell it exists)
        sightings.record(hub, community.gb_bank, [NewSighting(target)])


def test_a_sighting_the_reader_may_not_read_is_not_counted(hub: Hub, community: Community) -> None:
    target = share(hub, community.us_bank, indicator("185.220.101.50"), Tlp.GREEN)
    sight(hub, community.us_bank, target)
    private = sightings.record(
        hub,
        community.gb_bank,
        [NewSighting(target)],
        tlp=Tlp.RED,
        scope=make_scope(organizations=[community.gb_bank.identity_id]),
    )
    assert private.status.failure_count == 0
    assert sightings.summary(hub, community.gb_bank, target).reports == 2
    assert sightings.summary(hub, community.law, target).reports == 1


def test_anonymous_sighters_are_never_identifiable(hub: Hub, community: Community) -> None:
    target = share(hub, community.us_bank, indicator("185.220.101.51"), Tlp.CLEAR)
    sighting_id = sight(hub, community.de_bank, target, attribution=Attribution.ANONYMOUS)
    secret = {community.de_bank.name, community.de_bank.identity_id, "DE"}
    for reader in (community.us_bank, community.gb_bank, community.law, community.operator):
        figures = orjson.dumps(sightings.summary(hub, reader, target).to_json()).decode()
        served = reading.find_everywhere(hub, reader, ObjectQuery(ids=frozenset({sighting_id})))
        seen = figures + "".join(item.body for _, item in served)
        assert all(value not in seen for value in secret), seen
        row = served[0][1].row
        assert row.submitter_org_id is None
    # the submitter alone may still read and delete its own sighting (rule 1)
    assert sightings.summary(hub, community.de_bank, target).anonymous == 1


def test_bad_reports_are_refused_and_store_nothing(hub: Hub, community: Community) -> None:
    target = share(hub, community.us_bank, indicator("185.220.101.52"), Tlp.GREEN)
    with pytest.raises(InvalidInput):
        sightings.record(hub, community.law, [])
    with pytest.raises(InvalidInput):
        sightings.record(hub, community.law, [NewSighting(target, count=0)])
    with pytest.raises(NotFound):
        sightings.record(hub, community.law, [NewSighting(target), NewSighting("indicator--x")])
    assert sightings.summary(hub, community.law, target).reports == 0


def test_counts_are_exact_under_concurrent_reports(hub: Hub, community: Community) -> None:
    target = share(hub, community.us_bank, indicator("185.220.101.53"), Tlp.GREEN)
    reporters = [community.us_bank, community.gb_bank, community.de_bank, community.law]
    per_thread = 5
    failures: list[BaseException] = []

    def report(who: Organisation, anonymous: bool) -> None:
        try:
            for _ in range(per_thread):
                mode = Attribution.ANONYMOUS if anonymous else Attribution.ATTRIBUTED
                sight(hub, who, target, attribution=mode, count=2)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [
        threading.Thread(target=report, args=(who, index % 2 == 1))
        for index, who in enumerate(reporters)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    figures = sightings.summary(hub, community.operator, target)
    assert figures.reports == len(reporters) * per_thread
    assert figures.observations == 2 * len(reporters) * per_thread
    assert set(figures.named) == {"US Bank", "DE Bank"}
    assert figures.anonymous == 2 * per_thread


def test_exercise_content_stays_out_of_real_figures_and_links(
    hub: Hub, community: Community
) -> None:
    with hub.store.write() as tx:
        tx.add_collection(
            "6f0a8a52-1c1b-4d87-9f3e-0b1f7b1d2a11",
            "Exercise",
            "",
            "exercise-quantum",
            members_can_read=True,
            members_can_write=True,
        )
    real = share(hub, community.us_bank, indicator("185.220.101.90"), Tlp.GREEN)
    drill = indicator("185.220.101.90")
    drill["id"] = "indicator--3b0e8c1e-9a52-4c9b-8f0e-7a1d2c3b4e5f"
    status = submission.submit(hub, community.us_bank, "exercise-quantum", [drill], Tlp.GREEN, None)
    assert status.failure_count == 0
    sight(hub, community.gb_bank, str(drill["id"]))
    # the drill's sighting lands in the exercise collection and counts for the drill only
    assert sightings.summary(hub, community.law, str(drill["id"])).reports == 1
    assert sightings.summary(hub, community.law, real).reports == 0
    shared = reading.find_everywhere(hub, community.law, ObjectQuery(types=frozenset({"sighting"})))
    assert shared == []
    assert [r.stix_id for r in correlation.related(hub, community.law, real, 100).related] == []
    assert matching.indicators_for_value(hub, community.law, "185.220.101.90") == [real]
    with pytest.raises(InvalidInput):
        sightings.record(hub, community.law, [NewSighting(real), NewSighting(str(drill["id"]))])
