"""Object versions as TAXII sees them (TAXII 2.1 §3.4.2, "version").

An object's version is its ``modified`` timestamp, else its ``created`` timestamp. Objects
with neither (cyber-observables) have a single version, stored as ``VERSIONLESS`` and
presented as the time the hub added them.
"""

from __future__ import annotations

from shieldwall.domain.timestamps import format_timestamp

VERSIONLESS = -(2**62)


def version_text(version: int, date_added: int) -> str:
    """The version as a TAXII timestamp string (millisecond form when exact)."""
    micros = date_added if version == VERSIONLESS else version
    text = format_timestamp(micros)
    if micros % 1000 == 0:
        return text[:-4] + "Z"
    return text
