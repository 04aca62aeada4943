"""IP addresses and CIDR blocks for ``ISSUBSET``/``ISSUPERSET`` (and ``=`` on CIDR values).

Parsing follows stix2-matcher 3.0.0, which reads IPv4 text with ``socket.inet_aton`` (glibc's
lenient reader: ``'10.1'`` is 10.0.0.1, ``'010.0.0.1'`` is octal, anything after a trailing
space is ignored) and CIDR blocks as ``<inet_aton text>/<digits>``.  Where stix2-matcher raises
instead of answering we extend, never contradict: IPv6 (strict ``ipaddress`` text), a plain
address where a block is expected (a /32 or /128), and prefix length 0.

Contract: every function is pure and total; ``None`` means "not an address".
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Generic, TypeAlias, TypeVar

__all__ = ["Network", "NetworkIndex", "contains", "inet_aton", "parse_network", "quad"]

Network: TypeAlias = tuple[int, int, int]  # (bits: 32 or 128, address, prefix length)
T = TypeVar("T")

_SPACE = frozenset(" \t\n\v\f\r")
_HEX = frozenset("0123456789abcdefABCDEF")
_OCT = frozenset("01234567")
_DEC = frozenset("0123456789")
_LAST_PART_MAX = (0xFFFFFFFF, 0xFFFFFF, 0xFFFF, 0xFF)


def inet_aton(text: str) -> int | None:
    """IPv4 ``text`` as an int, read exactly as glibc's ``inet_aton`` reads it, else None."""
    if "\x00" in text:
        return None
    parts: list[int] = []
    size = len(text)
    index = 0
    while True:
        if index >= size or text[index] not in _DEC:
            return None
        # strtoul(text, &end, 0): 0x → hex (if a hex digit follows), leading 0 → octal.
        if (
            text[index] == "0"
            and text[index + 1 : index + 2] in ("x", "X")
            and (index + 2 < size and text[index + 2] in _HEX)
        ):
            start, digits, base = index + 2, _HEX, 16
        elif text[index] == "0":
            start, digits, base = index, _OCT, 8
        else:
            start, digits, base = index, _DEC, 10
        end = start
        while end < size and text[end] in digits:
            end += 1
        value = int(text[start:end], base)
        if value > 0xFFFFFFFF:
            return None
        index = end
        if index < size and text[index] == ".":
            if len(parts) > 2 or value > 0xFF:
                return None
            parts.append(value)
            index += 1
            continue
        break
    if index < size and text[index] not in _SPACE:
        return None
    if value > _LAST_PART_MAX[len(parts)]:
        return None
    address = value
    for position, part in enumerate(parts):
        address |= part << (24 - 8 * position)
    return address


def quad(text: str) -> int | None:
    """Fast path for plain dotted-quad text (no leading zeros); None means "ask inet_aton"."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    address = 0
    for part in parts:
        if not (part.isdigit() and part.isascii()) or len(part) > 3 or (part[0] == "0" != part):
            return None
        octet = int(part)
        if octet > 255:
            return None
        address = (address << 8) | octet
    return address


def _prefix(text: str, bits: int) -> int | None:
    # stix2-matcher checks str.isdigit() and then calls int(); int() refuses some isdigit()
    # characters (superscripts), where it would crash: we answer None.
    if not text.isdigit():
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value <= bits else None


def parse_network(text: str) -> Network | None:
    """An address (a full-length block) or a CIDR block; host bits are kept as written."""
    slash = text.find("/")
    if slash < 0:
        address = quad(text)
        if address is None:
            address = inet_aton(text)
        if address is not None:
            return (32, address, 32)
    else:
        address = inet_aton(text[:slash])
        if address is not None:
            length = _prefix(text[slash + 1 :], 32)
            return None if length is None else (32, address, length)
    if ":" not in text:
        return None
    try:
        parsed = ipaddress.IPv6Address(text if slash < 0 else text[:slash])
    except ValueError:
        return None
    if slash < 0:
        return (128, int(parsed), 128)
    digits = text[slash + 1 :]
    length = _prefix(digits, 128) if digits.isascii() else None
    return None if length is None else (128, int(parsed), length)


def contains(container: Network, containee: Network) -> bool:
    """Whether every address of ``containee`` is in ``container`` (same family only)."""
    bits, address, length = container
    if bits != containee[0] or length > containee[2]:
        return False
    shift = bits - length
    return address >> shift == containee[1] >> shift


class NetworkIndex(Generic[T]):
    """Networks with payloads, for the two containment questions.

    ``containing(n)`` yields payloads of stored networks that contain ``n`` (one hash lookup per
    distinct stored prefix length); ``contained(n)`` yields payloads of stored networks inside
    ``n`` (a bisect over a sorted list of start addresses, built by ``freeze``).
    """

    __slots__ = ("_by_length", "_lengths", "_sorted", "_starts", "_unsorted")

    def __init__(self) -> None:
        self._by_length: dict[tuple[int, int], dict[int, list[T]]] = {}
        self._lengths: dict[int, list[int]] = {}
        self._unsorted: list[tuple[int, int, int, int, T]] = []
        self._sorted: dict[int, list[tuple[int, int, T]]] = {}
        self._starts: dict[int, list[int]] = {}

    def add(self, network: Network, payload: T) -> None:
        bits, address, length = network
        table = self._by_length.setdefault((bits, length), {})
        table.setdefault(address >> (bits - length), []).append(payload)
        lengths = self._lengths.setdefault(bits, [])
        if length not in lengths:
            lengths.append(length)
            lengths.sort()
        start = address >> (bits - length) << (bits - length)
        self._unsorted.append((bits, start, length, len(self._unsorted), payload))

    def freeze(self) -> None:
        """Build the sorted lists ``contained`` reads; call after the last ``add``."""
        self._sorted = {}
        for bits, start, length, _, payload in sorted(self._unsorted, key=lambda e: e[:4]):
            self._sorted.setdefault(bits, []).append((start, length, payload))
        self._starts = {bits: [row[0] for row in rows] for bits, rows in self._sorted.items()}

    def __bool__(self) -> bool:
        return bool(self._unsorted)

    def containing(self, network: Network) -> Iterator[T]:
        bits, address, length = network
        for stored in self._lengths.get(bits, ()):
            if stored > length:
                break
            found = self._by_length[bits, stored].get(address >> (bits - stored))
            if found:
                yield from found

    def contained(self, network: Network) -> Iterator[T]:
        bits, address, length = network
        rows = self._sorted.get(bits)
        if not rows:
            return
        shift = bits - length
        low = address >> shift << shift
        high = low | ((1 << shift) - 1)
        starts = self._starts[bits]
        for position in range(bisect_left(starts, low), bisect_right(starts, high)):
            _, stored, payload = rows[position]
            if stored >= length:
                yield payload
