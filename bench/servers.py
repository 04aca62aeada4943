"""Start and stop the servers under test, each as its own process on a loopback port.

``start_shieldwall`` creates a fresh SQLite hub (one organisation, one key) and runs
``shieldwall serve``; ``start_medallion`` writes a config and a data file with one API
root and one writable collection and runs medallion 3.0.0 with its memory backend. Both
answer the same TAXII client through HTTP Basic (user ``bench``, the key or password).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
WORK = ROOT / "bench" / "work"
HOST = "127.0.0.1"
TAXII = "application/taxii+json;version=2.1"
USER = "bench"
SNAPSHOT = WORK / "src-snapshot"
SNAPSHOT_ATTEMPTS = 20
SNAPSHOT_RETRY_S = 15.0
SETUP_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


@dataclass
class Server:
    """A running server: where its TAXII API root is and how to stop it."""

    peer: str
    process: subprocess.Popen[bytes]
    port: int
    api_root: str
    password: str
    collection_alias: str | None
    workdir: Path
    log_path: Path
    profile_path: Path | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    @property
    def auth(self) -> tuple[str, str]:
        """HTTP Basic credentials (both servers accept them)."""
        return (USER, self.password)

    def server_pid(self) -> int:
        """The pid of the Python process serving requests (the child when under py-spy)."""
        if self.profile_path is None:
            return self.process.pid
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            found = children.read_text().split()
        except OSError:
            found = []
        return int(found[0]) if found else self.process.pid

    def memory_kib(self) -> dict[str, int]:
        """``VmRSS`` and ``VmHWM`` (peak) of the serving process, in KiB."""
        values: dict[str, int] = {}
        try:
            text = Path(f"/proc/{self.server_pid()}/status").read_text()
        except OSError:
            return values
        for line in text.splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
        return values

    def stop(self, *, keep_workdir: bool = False) -> None:
        """Stop the server (SIGINT, then SIGTERM, then SIGKILL) and remove its files."""
        target = self.server_pid()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.kill(target, sig)
            if target != self.process.pid and sig is signal.SIGKILL:
                os.kill(self.process.pid, sig)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                continue
        if self._log is not None:
            self._log.close()
        if not keep_workdir:
            for path in self.workdir.glob("*.db*"):
                path.unlink(missing_ok=True)
            (self.workdir / "data.json").unlink(missing_ok=True)


def free_port() -> int:
    """A currently free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def new_workdir(label: str) -> Path:
    """A fresh folder under ``bench/work/`` for one server run."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = WORK / f"{stamp}-{label}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def server_env() -> dict[str, str]:
    """The environment of every Shieldwall process: the source snapshot comes first."""
    env = dict(os.environ)
    if (SNAPSHOT / "shieldwall").is_dir():
        env["PYTHONPATH"] = str(SNAPSHOT)
    return env


def _imports_cleanly() -> bool:
    probe = "import shieldwall.cli.main, shieldwall.bootstrap, shieldwall.web.app"
    done = subprocess.run(
        [str(BIN / "python"), "-c", probe],
        capture_output=True,
        timeout=SETUP_TIMEOUT_S,
        check=False,
        cwd=ROOT,
        env=server_env(),
    )
    return done.returncode == 0


def snapshot_source(log: Callable[[str], None]) -> bool:
    """Copy ``src/shieldwall`` so that every run measures the same code while others edit
    the tree; retry while the copy does not import (an edit in progress)."""
    for attempt in range(SNAPSHOT_ATTEMPTS):
        shutil.rmtree(SNAPSHOT, ignore_errors=True)
        shutil.copytree(
            ROOT / "src" / "shieldwall",
            SNAPSHOT / "shieldwall",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        if _imports_cleanly():
            return True
        log(f"source snapshot does not import (attempt {attempt + 1}); retrying")
        time.sleep(SNAPSHOT_RETRY_S)
    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    return False


def _run_cli(args: list[str]) -> str:
    done = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_S,
        check=False,
        cwd=ROOT,
        env=server_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    url = f"{server.base_url}/taxii2/"
    with httpx.Client(auth=server.auth, headers={"Accept": TAXII}, timeout=5.0) as client:
        for _ in range(int(READY_TIMEOUT_S * 10)):
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.peer} exited early; see {server.log_path}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
    server.stop(keep_workdir=True)
    raise RuntimeError(f"{server.peer} did not answer within {READY_TIMEOUT_S} s")


def _launch(
    command: list[str], workdir: Path, profile: Path | None
) -> tuple[IO[bytes], Path, list[str]]:
    if profile is not None:
        command = [
            str(BIN / "py-spy"),
            "record",
            "--nonblocking",
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(profile),
            "--",
            *command,
        ]
    log_path = workdir / "server.log"
    return log_path.open("wb"), log_path, command


@functools.cache
def shieldwall_template() -> tuple[Path, str]:
    """A hub database with organisation ``bench`` and its API key, made once per benchmark
    with the CLI; every run starts from a copy, so all runs start from the same state."""
    workdir = new_workdir("shieldwall-template")
    database = f"sqlite:///{workdir / 'hub.db'}"
    cli = str(BIN / "shieldwall")
    _run_cli(
        [
            cli,
            "org",
            "add",
            USER,
            "--sector",
            "financial",
            "--country",
            "US",
            "--database",
            database,
        ]
    )
    key = _run_cli([cli, "key", "create", USER, "--database", database]).strip().splitlines()[-1]
    return workdir, key


def start_shieldwall(label: str, *, profile: bool = False) -> Server:
    """A fresh Shieldwall hub on SQLite (a copy of the template) with one API key."""
    template, key = shieldwall_template()
    workdir = new_workdir(f"shieldwall-{label}")
    for path in template.glob("hub.db*"):
        shutil.copyfile(path, workdir / path.name)
    database = f"sqlite:///{workdir / 'hub.db'}"
    cli = str(BIN / "shieldwall")
    port = free_port()
    command = [cli, "serve", "--host", HOST, "--port", str(port), "--database", database]
    profile_path = workdir / "profile.raw" if profile else None
    log, log_path, command = _launch(command, workdir, profile_path)
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
        env=server_env(),
    )
    server = Server(
        "shieldwall",
        process,
        port,
        f"http://{HOST}:{port}/taxii2/hub/",
        key,
        "shared",
        workdir,
        log_path,
        profile_path,
        log,
    )
    _wait_ready(server)
    return server


def medallion_data(port: int, collection_id: str) -> dict[str, object]:
    """A medallion memory-backend data file: discovery, API root ``bench``, one collection."""
    root = f"http://{HOST}:{port}/bench/"
    return {
        "/discovery": {
            "title": "medallion (benchmark peer)",
            "description": "OASIS TAXII 2.1 reference server, memory backend",
            "contact": "bench@localhost",
            "default": root,
            "api_roots": [root],
        },
        "bench": {
            "information": {
                "title": "bench",
                "description": "benchmark API root",
                "versions": [TAXII],
                "max_content_length": 200 * 1024 * 1024,
            },
            "status": [],
            "collections": [
                {
                    "id": collection_id,
                    "title": "Shared intelligence",
                    "description": "benchmark collection",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }


def start_medallion(label: str) -> Server:
    """medallion 3.0.0 (Flask, memory backend) with one writable collection."""
    workdir = new_workdir(f"medallion-{label}")
    port = free_port()
    password = uuid.uuid4().hex
    data_path = workdir / "data.json"
    data_path.write_bytes(orjson.dumps(medallion_data(port, str(uuid.uuid4()))))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data_path),
            # paging state lives in the server; keep it for the whole walk
            "session_timeout": 3600,
        },
        "users": {USER: password},
        "taxii": {"max_page_size": 10000},
    }
    config_path = workdir / "config.json"
    config_path.write_bytes(orjson.dumps(config))
    command = [str(BIN / "medallion"), "--host", HOST, "--port", str(port), str(config_path)]
    log, log_path, command = _launch(command, workdir, None)
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )
    server = Server(
        "medallion",
        process,
        port,
        f"http://{HOST}:{port}/bench/",
        password,
        None,
        workdir,
        log_path,
        None,
        log,
    )
    _wait_ready(server)
    return server


def start(peer: str, label: str, *, profile: bool = False) -> Server:
    """Start ``peer`` (``shieldwall`` or ``medallion``); ``profile`` runs Shieldwall under
    py-spy."""
    if peer == "shieldwall":
        return start_shieldwall(label, profile=profile)
    if peer == "medallion":
        return start_medallion(label)
    raise ValueError(f"unknown peer {peer!r}")


def clean_work() -> None:
    """Remove leftovers of earlier runs under ``bench/work/``."""
    if WORK.exists():
        shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
