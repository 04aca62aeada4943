"""Recognising a log's format from its first lines.

Contract: :func:`detect_format` looks at up to ``HEAD`` lines and returns one of
``"zeek"`` (a ``#separator``/``#fields`` header, or JSON objects with ``ts`` and ``uid``/
``fuid``/``id.orig_h``), ``"suricata"`` (JSON objects with ``event_type``), ``"jsonl"`` (other
JSON objects, at least half the non-blank lines), ``"access"`` (≥ 60% of the data lines in
common/combined log format), ``"dns"`` (≥ half the data lines are DNS server query lines, or
a Windows DNS debug log header), ``"csv"`` (two or more rows using one delimiter equally
often) and otherwise ``"plain"``.  It never raises.
"""

from __future__ import annotations

from collections.abc import Sequence

from shieldwall.domain.logs.access import ACCESS_LINE
from shieldwall.domain.logs.delimited import sniff
from shieldwall.domain.logs.dns import is_dns_line
from shieldwall.domain.logs.jsonl import load
from shieldwall.domain.logs.suricata import is_eve
from shieldwall.domain.logs.zeek import is_zeek_json

__all__ = ["HEAD", "detect_format"]

HEAD = 20


def detect_format(head: Sequence[str]) -> str:
    """The format of a log starting with ``head`` (see the module)."""
    lines = [line.rstrip("\r\n") for line in list(head)[:HEAD]]
    content = [line for line in lines if line.strip()]
    if not content:
        return "plain"
    if any(line.startswith(("#separator", "#fields")) for line in content):
        return "zeek"
    documents = [load(line) for line in content if line.lstrip().startswith("{")]
    objects = [document for document in documents if isinstance(document, dict)]
    if objects and 2 * len(objects) >= len(content):
        eve = sum(1 for document in objects if is_eve(document))
        zeek = sum(1 for document in objects if is_zeek_json(document))
        if eve >= zeek and 2 * eve >= len(objects):
            return "suricata"
        if 2 * zeek >= len(objects):
            return "zeek"
        return "jsonl"
    data = [line for line in content if not line.lstrip().startswith("#")]
    if not data:
        return "plain"
    if 10 * sum(1 for line in data if ACCESS_LINE.match(line)) >= 6 * len(data):
        return "access"
    if 2 * sum(1 for line in data if is_dns_line(line)) >= len(data):
        return "dns"
    if sniff(content, minimum_lines=2) is not None:
        return "csv"
    return "plain"
