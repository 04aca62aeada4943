"""Indicator ids, stored compactly: the index holds one per plain pattern.

``indicator--<lower-case UUID>`` (47 characters: a 96-byte ``str``) is kept as the UUID's
128-bit integer (a 44-byte ``int``); any other id, and the nil UUID (0 would read as "no
entry"), is kept as given.  ``expand(compact(i)) == i``.
"""

from __future__ import annotations

__all__ = ["compact", "expand"]

_PREFIX = "indicator--"
_HEX = frozenset("0123456789abcdef")


def expand(stored: str | int) -> str:
    """The id ``compact`` was given."""
    if isinstance(stored, str):
        return stored
    h = f"{stored:032x}"
    return f"{_PREFIX}{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def compact(indicator_id: str) -> str | int:
    """The UUID as an int for a canonical ``indicator--<uuid>`` id, else the id itself."""
    if (
        len(indicator_id) != 47
        or not indicator_id.startswith(_PREFIX)
        or indicator_id[19] != "-"
        or indicator_id[24] != "-"
        or indicator_id[29] != "-"
        or indicator_id[34] != "-"
    ):
        return indicator_id
    digits = indicator_id[11:].replace("-", "")
    if len(digits) != 32 or not _HEX.issuperset(digits):
        return indicator_id
    return int(digits, 16) or indicator_id
