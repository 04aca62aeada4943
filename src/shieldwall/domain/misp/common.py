"""Shared pieces of the MISP converter: result records, deterministic ids, MISP scalars.

Contract: pure.  :func:`stable_id` is a UUIDv5 (RFC 4122 §4.3, computed by hand because
``domain`` may not import ``uuid``) under :data:`MISP_NAMESPACE`, so the same name always
gives the same STIX id.  The timestamp readers accept what MISP writes (epoch seconds as
text or number, ``YYYY-MM-DD`` dates, ISO 8601 with any offset) and return microseconds
since the epoch, or ``None`` for anything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from shieldwall.domain.timestamps import MAX_MICROS

Json = dict[str, object]

#: The fixed namespace of every SDO/SRO id this converter derives (UUIDv5).
MISP_NAMESPACE = "0b60ae95-6424-4e95-9b5b-0fe250b679f1"
_NAMESPACE_BYTES = bytes.fromhex(MISP_NAMESPACE.replace("-", ""))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A MISP attribute that produced no STIX object, and why.

    ``uuid``, ``type`` and ``value`` are the attribute's own, or ``None`` when it lacked a
    usable one; ``reason`` is a sentence for a person.
    """

    uuid: str | None
    type: str | None
    value: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ConvertedEvent:
    """One MISP event as STIX 2.1.

    ``objects`` holds the ``report`` first, then every other object it refers to (ready to
    submit, no bundle wrapper).  ``attribute_objects`` maps each represented attribute (its
    uuid, or ``type|value`` when it has none) to the ids of the objects made from it;
    every attribute of the event is either there, a ``link`` in the report's
    ``external_references``, or in ``skipped``.  ``links`` lists the uuids of those links.
    ``skipped`` may also hold a galaxy cluster that gave no valid STIX object (``type``
    ``"galaxy"``, ``value`` its name, ``uuid`` ``None``).
    """

    event_uuid: str
    info: str
    report_id: str
    objects: list[Json]
    skipped: list[Skipped]
    attribute_objects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)


def stable_id(object_type: str, *parts: str) -> str:
    """``object_type--`` + the UUIDv5 of ``object_type`` and ``parts`` (joined by ``|``)
    under the namespace."""
    name = "|".join((object_type, *parts)).encode("utf-8")
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name).digest()[:16])  # noqa: S324
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    hexa = digest.hex()
    return f"{object_type}--{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


def epoch_micros(value: object) -> int | None:
    """MISP ``timestamp``/``publish_timestamp`` (seconds, text or number) in microseconds.

    ``0`` (MISP's "never") and values outside the STIX range give ``None``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    elif isinstance(value, int):
        seconds = value
    else:
        return None
    micros = seconds * 1_000_000
    return micros if 0 < micros <= MAX_MICROS else None


def date_micros(value: object) -> int | None:
    """A MISP event ``date`` (``YYYY-MM-DD``) as midnight UTC in microseconds."""
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def iso_micros(value: object) -> int | None:
    """An ISO 8601 moment (``first_seen``/``last_seen``); no offset means UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    micros = (moment - _EPOCH) // _MICROSECOND
    return micros if 0 <= micros <= MAX_MICROS else None


def text(value: object) -> str | None:
    """A MISP scalar as text: strings as they are, numbers written out, else ``None``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def flag(value: object) -> bool:
    """MISP booleans: ``true``, ``1``, ``"1"`` and ``"true"`` (any case) are true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in {"1", "true"}


def tag_names(holder: Mapping[str, object]) -> list[str]:
    """The names of an event's or attribute's tags (``Tag``, or the older ``EventTag``/
    ``AttributeTag`` wrappers), as written."""
    names: list[str] = []
    entries: list[object] = []
    for key in ("Tag", "EventTag", "AttributeTag"):
        value = holder.get(key)
        if isinstance(value, list):
            entries.extend(value)
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("Tag"), dict):
            entry = entry["Tag"]
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return names
