"""Describe the machine a run happened on (CPU, cores, memory, Python, package versions)."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "shieldwall",
    "medallion",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "orjson",
    "flask",
    "werkzeug",
    "httpx",
    "matplotlib",
    "py-spy",
    "stix2-matcher",
    "stix2-patterns",
    "openmined-psi",
    "voprf",
    "rbloom",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def source_state() -> str:
    """The commit measured, and whether ``src/`` had uncommitted changes (read-only git)."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--", "src")
    return f"{commit} with uncommitted changes in src/" if dirty else commit


def describe() -> dict[str, object]:
    """The facts RESULTS.md prints about the machine."""
    sqlite_version = "unknown"
    try:
        import sqlite3

        sqlite_version = sqlite3.sqlite_version
    except ImportError:
        pass
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count() or 0,
        "memory_gib": round(_memory_gib(), 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite_version,
        "packages": {name: _version(name) for name in PACKAGES},
        "source": source_state(),
    }
