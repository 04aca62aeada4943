"""Correlation of real intelligence: ESET's MISP events (converted by domain/misp) and the
write-ups of other campaigns (through report intake) share infrastructure, and the hub
finds it; the index holds one row per object and value."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from conftest import SHARED_DATA
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.intake import analyse
from shieldwall.domain.misp import convert_misp
from shieldwall.domain.observables import keys_of
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.scrub import Assets
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, correlation, reading, submission
from shieldwall.services.context import Hub
from shieldwall.storage.schema import observables

ESET = SHARED_DATA / "eset-malware-ioc"
pytestmark = pytest.mark.skipif(not ESET.is_dir(), reason="needs ../shared/data")
# A SHA-1 ESET lists in both campaigns' write-ups (and the BadIIS MISP event)
BADIIS_AND_EXCHANGE = "aa9ba493cb9e9fa6f9599c513edbcbee84ececd6"


def share(hub: Hub, who: Organisation, objects: list[dict[str, object]]) -> None:
    status = submission.submit(hub, who, "shared", list(objects), Tlp.GREEN, None)
    assert status.failure_count == 0, status.details[:2000]


def import_misp_events(hub: Hub, who: Organisation) -> dict[str, str]:
    """Every readable ESET MISP event; report id → campaign folder."""
    reports = {}
    for path in sorted(ESET.glob("*/*.json")):
        try:
            events = convert_misp(path.read_bytes(), created_by_ref=who.identity_id)
        except InvalidInput:
            continue  # the truncated download and the blocklist that is no MISP event
        for event in events:
            share(hub, who, event.objects)
            reports[event.report_id] = path.parent.name
    return reports


def import_write_up(hub: Hub, who: Organisation, campaign: str) -> str:
    text = (ESET / campaign / "README.adoc").read_text(encoding="utf-8")
    analysis = analyse(
        text,
        "asciidoc",
        Assets(),
        name=campaign,
        created=int(time.time() * 1_000_000),
        new_id=lambda t: f"{t}--{uuid.uuid4()}",
        created_by_ref=who.identity_id,
    )
    objects = [o for o in analysis.bundle["objects"] if isinstance(o, dict)]  # type: ignore[attr-defined]
    share(hub, who, objects)
    return next(str(o["id"]) for o in objects if o["type"] == "report")


@pytest.fixture
def imported(hub: Hub) -> tuple[Hub, Organisation, dict[str, str]]:
    importer = admin.add_organisation(hub, "ESET reader", "financial", "SK")
    reports = import_misp_events(hub, importer)
    for campaign in ("exchange_exploitation", "king_tut", "mispadu"):
        reports[import_write_up(hub, importer, campaign)] = campaign + " (write-up)"
    return hub, importer, reports


def test_campaigns_sharing_infrastructure_cluster_together(
    imported: tuple[Hub, Organisation, dict[str, str]],
) -> None:
    hub, _, reports = imported
    reader = admin.add_organisation(hub, "Analyst bank", "financial", "DE")
    clusters = correlation.clusters(hub, reader, cap=100, max_reports=500)
    grouped = [{reports[r] for r, _ in cluster.reports} for cluster in clusters]
    assert {"badiis", "exchange_exploitation (write-up)"} in grouped, grouped
    assert {"king_tut (write-up)", "mispadu (write-up)"} in grouped, grouped
    badiis = next(c for c in clusters if "badiis" in {reports[r] for r, _ in c.reports})
    assert ("sha1", BADIIS_AND_EXCHANGE) in badiis.shared
    # campaigns with nothing in common stay apart
    assert all(len(group) == 2 for group in grouped), grouped


def test_an_indicator_lists_the_other_campaigns_object_and_its_report(
    imported: tuple[Hub, Organisation, dict[str, str]],
) -> None:
    hub, importer, reports = imported
    matches = [
        served
        for _, served in reading.find_everywhere(
            hub, importer, reading.ObjectQuery(types=frozenset({"indicator", "file"}))
        )
        if BADIIS_AND_EXCHANGE in served.body.lower()
    ]
    assert len(matches) >= 2  # the write-up's indicator and the MISP event's file
    for one in matches:
        found = correlation.related(hub, importer, one.row.stix_id, 100)
        others = {m.row.stix_id for m in matches} - {one.row.stix_id}
        assert {item.stix_id for item in found.related} >= others
    holders = correlation.containers(hub, importer, frozenset(m.row.stix_id for m in matches))
    assert {reports[r] for r, _ in holders} >= {"badiis", "exchange_exploitation (write-up)"}


def test_the_index_holds_one_row_per_object_and_value(
    imported: tuple[Hub, Organisation, dict[str, str]], tmp_path: Path
) -> None:
    hub, importer, _ = imported
    stored = reading.find_everywhere(
        hub, importer, reading.ObjectQuery(versions=reading.VersionFilter(last=False, all=True))
    )
    expected = sum(len(keys_of(orjson.loads(s.body))) for _, s in stored)
    with hub.store.read() as tx:
        rows = tx.connection.execute(select(func.count()).select_from(observables)).scalar_one()  # type: ignore[attr-defined]
    assert rows == expected > 500
