"""The audit trail of security-relevant actions, hash-chained so tampering shows.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own canonical
JSON (time, actor, action, detail). ``verify`` recomputes the chain; any edited, removed
or reordered entry breaks it from that point on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from shieldwall.services.context import Hub
from shieldwall.services.ports import AuditEntry, WriteTx

GENESIS = "0" * 64


def entry_hash(prev_hash: str, at: int, actor: str, action: str, detail: str) -> str:
    """The hash of an entry, given its predecessor's."""
    content = orjson.dumps([prev_hash, at, actor, action, detail])
    return hashlib.sha256(content).hexdigest()


def record(tx: WriteTx, at: int, actor: str, action: str, detail: dict[str, object]) -> None:
    """Append an entry inside the caller's transaction (so it commits with the action).

    ``actor`` names an organisation or ``cli`` (the local operator). ``detail`` must never
    hold secrets, nor anything about unlinkable submissions.
    """
    text = orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()
    prev = tx.audit_head()
    tx.append_audit(
        AuditEntry(0, at, actor, action, text, prev, entry_hash(prev, at, actor, action, text))
    )


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking the chain: ``problems`` is empty when intact."""

    entries: int
    problems: list[str]


def verify(hub: Hub) -> Verification:
    """Recompute the chain and report each entry whose link or hash does not hold."""
    with hub.store.read() as tx:
        entries = tx.audit_entries()
    problems: list[str] = []
    prev = GENESIS
    for entry in entries:
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq}: does not follow the entry before it")
        expected = entry_hash(entry.prev_hash, entry.at, entry.actor, entry.action, entry.detail)
        if expected != entry.hash:
            problems.append(f"entry {entry.seq}: content does not match its hash")
        prev = entry.hash
    return Verification(len(entries), problems)


def entries(hub: Hub) -> list[AuditEntry]:
    """Every audit entry, oldest first."""
    with hub.store.read() as tx:
        return tx.audit_entries()
