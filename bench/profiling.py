"""Summarise a py-spy ``raw`` (collapsed stacks) profile into a readable top list.

The server is started under ``py-spy record`` (attaching to a running pid is not
permitted in this sandbox, launching the child is), so the profile covers every thread
of the serving process; idle threads are not sampled.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MAX_LINES = 2_000_000
# Stacks of start-up work (imports, migrations) are not part of any workload.
STARTUP_FRAMES = ("_find_and_load", "build_hub (")


@dataclass(frozen=True, slots=True)
class ProfileTop:
    """Samples per function: inclusive (anywhere on the stack) and self (innermost)."""

    samples: int
    inclusive: list[tuple[str, int]]
    self_time: list[tuple[str, int]]


def _short(frame: str) -> str:
    """``func (path/to/file.py:12)`` → ``func (file.py:12)`` keeping the package tail."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})" if where else name


def _function(frame: str) -> str:
    """A frame without its line number, so one function's lines add up."""
    short = _short(frame)
    head, sep, _ = short.rpartition(":")
    return f"{head})" if sep else short


def summarise(path: Path, top: int = 30, focus: str | None = None) -> ProfileTop:
    """Read a raw py-spy profile and rank functions by inclusive and self samples.

    Start-up stacks are dropped; with ``focus`` only stacks through a frame whose name
    contains it are counted (e.g. the request handler of the workload).
    """
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle):
            if number >= MAX_LINES:
                break
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            if any(marker in stack for marker in STARTUP_FRAMES):
                continue
            if focus is not None and focus not in stack:
                continue
            count = int(count_text)
            frames = [_function(f) for f in stack.split(";") if f]
            if not frames:
                continue
            total += count
            for name in set(frames):
                inclusive[name] += count
            self_time[frames[-1]] += count
    # frames on (nearly) every stack are scaffolding (thread bootstrap, the handler itself)
    informative = [(n, c) for n, c in inclusive.most_common() if c < 0.98 * total]
    return ProfileTop(total, informative[:top], self_time.most_common(top))


def render(profile: ProfileTop, title: str, limit: int | None = None) -> str:
    """The top lists as plain text (what is saved under ``bench/results/``); ``limit``
    shortens each list."""
    lines = [f"# {title}", f"# {profile.samples} samples (py-spy, 200 Hz, all threads)", ""]
    for heading, rows in (("inclusive", profile.inclusive), ("self", profile.self_time)):
        lines.append(f"## top by {heading} samples")
        for name, count in rows[:limit]:
            share = 100.0 * count / profile.samples if profile.samples else 0.0
            lines.append(f"{share:6.1f}%  {count:7d}  {name}")
        lines.append("")
    return "\n".join(lines)


CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "SQLite C calls (execute, commit, fetch)",
        ("do_execute", "do_commit", "CursorFetchStrategy.fetch"),
    ),
    ("SQLAlchemy (Python)", ("sqlalchemy/",)),
    (
        "STIX validation and pattern parsing",
        ("stix_validation/", "domain/patterns/", "timestamps.py"),
    ),
    ("sharing policy and references", ("policy.py", "references.py", "scope.py", "tlp.py")),
    ("JSON (orjson/json) and envelope building", ("orjson", "json/", "media.py")),
    (
        "HTTP/ASGI framework (uvicorn, starlette, fastapi, anyio)",
        ("uvicorn/", "starlette/", "fastapi/", "anyio/", "h11/", "httptools", "pydantic"),
    ),
    ("event loop, threads, selectors", ("asyncio/", "threading.py", "selectors.py", "queue.py")),
    ("other Shieldwall code", ("shieldwall/",)),
)


def categorise(path: Path, focus: str | None = None) -> list[tuple[str, float]]:
    """Share of samples per category of the innermost frame (self time), largest first."""
    shares: Counter[str] = Counter()
    total = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle):
            if number >= MAX_LINES:
                break
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            if any(marker in stack for marker in STARTUP_FRAMES):
                continue
            if focus is not None and focus not in stack:
                continue
            innermost = _short(stack.rsplit(";", 1)[-1])
            name = next(
                (label for label, keys in CATEGORIES if any(k in innermost for k in keys)),
                "other (stdlib, C)",
            )
            shares[name] += int(count_text)
            total += int(count_text)
    return [(name, 100.0 * count / total) for name, count in shares.most_common()] if total else []
