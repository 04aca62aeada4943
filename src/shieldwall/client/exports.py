"""Member-side exchange with a hub: fetching exports (``/api/v1/exports/…``) and submitting
imported files in batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shieldwall.client.hub import HubClient
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.exports import LIST_KINDS

#: Export kinds and their paths under ``/api/v1/exports`` (lists are ``lists/KIND.txt``).
PATHS = {
    "csv": "indicators.csv",
    "bundle": "bundle.json",
    "suricata": "suricata.rules",
    "snort": "snort.rules",
    "misp-manifest": "misp/manifest.json",
    "misp-hashes": "misp/hashes.csv",
    **{kind: f"lists/{kind}.txt" for kind in LIST_KINDS},
}
BATCH = 2000


def export_path(kind: str) -> str:
    """The URL path of an export kind; ``InvalidInput`` naming the kinds otherwise."""
    if kind not in PATHS:
        raise InvalidInput(f"no export {kind!r}: use one of {', '.join(PATHS)} or misp")
    return f"/api/v1/exports/{PATHS[kind]}"


class ExportsClient(HubClient):
    """A ``HubClient`` that also fetches exports."""

    def export(self, path: str, params: dict[str, str] | None = None) -> bytes:
        """The body of ``GET path`` (an export URL path) with the member's key."""
        return self._fetch(path, authenticated=True, accept="*/*", params=params).content


@dataclass
class Submitted:
    """What the hub answered for one file's objects, added up over the batches."""

    sent: int = 0
    stored: int = 0
    refused: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def submit_batches(
    client: HubClient,
    objects: list[object],
    *,
    tlp: str | None,
    scope: dict[str, list[str]] | None,
    attribution: str,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> Submitted:
    """Submit ``objects`` in batches of ``batch``; refusals (``id: message``) and the
    warning-list messages of stored objects collected from the TAXII statuses."""
    result = Submitted()
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        status: dict[str, Any] = client.submit(chunk, tlp=tlp, scope=scope, attribution=attribution)
        result.sent += len(chunk)
        result.stored += int(status.get("success_count", 0))
        for failure in status.get("failures", []):
            result.refused.append(f"{failure.get('id')}: {failure.get('message', '')}")
        for success in status.get("successes", []):
            note = success.get("message") or ""
            if note.startswith("warning list"):
                result.warnings.append(f"{success.get('id')}: {note}")
        if progress is not None:
            progress(len(chunk))
    return result
