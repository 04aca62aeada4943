"""Web server access logs: Apache/Nginx common, combined and vhost_combined formats.

``[vhost[:port] ]client ident user [10/Oct/2000:13:55:36 -0700] "GET /path HTTP/1.1" status
size ["referer" "user agent"]…``

Contract: observables, in order: the virtual host (domain or IP, port dropped), the client
(IP, or a host name when the server resolves them), the request target when it is an absolute
URL (proxy requests; the URL and its host) or the host of a ``CONNECT``, the referer URL and
its host, then whatever free text follows the user agent (Nginx extras such as
``"$http_x_forwarded_for"``).  A plain path is not a URL: the log does not say which name the
client used.  The user agent is not read.  The timestamp is the bracketed time with its
offset.  A line of another shape is read as free text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shieldwall.domain.logs import times
from shieldwall.domain.logs.classify import host, url, words
from shieldwall.domain.logs.model import LogObservable, Parsed

__all__ = ["ACCESS_LINE", "AccessParser"]

ACCESS_LINE = re.compile(
    r"(?:(?P<vhost>\S+) )?(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]{1,64})\] "
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}|-) (?P<size>\S+)'
    r'(?: "(?P<referer>(?:[^"\\]|\\.)*)"(?: "(?P<agent>(?:[^"\\]|\\.)*)")?)?'
    r"(?P<rest>.*)",
    re.DOTALL,
)


class AccessParser:
    """Reads access logs; stateless."""

    def __init__(self, head: Sequence[str] = ()) -> None:
        del head

    def parse(self, line: str) -> Parsed:
        """See the module."""
        match = ACCESS_LINE.match(line)
        if match is None:
            return (words(line) if line.strip() else []), None
        found: list[LogObservable] = []
        for key in ("vhost", "client"):
            raw = match.group(key)
            if raw and raw != "-":
                observable = host(raw)
                if observable is not None:
                    found.append(observable)
        method, _, rest = match.group("request").partition(" ")
        target = rest.partition(" ")[0]
        if "://" in target:
            found.extend(url(target))
        elif method == "CONNECT" and target:
            observable = host(target)
            if observable is not None:
                found.append(observable)
        referer = match.group("referer")
        if referer and "://" in referer:
            found.extend(url(referer))
        tail = match.group("rest")
        if tail and tail.strip():
            found.extend(words(tail))
        return found, times.apache(match.group("time"))
