"""Helpers for the import/export tests: indicators, and a strict checker of the IDS rules
we write (no Suricata/Snort binary is available here: ``suricata -T`` is used instead when
``suricata`` is on the PATH)."""

from __future__ import annotations

import re
import uuid

HEADER = re.compile(
    r"alert (ip|dns|udp|tcp|http) (\$HOME_NET|\[[0-9a-fA-F.:/]+\]|any) (any|53) -> "
    r"(\$HOME_NET|\$EXTERNAL_NET|\[[0-9a-fA-F.:/]+\]|any) (any|53|\$HTTP_PORTS) \((.*)\)"
)
OPTION = re.compile(
    r'\s*([a-z_.]+)(?::("(?:[^"\\;|]|\|[0-9A-F]{2}(?: [0-9A-F]{2})*\|)*"|[^;"]*))?;'
)
KNOWN = {
    "msg", "content", "nocase", "endswith", "startswith", "dotprefix", "dns.query",
    "http.host", "http.uri", "flow", "metadata", "sid", "rev", "http_header", "http_uri",
    "fast_pattern",
}  # fmt: skip


def indicator(pattern: str, **extra: object) -> dict[str, object]:
    """A STIX 2.1 indicator with ``pattern`` (valid from 2020); id derived from the args."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, pattern + str(extra))}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "test " + pattern[:40],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2020-01-01T00:00:00Z",
        **extra,
    }


def check_rules(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Parse every rule strictly (header, then ``name[:value];`` options with quoted values
    holding no raw ``"``, ``;``, ``\\`` or unbalanced ``|``); sids unique. Returns
    ``(header protocol, options)`` per rule; raises AssertionError on anything else."""
    rules = []
    sids: set[str] = set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head = HEADER.fullmatch(line)
        assert head is not None, line
        body = head.group(6)
        options: list[tuple[str, str]] = []
        position = 0
        while position < len(body):
            found = OPTION.match(body, position)
            assert found is not None, (line, body[position:])
            assert found.group(1) in KNOWN, found.group(1)
            options.append((found.group(1), found.group(2) or ""))
            position = found.end()
        names = [name for name, _ in options]
        assert names[0] == "msg" and "sid" in names and "rev" in names, line
        sid = dict(options)["sid"]
        assert sid.isdigit() and int(sid) < 2**31 and sid not in sids, line
        sids.add(sid)
        rules.append((head.group(1), options))
    return rules
