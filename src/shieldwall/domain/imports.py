"""What ``shieldwall import`` reads: format detection, and CSV and plain value lists as STIX
indicators.

Formats (:func:`detect`):

* ``stix``: JSON holding a bundle or a TAXII envelope (an ``objects`` list), or a list of
  STIX objects;
* ``misp``: any other JSON (``domain.misp`` reads the forms MISP writes and refuses, with
  a clear message, what is no MISP event);
* ``csv``: text whose first non-comment line is a header naming a value column (``value``,
  ``indicator``, ``ioc``, ``observable``, ``ip``, ``domain``, ``url``, ``hash`` …) and
  optionally a ``type``/``kind`` column; comma, semicolon or tab separated;
* ``list``: anything else: one value per line, ``#`` comments, blank lines ignored.

Values may be defanged (``hxxp://evil[.]com``); the kind is read from the type column
(``ip-dst``, ``ipv4``, ``domain``, ``sha256``, …) or guessed (``domain.lookup.guess``).
Each value becomes one ``indicator`` with a STIX pattern on the value (literal escaped), an
id derived from the importer, kind and value (re-importing gives the same ids), and
``created``/``modified``/``valid_from`` at the ``now`` the caller passes. Pure: no I/O, no
clock.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from enum import StrEnum

import orjson

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.extraction.refang import refang_value
from shieldwall.domain.lookup import MATCH_PATHS, guess, normalise
from shieldwall.domain.misp import convert_misp, to_bundle
from shieldwall.domain.misp.attributes import escape
from shieldwall.domain.misp.common import stable_id
from shieldwall.domain.timestamps import format_stix_timestamp

Json = dict[str, object]


class Format(StrEnum):
    """The formats ``shieldwall import`` reads."""

    STIX = "stix"
    MISP = "misp"
    CSV = "csv"
    LIST = "list"


#: Header names taken as the value column (first found wins), and as the kind column.
VALUE_COLUMNS = (
    "value", "indicator", "ioc", "observable", "ioc_value", "indicator_value", "address",
    "ip", "ip_address", "domain", "hostname", "url", "hash", "sha256", "sha1", "md5",
)  # fmt: skip
KIND_COLUMNS = ("type", "kind", "ioc_type", "indicator_type", "category")
NAME_COLUMNS = ("name", "description", "comment", "info")
#: Kinds named in files (MISP attribute types, common spellings) → ``domain.lookup`` kinds.
KIND_ALIASES = {
    "ip": None, "ip-src": "ipv4", "ip-dst": "ipv4", "ipv4": "ipv4", "ipv4-addr": "ipv4",
    "ipv6": "ipv6", "ipv6-addr": "ipv6", "domain": "domain", "hostname": "domain",
    "domain-name": "domain", "fqdn": "domain", "host": "domain", "url": "url", "uri": "url",
    "link": "url", "email": "email", "email-src": "email", "email-dst": "email",
    "email-addr": "email", "md5": "md5", "sha1": "sha1", "sha-1": "sha1", "sha256": "sha256",
    "sha-256": "sha256", "sha512": "sha512", "sha-512": "sha512", "hash": None,
    "filehash": None, "file": None,
}  # fmt: skip
_VALUE_HEADERS = frozenset(VALUE_COLUMNS)
_NAME_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Entry:
    """One value read: its line, its item (``kind|value``, normalised) and a name if given."""

    line: int
    item: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line that gave no value, and why."""

    line: int
    text: str
    reason: str


@dataclass
class ReadValues:
    """The values of a CSV file or list, and the lines skipped."""

    entries: list[Entry] = field(default_factory=list)
    skipped: list[SkippedLine] = field(default_factory=list)


def _json_error(data: bytes) -> InvalidInput:
    """The error for JSON that does not parse, worded as ``domain.misp`` words it (the
    standard library's message, which names a truncation as ``Expecting value``)."""
    try:
        json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        if isinstance(error, json.JSONDecodeError):
            return InvalidInput(f"not JSON: line {error.lineno} column {error.colno}: {error.msg}")
    return InvalidInput("not JSON")


def detect(data: bytes) -> Format:
    """The format of a file's content (see the module docstring). JSON that does not parse
    raises ``InvalidInput`` naming the line and column (a truncated download)."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise _json_error(data) from None
        return Format.STIX if is_stix(document) else Format.MISP
    text = _text(data)
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return Format.CSV if _header(stripped) is not None else Format.LIST
    return Format.LIST


def is_stix(document: object) -> bool:
    """Whether parsed JSON is a STIX bundle, a TAXII envelope or a list of STIX objects."""
    if isinstance(document, dict):
        if document.get("type") == "bundle":
            return True
        return "Event" not in document and isinstance(document.get("objects"), list)
    if isinstance(document, list) and document:
        return all(
            isinstance(item, dict) and isinstance(item.get("type"), str) and "id" in item
            for item in document
        )
    return False


def stix_objects(data: bytes) -> list[object]:
    """The objects of a STIX bundle, envelope or list (``InvalidInput`` otherwise)."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise _json_error(data) from None
    if isinstance(document, list) and is_stix(document):
        return list(document)
    if isinstance(document, dict) and isinstance(document.get("objects"), list):
        return list(document["objects"])
    raise InvalidInput("not a STIX bundle: no objects list")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"not UTF-8 text: byte {error.start}") from None


def _dialect(line: str) -> str:
    counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: counts[sep])


def _header(line: str) -> list[str] | None:
    """The normalised column names if ``line`` is a CSV header with a value column."""
    separator = _dialect(line)
    if separator not in line:
        return None
    names = [name.strip().strip('"').lower().replace(" ", "_") for name in line.split(separator)]
    return names if _VALUE_HEADERS.intersection(names) else None


