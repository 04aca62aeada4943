"""Finding indicator candidates in refanged plain text and deciding what each one is.

Contract: :func:`scan` returns ``Found`` items with ranges in the *refanged* text, in
passes that claim the characters they use so that no character yields two indicators:
magnet links (skipped), URLs (the host is part of the URL, not a separate domain), e-mail
addresses, IPv4 (with optional CIDR and port) and IPv6 addresses, hex strings (hashes),
file-name cells of tables, then dotted tokens (domains or file names; ``host/path`` becomes
a URL, ``host:port`` the host).  Every candidate ends as an indicator (``reason is None``) or
a skipped value with a reason; obvious non-values (``e.g``, detection names) vanish silently.

Decisions (``include_benign`` turns off the benign and reference lists, never validity):
reference links are URLs on well-known sites, hyperlink targets with their own link text,
and, in a report that defangs its indicators, non-defanged links inside prose sentences;
a value written defanged is never treated as a reference (the author marked it hostile).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

from shieldwall.domain.extraction import hashes
from shieldwall.domain.extraction.benign import (
    EMPTY_HASHES,
    REFERENCE_DOMAINS,
    SYSTEM_FILE_NAMES,
    on_domain,
)
from shieldwall.domain.extraction.converted import Converted
from shieldwall.domain.extraction.filenames import EXTENSIONS, FILE_HEADER, cell_names
from shieldwall.domain.extraction.layout import Layout
from shieldwall.domain.extraction.network import domain_problem, ip_problem, is_tld
from shieldwall.domain.extraction.refang import RefangedView, refang_value


@dataclass(frozen=True)
class Found:
    kind: str
    value: str
    start: int  # in the refanged text
    end: int
    defanged: bool
    reason: str | None = None  # None: an indicator; else why it was skipped


_MAGNET = re.compile(r"magnet:\?[^\s|]+(?:[^\n|]*)", re.IGNORECASE)
_URL = re.compile(
    r"(?<![\w.+-])(?:https?|ftps?|sftp|smb|tcp|udp|wss?|tftp|rtsp)://[^\s<>\"'`|^{}\\]+",
    re.IGNORECASE,
)
_URL_PARTS = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<user>[^@/?#]*@)?"
    r"(?P<host>\[[0-9a-f:.]+\]|[^:/?#\[\]]+)(?P<port>:\d{1,5})?(?P<rest>[/?#].*)?$",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"(?<![\w.+%-])([a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59}))(?![\w-]|\.[\w])",
    re.IGNORECASE,
)
_IPV4 = re.compile(
    r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?:/(\d{1,2})(?![\w./]))?(?::(\d{1,5}))?(?![\w]|\.\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:.\-])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}"
    r"(?![\w:\-])",
    re.IGNORECASE,
)
_HEX = re.compile(r"(?<![\w.\-])(0x)?([0-9a-f]{32,128})(?![\w\-]|\.[\w])", re.IGNORECASE)
_DOMAIN = re.compile(
    r"(?<![\w\-.@])((?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9\-]{1,59}))(?![\w\-]|\.[\w])",
    re.IGNORECASE,
)
_FILE = re.compile(
    r"(?<![\w\-.$~%])([\w\-~$]+(?:\.[\w\-~$]+)*\.([a-z0-9]{1,5}))(?![\w\-~$%]|\.[\w])",
    re.IGNORECASE,
)
_PATH_TAIL = re.compile(r"[^\s<>\"'`|^{}\\]*")
_TRAILING = ".,;:!?'\""
_VERSION_BEFORE = re.compile(r"(?:\bv|\bversion\s*|\bver\.?\s*|\bbuild\s*)$", re.IGNORECASE)
_NETWORK_WORDS = re.compile(
    r"domain|host|c&c|\bc2\b|server|\burl|\buri|network|\bdns\b|web\s*site|\bsite|\bip\b",
    re.IGNORECASE,
)
_FILE_WORDS = re.compile(
    r"file|name|path|sample|attachment|archive|package|executable|document|payload|dropper"
    r"|binary|artifact|artefact|module|plugin|script|installer",
    re.IGNORECASE,
)
_REVERSE_DNS_HEADS = frozenset({"com", "org", "net", "edu", "gov", "io", "de", "uk"})
_PROSE_WORD = re.compile(r"[A-Za-z]{2,}")
_CODE_OBJECTS = frozenset({
    "document", "window", "this", "self", "navigator", "location", "console", "process",
    "math", "json", "object", "string", "array", "system", "event", "request", "response",
})  # fmt: skip
_DETECTION_HEAD = re.compile(r"(?:^|(?<=[\s(|,;]))@?[A-Za-z][A-Za-z0-9]*/(?:[A-Za-z]+\.)*$")
_DEFANGING_REPORT = 3  # defanged network indicators that make a report "defanging"
_PLACEHOLDER = re.compile(r"^(?:n/?a|none|unknown|-+)$", re.IGNORECASE)


class _Scanner:
    def __init__(self, view: RefangedView, converted: Converted, include_benign: bool) -> None:
        self.view = view
        self.text = view.text
        self.layout = Layout(view.text)
        self.converted = converted
        self.include_benign = include_benign
        self.free = bytearray(b"\x01") * len(self.text)
        self.found: list[Found] = []
        self.link_targets = {refang_value(target).lower() for target, _ in converted.links}

    # -- bookkeeping
    def is_free(self, start: int, end: int) -> bool:
        return all(self.free[start:end])

    def claim(self, start: int, end: int) -> None:
        self.free[start:end] = b"\x00" * (end - start)

    def add(
        self,
        kind: str,
        value: str,
        start: int,
        end: int,
        reason: str | None = None,
        defanged: bool | None = None,
    ) -> None:
        if defanged is None:
            defanged = self.view.defanged(start, end)
        self.found.append(Found(kind, value, start, end, defanged, reason))

    def free_matches(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        for match in pattern.finditer(self.text):
            if self.is_free(match.start(), match.end()):
                yield match

    def context(self, position: int) -> tuple[str | None, str, list[str]]:
        cell = self.layout.cell(position)
        header = cell.header if cell else None
        return header, self.layout.prefix(position), self.layout.labels(position)

    def network_context(self, position: int) -> bool | None:
        """True/False when the context is about the network/files, None when silent."""
        header, prefix, labels = self.context(position)
        for context in (header or "", prefix[-30:], *labels[:1]):
            net, file = _NETWORK_WORDS.search(context), _FILE_WORDS.search(context)
            if net and not file:
                return True
            if file and not net:
                return False
        return None

    # -- passes
    def run(self) -> list[Found]:
        self.magnets()
        self.urls()
        self.emails()
        self.ipv4()
        self.ipv6()
        self.hex_values()
        self.file_cells()
        self.domains()
        self.file_names()
        if not self.include_benign:
            self.judge_plain_values()
        return sorted(self.found, key=lambda item: item.start)

    def judge_plain_values(self) -> None:
        """In a report that defangs its indicators, plainly written domains and prose links
        are what the author did not consider hostile (legitimate or compromised sites,
        references)."""
        network = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr")
        defanged = sum(
            1
            for item in self.found
            if item.defanged and item.reason is None and item.kind in network
        )
        if defanged < _DEFANGING_REPORT:
            return
        for index, item in enumerate(self.found):
            if item.reason is not None or item.defanged:
                continue
            reason = None
            if item.kind == "domain-name":
                reason = (
                    "written plainly in a report that defangs its indicators "
                    "(likely a legitimate or compromised site)"
                )
            elif item.kind == "url" and self.layout.cell(item.start) is None:
                line = self.layout.line(self.layout.line_of(item.start))
                words = len(_PROSE_WORD.findall(line.replace(self.text[item.start : item.end], "")))
                if words >= 4:
                    reason = "plain link in the prose of a report that defangs its indicators"
            if reason:
                self.found[index] = Found(
                    item.kind, item.value, item.start, item.end, False, reason
                )

    def magnets(self) -> None:
        for match in self.free_matches(_MAGNET):
            end = match.start() + len(match.group(0).rstrip())
            self.claim(match.start(), end)
            self.add(
                "url",
                self.text[match.start() : end],
                match.start(),
                end,
                "magnet link (a torrent, not a network indicator)",
            )

    def urls(self) -> None:
        for match in self.free_matches(_URL):
            start, end = match.start(), _trim(self.text, match.start(), match.end())
            self.claim(start, end)
            self.url(self.text[start:end], start, end)

    def url(self, raw: str, start: int, end: int, schemeless: bool = False) -> None:
        parts = _URL_PARTS.match(raw if not schemeless else "x://" + raw)
        if parts is None:
            return
        host = parts.group("host").lower().rstrip(".")
        rest = parts.group("rest") or ""
        prefix = "" if schemeless else parts.group("scheme").lower() + "://"
        value = prefix + (parts.group("user") or "") + host + (parts.group("port") or "") + rest
        defanged = self.view.defanged(start, end)
        reason = self.host_problem(host, defanged)
        if reason is None and not self.include_benign and not defanged:
            reason = self.reference_reason(value)
        self.add("url", value, start, end, reason, defanged)

    def host_problem(self, host: str, defanged: bool) -> str | None:
        if host.startswith("["):
            host = host[1:-1]
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            problem = domain_problem(host)
            if (
                problem is None
                and not self.include_benign
                and not defanged
                and on_domain(host, REFERENCE_DOMAINS)
            ):
                return "reference link to a well-known site"
            return problem and f"host: {problem}"
        problem = None if self.include_benign else ip_problem(address)
        return problem and f"host: {problem}"

    def reference_reason(self, value: str) -> str | None:
        if value.lower() in self.link_targets:
            return "hyperlink target with its own link text (a reference)"
        return None

    def emails(self) -> None:
        for match in self.free_matches(_EMAIL):
            value = match.group(1).lower()
            local, _, domain = value.partition("@")
            if local.startswith(".") or local.endswith(".") or ".." in local:
                continue
            self.claim(match.start(), match.end())
            defanged = self.view.defanged(match.start(), match.end())
            reason = domain_problem(domain)
            if (
                reason is None
                and not self.include_benign
                and not defanged
                and on_domain(domain, REFERENCE_DOMAINS)
            ):
                reason = "address at a well-known provider or reference site"
            self.add(
                "email-addr",
                value,
                match.start(),
                match.end(),
                reason and reason.replace("not a valid host name", "not a valid domain"),
                defanged,
            )

    def ipv4(self) -> None:
        for match in self.free_matches(_IPV4):
            octets = match.group(1).split(".")
            if any((len(o) > 1 and o.startswith("0")) or int(o) > 255 for o in octets):
                continue
            header, prefix, _ = self.context(match.start())
            if _VERSION_BEFORE.search(prefix) or (header and "version" in header.lower()):
                continue
            self.claim(match.start(), match.end())
            value = match.group(1)
            network: ipaddress.IPv4Address | ipaddress.IPv4Network
            network = ipaddress.IPv4Address(value)
            address = network
            if match.group(2) and int(match.group(2)) < 32:
                network = ipaddress.IPv4Network(f"{value}/{match.group(2)}", strict=False)
                address = network.network_address
                value = str(network)
            end = match.end()
            if self.text[end : end + 1] == "/" and match.group(3) is None and not match.group(2):
                tail = _PATH_TAIL.match(self.text, end + 1)
                if tail and tail.group(0):
                    end = _trim(self.text, match.start(), tail.end())
                    self.claim(match.start(), end)
                    self.url(self.text[match.start() : end], match.start(), end, schemeless=True)
                    continue
            self.add_ip("ipv4-addr", value, address, match.start(), match.end())

    def add_ip(
        self,
        kind: str,
        value: str,
        address: ipaddress.IPv4Address | ipaddress.IPv6Address,
        start: int,
        end: int,
    ) -> None:
        self.add(kind, value, start, end, None if self.include_benign else ip_problem(address))

    def ipv6(self) -> None:
        for match in self.free_matches(_IPV6):
            token = match.group(0)
            if "::" not in token and token.count(":") != 7:
                continue
            try:
                address = ipaddress.IPv6Address(token)
            except ValueError:
                continue
            self.claim(match.start(), match.end())
            self.add_ip("ipv6-addr", address.compressed, address, match.start(), match.end())

    def hex_values(self) -> None:
        for match in self.free_matches(_HEX):
            digits = match.group(2)
            if len(digits) not in (32, 40, 64, 128) or digits.isdigit() or digits.isalpha():
                continue
            value = digits.lower()
            self.claim(match.start(), match.end())
            if match.group(1):
                self.add(
                    "hex",
                    match.group(0),
                    match.start(),
                    match.end(),
                    "0x-prefixed hex value (a number or address, not a file hash)",
                )
                continue
            start = match.start(2)
            header, prefix, labels = self.context(start)
            kind, reason = hashes.classify(value, header, prefix, labels)
            if kind is None:
                self.add("hex", value, start, match.end(), reason)
                continue
            if value in EMPTY_HASHES and not self.include_benign:
                self.add(kind, value, start, match.end(), "hash of the empty file")
                continue
            self.add(kind, value, start, match.end())

    def file_cells(self) -> None:
        seen: set[tuple[int, int]] = set()
        for line_index in range(len(self.layout.starts)):
            start = self.layout.starts[line_index]
            cells = self.layout._cells.get(line_index, [])
            if not cells or self.layout.is_header(start):
                continue
            for cell in cells:
                if not cell.header or not FILE_HEADER.search(cell.header):
                    continue
                if (cell.start, cell.end) in seen:
                    continue
                seen.add((cell.start, cell.end))
                content = self.text[cell.start : cell.end]
                for a, b in cell_names(content, cell.header):
                    a, b = cell.start + a, cell.start + b
                    if self.is_free(a, b):
                        self.claim(a, b)
                        self.file_name(self.text[a:b], a, b)

    def domains(self) -> None:
        for match in self.free_matches(_DOMAIN):
            start, end = match.start(), match.end()
            raw = match.group(1)
            host = raw.lower()
            defanged = self.view.defanged(start, end)
            before = self.text[start - 1 : start]
            if not defanged and before in ("/", "\\"):
                continue  # a path component or a detection name (Win32/Agent.AB)
            labels = host.split(".")
            ext = labels[-1]
            if (
                ext in EXTENSIONS
                and not defanged
                and (not is_tld(ext) or self.network_context(start) is not True)
            ):
                continue  # a file name: the file pass takes it
            if not defanged and labels[0] in _REVERSE_DNS_HEADS and len(labels) >= 3:
                continue  # a reverse-DNS identifier (com.apple.Safari)
            if not defanged and (labels[0] in _CODE_OBJECTS or self.text[end : end + 1] == "("):
                continue  # code: document.location.host, obj.method()
            problem = domain_problem(host)
            if problem is not None:
                if defanged or problem.startswith("reserved"):
                    self.claim(start, end)
                    self.add("domain-name", host, start, end, problem, defanged)
                continue
            if not defanged and any(c.isupper() for c in raw.rsplit(".", 1)[1]):
                self.claim(start, end)
                self.add(
                    "domain-name",
                    host,
                    start,
                    end,
                    "capitalised like a product or code name (ASP.NET), not a host",
                )
                continue
            # host/path → a URL without scheme; host:port → the host
            tail_start = end
            port = re.match(r":\d{1,5}(?!\d)", self.text[end : end + 6])
            if port:
                tail_start = end + len(port.group(0))
            if self.text[tail_start : tail_start + 1] == "/":
                tail = _PATH_TAIL.match(self.text, tail_start + 1)
                if tail and tail.group(0) and not tail.group(0).startswith("/"):
                    url_end = _trim(self.text, start, tail.end())
                    if url_end > tail_start + 1:
                        self.claim(start, url_end)
                        self.url(self.text[start:url_end], start, url_end, schemeless=True)
                        continue
            self.claim(start, tail_start)
            reason = None
            if not self.include_benign and not defanged and on_domain(host, REFERENCE_DOMAINS):
                reason = "well-known or reference site"
            self.add("domain-name", host, start, end, reason, defanged)

    def file_names(self) -> None:
        for match in self.free_matches(_FILE):
            if match.group(2).lower() not in EXTENSIONS:
                continue
            before = self.text[match.start() - 1 : match.start()]
            if before == "@":
                continue
            if match.group(2).isupper() and _DETECTION_HEAD.search(self.text, 0, match.start()):
                continue  # an anti-malware detection name: Win32/Bundpil.CS
            self.claim(match.start(), match.end())
            self.file_name(match.group(1), match.start(), match.end())

    def file_name(self, value: str, start: int, end: int) -> None:
        value = value.strip()
        if not value or _PLACEHOLDER.match(value):
            return
        if value.lower() in {doc.lower() for doc in self.converted.documents}:
            return  # an accompanying document the report links to
        reason = None
        if not self.include_benign and value.lower() in SYSTEM_FILE_NAMES:
            reason = "name of a standard system binary"
        self.add("file:name", value, start, end, reason)


def _trim(text: str, start: int, end: int) -> int:
    """``end`` moved left past trailing punctuation and unbalanced closing brackets."""
    while end > start:
        char = text[end - 1]
        if char in _TRAILING:
            end -= 1
        elif char in ")]}":
            opening = {")": "(", "]": "[", "}": "{"}[char]
            if text[start:end].count(opening) < text[start:end].count(char):
                end -= 1
            else:
                break
        else:
            break
    return end


def scan(view: RefangedView, converted: Converted, include_benign: bool) -> list[Found]:
    """All candidates of ``view.text``, decided, in text order."""
    return _Scanner(view, converted, include_benign).run()
