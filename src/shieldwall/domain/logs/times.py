"""Timestamps as logs write them → microseconds since the Unix epoch (UTC), or ``None``.

Every parser returns ``None`` for text it does not recognise or an impossible date; none
raises.  Forms:

* :func:`iso`: ISO 8601 / RFC 3339, ``T`` or space between date and time, optional fraction,
  ``Z``, ``UTC``/``GMT`` or a ``±HH:MM``/``±HHMM``/``±HH`` offset (none: UTC).
* :func:`epoch_text`, :func:`epoch_number`: seconds since the epoch (Zeek ``ts``), or
  milli-, micro-, nanoseconds told apart by magnitude (integer part of ≥ 12, 15, 18 digits).
* :func:`apache`: ``10/Oct/2000:13:55:36 -0700`` (common log format).
* :func:`bind`: ``10-Oct-2000 13:55:36.123`` (BIND's default; local time, read as UTC).
* :func:`windows`: ``6/5/2020 2:39:59 PM`` (Windows DNS debug log, month first unless the
  first number exceeds 12; local time, read as UTC).
* :func:`any_text`: the first of those that fits.

Dates without a year (classic syslog ``Oct 10 13:55:36``) have no timestamp.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

__all__ = ["any_text", "apache", "bind", "epoch_number", "epoch_text", "iso", "windows"]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MONTHS = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r" ?(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)
_EPOCH_DATETIME = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_APACHE = re.compile(
    r"(\d{1,2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?: +([+-]\d{4}))?", re.ASCII
)
_APACHE_SHAPE = re.compile(r"\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}", re.ASCII)
_BIND = re.compile(
    r"(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?", re.ASCII
)
_WINDOWS = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?: ?([AaPp][Mm]))?", re.ASCII
)


@lru_cache(maxsize=4096)
def _days(year: int, month: int, day: int) -> int | None:
    """Days from 1970-01-01 to the date, or None when there is no such date."""
    try:
        return date(year, month, day).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None


def _micros(
    year: int,
    month: int,
    day: int,
    clock: tuple[int, int, int],
    fraction: str | None = None,
    offset_minutes: int = 0,
) -> int | None:
    """The instant, or None for an impossible date or time of day (leap second kept as :59)."""
    hour, minute, second = clock
    days = _days(year, month, day)
    if days is None or hour > 23 or minute > 59 or second > 60:
        return None
    seconds = days * 86400 + hour * 3600 + minute * 60 + min(second, 59) - offset_minutes * 60
    micros = int((fraction + "000000")[:6]) if fraction else 0
    return seconds * 1_000_000 + micros


def _offset(text: str | None) -> int | None:
    """Minutes east of UTC for ``Z``/``UTC``/``±HH[:MM]``; None when out of range."""
    if not text or text[0] not in "+-":
        return 0
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        return None
    total = hours * 60 + minutes
    return -total if text[0] == "-" else total


def iso(text: str) -> int | None:
    """ISO 8601 date and time (see the module)."""
    candidate = text.strip()
    if (
        len(candidate) < 16
        or candidate[4] != "-"
        or candidate[7] != "-"
        or candidate[10] not in "Tt "
        or candidate[13] != ":"
    ):
        return None
    if len(candidate) > 20 and candidate[19] in ".,":
        # busy logs write many events per second: parse the second once, add the fraction
        rest = candidate[20:]
        zone = rest.lstrip("0123456789")
        fraction = rest[: len(rest) - len(zone)]
        if fraction:
            base = _iso_second(candidate[:19] + zone)
            return None if base is None else base + int((fraction + "00000")[:6])
    return _iso_second(candidate)


@lru_cache(maxsize=4096)
def _iso_second(candidate: str) -> int | None:
    """:func:`iso` of a shape-checked, stripped text."""
    if candidate.endswith(("UTC", "GMT")):
        candidate = candidate[:-3].rstrip()
    try:  # the C parser first: several times faster than any regex
        moment = datetime.fromisoformat(candidate)
    except ValueError:  # a leap second, or no ISO time at all: see below
        pass
    else:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - _EPOCH_DATETIME) // _MICROSECOND
    match = _ISO.fullmatch(candidate)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = _offset(zone)
    if offset is None:
        return None
    clock = (int(hour), int(minute), int(second or 0))
    return _micros(int(year), int(month), int(day), clock, fraction, offset)


def epoch_text(text: str) -> int | None:
    """Decimal time since the epoch (see the module for the units)."""
    whole, _, fraction = text.strip().partition(".")
    if not (whole.isdigit() and whole.isascii() and len(whole) <= 19 and len(fraction) <= 9):
        return None
    if fraction and not (fraction.isdigit() and fraction.isascii()):
        return None
    digits = len(whole.lstrip("0"))
    if digits <= 11:
        return int(whole) * 1_000_000 + (int((fraction + "000000")[:6]) if fraction else 0)
    if digits <= 14:
        return int(whole) * 1000 + (int((fraction + "000")[:3]) if fraction else 0)
    if digits <= 17:
        return int(whole)
    return int(whole) // 1000


def epoch_number(number: object) -> int | None:
    """A JSON number of time since the epoch (see the module); None for anything else."""
    if isinstance(number, bool) or not isinstance(number, int | float):
        return None
    if isinstance(number, float):
        if not math.isfinite(number) or number < 0:
            return None
        return epoch_text(repr(number)) if number < 1e19 else None
    return epoch_text(str(number)) if number >= 0 else None


def apache(text: str) -> int | None:
    """``10/Oct/2000:13:55:36 -0700``."""
    candidate = text.strip()
    if len(candidate) == 26 and _APACHE_SHAPE.fullmatch(candidate):  # the usual: slice it
        month = _MONTHS.get(candidate[3:6].lower())
        offset = _offset(candidate[21:])
        if month is None or offset is None:
            return None
        clock = (int(candidate[12:14]), int(candidate[15:17]), int(candidate[18:20]))
        return _micros(int(candidate[7:11]), month, int(candidate[:2]), clock, None, offset)
    match = _APACHE.fullmatch(candidate)
    if match is None:
        return None
    day, month_name, year, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(month_name.lower())
    offset = _offset(zone)
    if month is None or offset is None:
        return None
    return _micros(int(year), month, int(day), (int(hour), int(minute), int(second)), None, offset)


def bind(text: str) -> int | None:
    """``10-Oct-2000 13:55:36.123``."""
    match = _BIND.fullmatch(text.strip())
    if match is None:
        return None
    day, month_name, year, hour, minute, second, fraction = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    clock = (int(hour), int(minute), int(second))
    return _micros(int(year), month, int(day), clock, fraction)


def windows(text: str) -> int | None:
    """``6/5/2020 2:39:59 PM`` (month first unless the first number exceeds 12)."""
    match = _WINDOWS.fullmatch(text.strip())
    if match is None:
        return None
    first, second_number, year, hour_text, minute, second, half = match.groups()
    month, day = int(first), int(second_number)
    if month > 12:
        month, day = day, month
    hour = int(hour_text)
    if half:
        if hour == 0 or hour > 12:
            return None
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    return _micros(int(year), month, day, (hour, int(minute), int(second)))


def any_text(text: str) -> int | None:
    """The first of :func:`iso`, :func:`epoch_text`, :func:`apache`, :func:`bind`,
    :func:`windows` that reads ``text``."""
    candidate = text.strip().strip("[]")
    if not candidate or not candidate[0].isdigit() or len(candidate) > 64:
        return None
    for parse in (iso, epoch_text, apache, bind, windows):
        found = parse(candidate)
        if found is not None:
            return found
    return None