def item_of(value: str, kind: str | None = None) -> str | None:
    """The item (``kind|value``) of a possibly defanged value, of the named kind (any alias
    in ``KIND_ALIASES``; None or unknown: guessed); None when it is no observable value."""
    text = refang_value(value.strip()).strip()
    if not text:
        return None
    wanted = KIND_ALIASES.get(kind.strip().lower()) if kind else None
    if wanted is None:
        return guess(text)
    if wanted == "ipv4" and ":" in text:
        wanted = "ipv6"
    return normalise(wanted, text)


def read_list(data: bytes) -> ReadValues:
    """One value per line; ``#`` starts a comment (whole line or after the value); blank
    lines are ignored; a line that is no observable value is skipped with the reason."""
    result = ReadValues()
    for number, line in enumerate(_text(data).splitlines(), start=1):
        content = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not content:
            continue
        value = content.split()[0] if len(content.split()) > 1 else content
        item = item_of(value)
        if item is None:
            result.skipped.append(SkippedLine(number, line.strip(), "not an observable value"))
        else:
            result.entries.append(Entry(number, item))
    return result


def read_csv(data: bytes) -> ReadValues:
    """Rows of a CSV file with a header (see the module docstring); rows whose value is
    missing or no observable value of the named kind are skipped with the reason."""
    text = _text(data)
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.strip() and not line.strip().startswith("#")),
        None,
    )
    result = ReadValues()
    if start is None:
        return result
    header = _header(lines[start].strip())
    if header is None:
        raise InvalidInput("not CSV with a header naming a value column")
    value_at = next(header.index(name) for name in VALUE_COLUMNS if name in header)
    kind_at = next((header.index(name) for name in KIND_COLUMNS if name in header), None)
    name_at = next((header.index(name) for name in NAME_COLUMNS if name in header), None)
    default_kind = header[value_at] if header[value_at] in KIND_ALIASES else None
    reader = csv.reader(
        io.StringIO("\n".join(lines[start + 1 :])), delimiter=_dialect(lines[start])
    )
    for offset, row in enumerate(reader):
        number = start + 2 + offset
        if not row or all(not cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        raw = row[value_at].strip() if value_at < len(row) else ""
        if not raw:
            result.skipped.append(SkippedLine(number, ",".join(row), "no value"))
            continue
        kind = row[kind_at] if kind_at is not None and kind_at < len(row) else default_kind
        item = item_of(raw, kind)
        if item is None:
            reason = f"not a {kind.strip()} value" if kind else "not an observable value"
            result.skipped.append(SkippedLine(number, ",".join(row), reason))
            continue
        name = row[name_at].strip() if name_at is not None and name_at < len(row) else None
        result.entries.append(Entry(number, item, name[:_NAME_LIMIT] if name else None))
    return result


def pattern_of(item: str) -> str:
    """The STIX pattern comparing the item's object path with its value (escaped)."""
    kind, _, value = item.partition("|")
    path = MATCH_PATHS.get(kind)
    if path is None:
        raise InvalidInput(f"no STIX pattern for values of kind {kind!r}")
    return f"[{path} = '{escape(value)}']"


def indicator_of(entry: Entry, now: int, created_by_ref: str | None, source: str) -> Json:
    """The STIX indicator for one value read from ``source`` (a file name, for the default
    name), created at ``now`` (microseconds); id derived from importer, kind and value."""
    kind, _, value = entry.item.partition("|")
    stamp = format_stix_timestamp(now)
    indicator: Json = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stable_id("indicator", created_by_ref or "", "import", entry.item),
        "created": stamp,
        "modified": stamp,
        "name": entry.name or f"{kind} {value}"[:_NAME_LIMIT],
        "pattern": pattern_of(entry.item),
        "pattern_type": "stix",
        "valid_from": stamp,
        "indicator_types": ["malicious-activity"],
        "description": f"Imported from {source}"[:_NAME_LIMIT],
    }
    if created_by_ref:
        indicator["created_by_ref"] = created_by_ref
    return indicator


@dataclass
class Prepared:
    """A file made ready to submit: its format, the STIX objects, and what was left out
    (lines, or MISP attributes, with reasons)."""

    format: Format
    objects: list[object] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def prepare(data: bytes, source: str, now: int, created_by_ref: str | None) -> Prepared:
    """Detect the format of ``data`` and turn it into STIX objects: STIX as it is, MISP
    through ``domain.misp`` (ids derived from ``created_by_ref``), CSV and lists as one
    indicator per value. ``InvalidInput`` when the content cannot be read (truncated JSON,
    JSON that is no STIX nor MISP, CSV without a value column)."""
    kind = detect(data)
    if kind is Format.STIX:
        return Prepared(kind, stix_objects(data))
    if kind is Format.MISP:
        events = convert_misp(data, created_by_ref=created_by_ref)
        bundle = to_bundle(events)
        objects = bundle["objects"]
        assert isinstance(objects, list)
        skipped = [
            f"MISP attribute {s.uuid} ({s.type}): {s.reason}" for e in events for s in e.skipped
        ]
        return Prepared(kind, list(objects), skipped)
    read = read_csv(data) if kind is Format.CSV else read_list(data)
    seen: set[str] = set()
    objects_out: list[object] = []
    for entry in read.entries:
        if entry.item in seen:
            continue
        seen.add(entry.item)
        objects_out.append(indicator_of(entry, now, created_by_ref, source))
    skipped_lines = [f"line {s.line}: {s.reason}: {s.text[:80]}" for s in read.skipped]
    return Prepared(kind, objects_out, skipped_lines)
