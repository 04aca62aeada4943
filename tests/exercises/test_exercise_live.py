"""The shipped scenario end to end on the demo community, through a real server and the
real command line: the planner runs it at high speed, a bank lists, acknowledges and
sights what it was sent, the report is written, and the run is removed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.services import demo
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

pytestmark = pytest.mark.slow


def member(url: str, key: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "shieldwall.cli", *args, "--hub", url, "--key", key],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "250", "HOME": "/tmp"},
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def test_planner_runs_participants_respond_report_and_removal(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = build_hub(Settings().with_overrides(database_url=database))
    community = demo.create_demo(hub, [])
    keys = {org.name: key for org, key in community.members}
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    server = start_server(database, tmp_path)
    try:
        ran = cli("exercise", "run", "quantum-dawn", "--speed", "100000", database=database)
        run = re.search(r"run ([0-9a-f]{8})", ran)
        assert run is not None, ran
        run_id = run.group(1)
        assert "All injects released" in ran
        bank = keys["Hudson Valley Trust"]
        listed = member(server.url, bank, "exercise", "injects", run_id)
        assert "gov-advisory" in listed
        member(server.url, bank, "exercise", "ack", run_id, "gov-advisory")
        indicator = re.search(r"indicator--[0-9a-f-]{36}", listed)
        assert indicator is not None, listed
        sighted = member(server.url, bank, "sighting", "add", indicator.group(0))
        assert "Reported sighting" in sighted
        out = tmp_path / "report"
        written = cli("exercise", "report", run_id, "--out", str(out), database=database)
        assert "5 charts" in written
        html = (out / "report.html").read_text()
        assert "Hudson Valley Trust" in html and "<svg" in html
        assert {p.name for p in out.glob("*.svg")} >= {"timeline.svg"}
        # the exercise's indicator is nowhere in real intelligence
        lookup = member(server.url, bank, "indicator", "show", indicator.group(0), "--json")
        assert "EXERCISE" in lookup
        removed = cli("exercise", "remove", run_id, database=database)
        assert run_id in removed
        assert run_id not in cli("exercise", "list", database=database)
    finally:
        stop_server(server)
