"""Helpers shared by the log-reading tests: sample files, kind aliases, record summaries."""

from __future__ import annotations

from pathlib import Path

from shieldwall.domain.logs import LogRecord, read_records
from shieldwall.domain.timestamps import parse_timestamp

SAMPLES = Path(__file__).resolve().parent / "samples"

IP4 = "ipv4-addr:value"
IP6 = "ipv6-addr:value"
DOM = "domain-name:value"
URL = "url:value"
MAIL = "email-addr:value"
MD5 = "file:hashes.MD5"
SHA1 = "file:hashes.'SHA-1'"
SHA256 = "file:hashes.'SHA-256'"
SHA512 = "file:hashes.'SHA-512'"

# the digests written into the samples
MD5_A = "701af47e87173e2f312f557052c4082d"
SHA1_A = "24cef485a98e0e10ee825d3fb63fbadf3974f891"
SHA256_A = "39cec7ba760a8269749988269cb2c61165db89125a82745ff89eaca0fec3e453"
MD5_B = "bd7a8ebfc5b0db1f2637f5021acd42c7"
SHA1_B = "7b68090408ceaafe33e977e424453acdd7747ff4"
SHA512_EICAR = (
    "cc805d5fab1fd71a4ab352a9c533e65fb2d5b885518f4e565e68847223b8e6b8"
    "5cb48f3afad842726d99239c9e36505c64b0dc9a061d9e507d833277ada336ab"
)

Summary = dict[int, tuple[int | None, list[tuple[str, str]]]]


def ts(text: str) -> int:
    """Microseconds of an RFC 3339 UTC timestamp (``…Z``)."""
    return parse_timestamp(text)


def read_sample(name: str, fmt: str = "auto") -> list[LogRecord]:
    """All records of a sample file, read lazily from the open file as the CLI would."""
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(read_records(handle, fmt, source=name))


def summary(records: list[LogRecord]) -> Summary:
    """line number → (timestamp, [(kind, value)]) for the lines that carry something."""
    return {
        record.line_no: (record.timestamp, [(o.kind, o.value) for o in record.observables])
        for record in records
        if record.observables or record.timestamp is not None
    }
