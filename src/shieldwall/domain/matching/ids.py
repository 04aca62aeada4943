"""Indicator ids, stored compactly: the index holds one per plain pattern.

``indicator--<lower-case UUID>`` (47 characters, a 96-byte ``str``) is kept as its 16 UUID
bytes (a 49-byte ``bytes``); any other id is kept as given.  ``expand(compact(i)) == i``.
"""

from __future__ import annotations

__all__ = ["compact", "expand"]

_PREFIX = "indicator--"


def expand(stored: str | bytes) -> str:
    """The id ``compact`` was given."""
    if isinstance(stored, str):
        return stored
    h = stored.hex()
    return f"{_PREFIX}{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def compact(indicator_id: str) -> str | bytes:
    """16 bytes for a canonical ``indicator--<uuid>`` id, else the id itself."""
    if len(indicator_id) != 47 or not indicator_id.startswith(_PREFIX):
        return indicator_id
    try:
        stored = bytes.fromhex(indicator_id[11:].replace("-", ""))
    except ValueError:
        return indicator_id
    return stored if len(stored) == 16 and expand(stored) == indicator_id else indicator_id
