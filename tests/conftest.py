"""Shared fixtures: fixed clock and ids, hubs on SQLite and a real PostgreSQL server, and a
real uvicorn process for end-to-end tests.

PostgreSQL: ``make test`` starts a server (scripts/ensure-postgres.sh) and exports
``SHIELDWALL_TEST_POSTGRES_URL``; each test gets a fresh database on it. Outside
``make test`` the PostgreSQL variants are skipped, except in CI where that is an error.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from shieldwall.bootstrap import build_hub
from shieldwall.domain.scoring import DEFAULT_LIFETIMES, DecayModel, parse_lifetimes
from shieldwall.services.admin import ensure_hub
from shieldwall.services.context import Hub, HubConfig
from shieldwall.settings import Settings
from shieldwall.storage.database import Database
from shieldwall.storage.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
OASIS_EXAMPLES = SHARED_DATA / "oasis-examples"
if not OASIS_EXAMPLES.is_dir():  # a checkout without ../shared: use the packaged copy
    OASIS_EXAMPLES = REPO / "src" / "shieldwall" / "demo_data"
START = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z


class FixedClock:
    """A clock that moves only when told (or by ``step`` on each reading)."""

    def __init__(self, start: int = START, step: int = 1000) -> None:
        self.value = start
        self.step = step

    def now(self) -> int:
        self.value += self.step
        return self.value


class SequentialIds:
    """Deterministic UUIDs and secrets."""

    def __init__(self) -> None:
        self.counter = 0

    def uuid4(self) -> str:
        self.counter += 1
        digest = hashlib.sha256(f"uuid{self.counter}".encode()).digest()[:16]
        return str(uuid.UUID(bytes=digest, version=4))

    def secret(self, nbytes: int) -> str:
        self.counter += 1
        return f"secret{self.counter:0{max(nbytes, 26)}d}"

    def random_bytes(self, nbytes: int) -> bytes:
        self.counter += 1
        return hashlib.sha512(f"bytes{self.counter}".encode()).digest()[:nbytes]


def postgres_url() -> str | None:
    """The server URL from ``make test``, or ``None``."""
    return os.environ.get("SHIELDWALL_TEST_POSTGRES_URL") or None


def fresh_postgres_database() -> str:
    """Create an empty database on the test server; return its URL."""
    base = postgres_url()
    if base is None:
        if os.environ.get("CI"):
            pytest.fail("SHIELDWALL_TEST_POSTGRES_URL is not set: run the suite with make test")
        pytest.skip("PostgreSQL tests need SHIELDWALL_TEST_POSTGRES_URL (make test sets it)")
    name = f"sw_{uuid.uuid4().hex[:16]}"
    admin_engine = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin_engine.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def database_url(engine: str, tmp_path: Path) -> str:
    """A fresh, empty database of the given engine (``sqlite`` or ``postgresql``)."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return fresh_postgres_database()


# Tests write indicators over documentation addresses and domains (RFC 5737, RFC 2606),
# which MISP's warning lists flag as benign and keep out of matching, and date them years
# before the clock of a live server, so score decay would expire them: hubs in tests check
# no warning lists and decay over a century unless a test asks (tests/assessment/ runs
# with the shipped defaults).
_CENTURY = ",".join(f"{kind}=36500" for kind in DEFAULT_LIFETIMES)
TEST_CONFIG = HubConfig(
    warninglists_max_entries=0, decay=DecayModel(lifetimes=parse_lifetimes(_CENTURY))
)
TEST_ENV = {
    "SHIELDWALL_WARNINGLISTS_MAX_ENTRIES": "0",
    "SHIELDWALL_DECAY_LIFETIMES": _CENTURY,
}


def make_hub(url: str, config: HubConfig | None = None) -> Hub:
    """A migrated hub with a fixed clock and deterministic ids."""
    upgrade(url)
    hub = Hub(Database.from_url(url), FixedClock(), SequentialIds(), config or TEST_CONFIG)
    ensure_hub(hub)
    return hub


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_name(request: pytest.FixtureRequest) -> str:
    """Run the test once per storage engine."""
    return str(request.param)


@pytest.fixture
def hub(engine_name: str, tmp_path: Path) -> Iterator[Hub]:
    """A fresh hub on each engine (the contract-test fixture)."""
    made = make_hub(database_url(engine_name, tmp_path))
    yield made
    assert isinstance(made.store, Database)
    made.store.dispose()


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    """A fresh hub on SQLite only (for tests that are not about storage)."""
    made = make_hub(database_url("sqlite", tmp_path))
    yield made
    assert isinstance(made.store, Database)
    made.store.dispose()


@pytest.fixture
def community(sqlite_hub: Hub) -> Iterator[Any]:
    """The web interface's test community on a fresh SQLite hub (``UiCommunity`` in
    tests/ui/ui_support.py, importable from the tests under tests/ui)."""
    from ui_support import open_community

    yield from open_community(sqlite_hub)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A real ``shieldwall serve`` process on loopback."""

    url: str
    database: str
    process: subprocess.Popen[bytes]
    log_path: Path
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def taxii(self) -> str:
        return f"{self.url}/taxii2/"

    @property
    def api_root(self) -> str:
        return f"{self.url}/taxii2/hub/"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class CliResult:
    """What a command printed and its exit code."""

    returncode: int
    stdout: str
    stderr: str


def run_in_process(*args: str) -> CliResult:
    """Run the ``shieldwall`` command in this process (fast); unexpected exceptions raise."""
    from typer.testing import CliRunner

    from shieldwall.cli.main import app

    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


def cli_in_process(*args: str, database: str) -> str:
    """``run_in_process`` on ``database``; its standard output (it must succeed)."""
    result = run_in_process(*args, "--database", database)
    assert result.returncode == 0, result.stderr
    return result.stdout


def cli(*args: str, database: str) -> str:
    """Run the ``shieldwall`` command line; return its standard output (raise on failure)."""
    result = subprocess.run(
        [sys.executable, "-m", "shieldwall.cli", *args, "--database", database],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"shieldwall {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def start_server(
    database: str,
    tmp_path: Path,
    *,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
) -> LiveServer:
    """Start ``shieldwall serve`` on a free loopback port and wait until it answers."""
    port = port or free_port()
    log_path = tmp_path / f"server-{port}.log"
    env = {**os.environ, **TEST_ENV, **(extra_env or {})}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shieldwall.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--database",
                database,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return LiveServer(url, database, process, log_path)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"server did not start: {log_path.read_text(errors='replace')}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn process on SQLite with a small community; keys in ``server.keys``:
    ``us-bank`` (financial US), ``gb-bank`` (financial GB), ``law`` (legal US),
    ``agency`` (government US), ``operator``."""
    tmp_path = tmp_path_factory.mktemp("live")
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = build_hub(Settings().with_overrides(database_url=database))
    from shieldwall.services import admin

    community = {
        "us-bank": ("US Bank", "financial", "US", "member"),
        "gb-bank": ("GB Bank", "financial", "GB", "member"),
        "law": ("US Law Firm", "legal", "US", "member"),
        "agency": ("US Agency", "government", "US", "government"),
        "operator": ("Hub Operator", "other", "US", "operator"),
    }
    keys = {}
    for handle, (name, sector, country, role) in community.items():
        admin.add_organisation(hub, name, sector, country, role)
        keys[handle] = admin.create_key(hub, name, "test")
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    server = start_server(database, tmp_path)
    server.keys = keys
    yield server
    stop_server(server)
