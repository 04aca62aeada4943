"""The benchmark data: generated STIX 2.1 indicators plus the OASIS example bundles.

Everything is deterministic (seeded) so every peer and every repeat receives exactly the
same bytes. Envelopes are serialised once, before any clock starts. Indicators are dated
from two days before the day of the run (the same all day), so the hub's score decay
keeps them live, and name values on no warning list (domains under ``.top``, not the
reserved ``.example``), as fresh intelligence would.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

OASIS_DIR = Path("/work/shared/data/oasis-examples")
BASE_TIME = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
_KINDS = ("ipv4", "domain", "sha256")


@dataclass(frozen=True, slots=True)
class Envelope:
    """One TAXII envelope ready to POST: its JSON bytes and how many objects it holds."""

    body: bytes
    count: int


@dataclass(frozen=True, slots=True)
class Dataset:
    """The envelopes of one ingest run, in posting order."""

    indicators: int
    oasis_objects: int
    envelopes: tuple[Envelope, ...]

    @property
    def total_objects(self) -> int:
        """Objects posted in all (indicators and OASIS objects)."""
        return self.indicators + self.oasis_objects


def _timestamp(index: int) -> str:
    moment = BASE_TIME + timedelta(milliseconds=index)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _pattern(kind: str, index: int, rng: random.Random) -> tuple[str, str]:
    if kind == "ipv4":
        value = f"{(index >> 16) % 223 + 1}.{(index >> 8) & 255}.{index & 255}.{rng.randrange(256)}"
        return f"[ipv4-addr:value = '{value}']", f"IP {value}"
    if kind == "domain":
        value = f"h{index:x}-{rng.getrandbits(24):06x}.bad-{index % 97}.top"
        return f"[domain-name:value = '{value}']", f"domain {value}"
    digest = f"{rng.getrandbits(256):064x}"
    return f"[file:hashes.'SHA-256' = '{digest}']", f"file {digest[:12]}"


def indicator(index: int, rng: random.Random) -> dict[str, object]:
    """The ``index``-th generated indicator (IPv4, domain or SHA-256 equality pattern)."""
    pattern, name = _pattern(_KINDS[index % 3], index, rng)
    stamp = _timestamp(index)
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        "created": stamp,
        "modified": stamp,
        "name": f"Bench indicator {index}: {name}",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
    }


def indicators(count: int, *, seed: int, start: int = 0) -> Iterator[dict[str, object]]:
    """``count`` indicators numbered from ``start``; the same seed gives the same objects."""
    rng = random.Random(seed)
    for index in range(start, start + count):
        yield indicator(index, rng)


def oasis_bundles(folder: Path = OASIS_DIR) -> list[list[dict[str, object]]]:
    """The objects of each OASIS example bundle (empty when the folder is missing)."""
    bundles: list[list[dict[str, object]]] = []
    for path in sorted(folder.glob("*.json"))[:100]:
        document = orjson.loads(path.read_bytes())
        if isinstance(document, dict) and isinstance(document.get("objects"), list):
            bundles.append([o for o in document["objects"] if isinstance(o, dict)])
    return bundles


def envelope(objects: list[dict[str, object]]) -> Envelope:
    """Serialise ``objects`` as a TAXII 2.1 envelope."""
    return Envelope(orjson.dumps({"objects": objects}), len(objects))


def build_dataset(
    count: int, *, bundle_size: int, seed: int = 1, with_oasis: bool = True
) -> Dataset:
    """OASIS bundles first (one envelope each), then ``count`` indicators in envelopes of
    ``bundle_size``."""
    envelopes: list[Envelope] = []
    oasis = 0
    if with_oasis:
        for objects in oasis_bundles():
            envelopes.append(envelope(objects))
            oasis += len(objects)
    batch: list[dict[str, object]] = []
    for obj in indicators(count, seed=seed):
        batch.append(obj)
        if len(batch) == bundle_size:
            envelopes.append(envelope(batch))
            batch = []
    if batch:
        envelopes.append(envelope(batch))
    return Dataset(count, oasis, tuple(envelopes))


def writer_envelopes(
    writer: int, *, envelopes: int, bundle_size: int, offset: int
) -> list[Envelope]:
    """Fresh indicators for one concurrent writer (ids disjoint from every other writer)."""
    start = offset + writer * envelopes * bundle_size
    objects = list(indicators(envelopes * bundle_size, seed=1000 + writer, start=start))
    return [envelope(objects[i : i + bundle_size]) for i in range(0, len(objects), bundle_size)]
