"""Deciding what a string from a log is: an IP address, domain, URL, e-mail address or hash.

Three strengths of evidence, from most to least trusted:

* **typed** (:func:`ip`, :func:`domain`, :func:`host`, :func:`url`, :func:`email`,
  :func:`file_hash`): the field says what the value is (a Zeek ``query``, an eve ``src_ip``),
  so only the shape is checked.  Domains need two labels and a last label that is not all
  digits; any TLD is accepted (internal names are names too; the matcher decides).
* **lenient** (``value(text, careful=False)``): one value that stands for an indicator (a
  line of a plain list).  Domains must end in a TLD of the public suffix list (``.onion``
  too), so ``index.php`` or ``1.2.3`` is no domain.
* **careful** (``value(text)``, :func:`words`, :func:`text`): a value or free text of unknown
  meaning (a CSV cell, a JSON string).  On top of the lenient checks, a plainly written name
  whose TLD is also a file extension (``invoice.zip``, ``run.sh``), whose TLD is in mixed case
  (``System.IO``) or that starts like a reverse-DNS identifier (``com.example.app``) is
  taken for a file or code name.  A value written defanged is always an indicator.

Shapes: an IPv4 address has four decimal octets ≤ 255 without leading zeros (``1.2.3`` and
``010.0.0.1`` are not addresses); an IPv6 address is checked group by group (no zone id, no
brackets in the value); an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) is reported as its
IPv4 address; a hash is 32, 40, 64 or 128 hexadecimal digits (MD5, SHA-1, SHA-256, SHA-512)
and, when careful, not all digits nor all letters.  URLs are reported as written together with
their host (a domain or IP observable); ``host/path`` written without a scheme is a URL too.
Ports (``host:443``, ``[2001:db8::1]:443``, BIND's ``192.0.2.1#53``) are dropped from hosts.

Nothing here uses :mod:`ipaddress` (too slow for millions of lines); results are cached
(bounded, keyed by the input), which keeps every function pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from shieldwall.domain.extraction.filenames import EXTENSIONS
from shieldwall.domain.extraction.network import is_tld
from shieldwall.domain.extraction.refang import refang, refang_value
from shieldwall.domain.logs.model import (
    DOMAIN,
    EMAIL,
    HASH_BY_LENGTH,
    IPV4,
    IPV6,
    URL,
    LogObservable,
    observable,
)

__all__ = [
    "careful_value", "domain", "email", "email_in", "file_hash", "host", "http_url", "ip",
    "ip_or_domain", "is_ipv4", "is_ipv6", "lenient_value", "text", "url", "value", "words",
]  # fmt: skip

_CACHE = 1 << 14  # entries per cache: ~4 MB each at worst
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}", re.ASCII)
_V6_CHARS = re.compile(r"[0-9A-Fa-f:.]+", re.ASCII)
_HEX = re.compile(r"[0-9A-Fa-f]+", re.ASCII)
# typed names: labels of letters, digits, '-' and '_' (SRV and DMARC names), last not numeric
_LOOSE_NAME = re.compile(
    r"(?:[a-z0-9_-]{1,63}\.)+[a-z0-9_-]{0,62}[a-z_-][a-z0-9_-]{0,62}", re.ASCII
)
# names in text: RFC 1123 labels, last label alphabetic or an IDN A-label
_STRICT_NAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})", re.ASCII
)
_EMAIL = re.compile(r"([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9._-]{1,253})", re.ASCII)
_URL = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]{0,15}://(?:[^@/?#\s]*@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?#\s\[\]@]+)(?::[0-9]{0,5})?(?:[/?#]\S*)?",
    re.ASCII,
)
# a superset of what shieldwall.domain.extraction.refang undoes, to skip it cheaply
_DEFANG_HINT = re.compile(
    r"[\[({]\s?(?:\.|dot|at|@|:|://|/)\s?[\])}]|(?:h(?:xx|\*\*|__)ps?|fxp)\[?:", re.IGNORECASE
)
_WORD = re.compile(r"[^\s,;|\"'<>(){}\[\]\\`]+")
_INNER_SPACE = re.compile(r"\S\s+\S")
_EDGE = ".,!?*;"
# file extensions that are also TLDs; .pl (Poland) is far more often a domain than Perl
_FILE_TLDS = EXTENSIONS - {"pl"}
_REVERSE_DNS_HEADS = frozenset({"com", "org", "net"})
_HASH_LENGTHS = frozenset(HASH_BY_LENGTH)
_MAPPED = "::ffff:"


# ------------------------------------------------------------------------------- shapes


def is_ipv4(text: str) -> bool:
    """True for dotted-quad text: four decimal octets ≤ 255, no leading zeros."""
    return _IPV4.fullmatch(text) is not None


def is_ipv6(text: str) -> bool:
    """True for IPv6 text (RFC 4291 §2.2 forms, embedded IPv4 allowed; no zone, no brackets)."""
    if text.count(":") < 2 or _V6_CHARS.fullmatch(text) is None:
        return False
    head, double, tail = text.partition("::")
    if double:
        if "::" in tail:
            return False
        groups = (head.split(":") if head else []) + (tail.split(":") if tail else [])
    else:
        groups = text.split(":")
    width = len(groups)
    if groups and "." in groups[-1]:
        if not is_ipv4(groups.pop()):
            return False
        width += 1
    for group in groups:
        if not group or len(group) > 4 or "." in group:
            return False
    return width < 8 if double else width == 8


@lru_cache(maxsize=_CACHE)
def _tld(label: str) -> bool:
    return is_tld(label)


# -------------------------------------------------------------------------------- typed


@lru_cache(maxsize=_CACHE)
def ip(text: str) -> LogObservable | None:
    """The IPv4 or IPv6 observable ``text`` holds (surrounding space, brackets, zone dropped)."""
    candidate = text.strip()
    if _IPV4.fullmatch(candidate):
        return observable(IPV4, candidate)
    if ":" not in candidate:
        return None
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    candidate = candidate.partition("%")[0]
    if not is_ipv6(candidate):
        return None
    if candidate[:7].lower() == _MAPPED and _IPV4.fullmatch(candidate[7:]):
        return observable(IPV4, candidate[7:])
    return observable(IPV6, candidate)


@lru_cache(maxsize=_CACHE)
def domain(text: str) -> LogObservable | None:
    """The domain observable of a field that holds a DNS name (``*.`` and a final dot dropped)."""
    name = text.strip().lower()
    if name.endswith("."):
        name = name[:-1]
    if name.startswith("*."):
        name = name[2:]
    if len(name) > 253 or _LOOSE_NAME.fullmatch(name) is None:
        return None
    return observable(DOMAIN, name)


@lru_cache(maxsize=_CACHE)
def ip_or_domain(text: str) -> LogObservable | None:
    """An address if ``text`` is one, else a DNS name (DNS answers, A or CNAME records)."""
    return ip(text) or domain(text)


@lru_cache(maxsize=_CACHE)
def host(text: str) -> LogObservable | None:
    """The IP or domain observable of a host field, a port (``:443``, ``#53``) dropped."""
    candidate = text.strip()
    if not candidate:
        return None
    if candidate[0] == "[":
        return ip(candidate[1 : candidate.find("]")]) if "]" in candidate else None
    found = ip(candidate)
    if found is not None:
        return found
    name, sep, port = candidate.rpartition("#" if "#" in candidate else ":")
    if sep and port.isdigit() and ":" not in name:
        return ip(name) or domain(name)
    return domain(candidate)


def file_hash(text: str) -> LogObservable | None:
    """The hash observable of a hash field, typed by its length (32, 40, 64, 128 hex digits)."""
    candidate = text.strip()
    kind = HASH_BY_LENGTH.get(len(candidate))
    if kind is None or _HEX.fullmatch(candidate) is None:
        return None
    return observable(kind, candidate)


def email(text: str) -> LogObservable | None:
    """The e-mail observable of an address field (``mailto:`` and ``<…>`` dropped)."""
    return _email(text, domain)


def email_in(text: str) -> LogObservable | None:
    """The address in a mail header value such as ``"Alice" <alice@example.com>``."""
    start = text.rfind("<")
    if start >= 0:
        end = text.find(">", start)
        text = text[start + 1 : end if end > 0 else len(text)]
    return _email(text, domain)


@lru_cache(maxsize=_CACHE)
def url(text: str, careful: bool = False) -> tuple[LogObservable, ...]:
    """The URL observable for ``text`` (as written) and its host, or nothing.

    The host must be an address or a domain name (typed check; with ``careful`` a known TLD).
    """
    candidate = text.strip()
    match = _URL.fullmatch(candidate)
    if match is None:
        return ()
    name = match.group("host")
    found = ip(name) or (_named_domain(name, False) if careful else domain(name))
    if found is None:
        return ()
    return observable(URL, candidate), found


def http_url(host_field: str, target: str) -> tuple[LogObservable, ...]:
    """The URL of an HTTP request (``http://host/target``; an absolute target as it is)."""
    target = target.strip()
    if "://" in target[:24]:
        return url(target)
    host_field = host_field.strip()
    if not host_field or host(host_field) is None:
        return ()
    if not target.startswith("/"):
        target = "/" + target
    return url(f"http://{host_field}{target}")


# ------------------------------------------------------------------------------ untyped


def value(text: str, careful: bool = True) -> tuple[LogObservable, ...]:
    """The observables of one value of unknown type (lenient or careful, see the module)."""
    return careful_value(text) if careful else lenient_value(text)


def _candidate(text: str) -> bool:
    """Cheap pre-check: could ``text`` hold an observable, maybe defanged?"""
    return (
        "." in text
        or ":" in text
        or "@" in text
        or "[" in text
        or "(" in text
        or "{" in text
        or len(text.strip()) in _HASH_LENGTHS
    )


@lru_cache(maxsize=_CACHE)
def careful_value(text: str) -> tuple[LogObservable, ...]:
    """``value(text, careful=True)``."""
    return _value(text, True) if _candidate(text) else ()


@lru_cache(maxsize=_CACHE)
def lenient_value(text: str) -> tuple[LogObservable, ...]:
    """``value(text, careful=False)``."""
    return _value(text, False) if _candidate(text) else ()


def _value(text: str, careful: bool) -> tuple[LogObservable, ...]:
    defanged = False
    if _DEFANG_HINT.search(text):
        refanged = refang_value(text)
        defanged = refanged != text
        text = refanged
    return _classify(text.strip(), careful, defanged)


def words(line: str) -> list[LogObservable]:
    """The observables among the words of free text, in order (always careful)."""
    found: list[LogObservable] = []
    if _DEFANG_HINT.search(line):
        view = refang(line)
        for match in _WORD.finditer(view.text):
            raw = match.group()
            if "." in raw or ":" in raw or "@" in raw or "=" in raw or len(raw) in _HASH_LENGTHS:
                found.extend(_word(raw, view.defanged(match.start(), match.end())))
        return found
    for raw in _WORD.findall(line):
        if "." in raw or ":" in raw or "@" in raw or "=" in raw or len(raw) in _HASH_LENGTHS:
            found.extend(_word(raw, False))
    return found


def text(field: str) -> list[LogObservable]:
    """The observables of a string field: one careful value, or its words if it has spaces."""
    if _INNER_SPACE.search(field):
        return words(field)
    return list(careful_value(field))


@lru_cache(maxsize=_CACHE)
def _word(raw: str, defanged: bool) -> tuple[LogObservable, ...]:
    """A word of free text, trimmed of punctuation and ``key=`` or ``label:`` prefixes."""
    if "=" in raw:
        scheme = raw.find("://")
        cut = raw.rfind("=", 0, scheme) if scheme >= 0 else raw.rfind("=")
        raw = raw[cut + 1 :]
    token = raw.strip(_EDGE)
    if token.endswith(":") and not token.endswith("::"):
        token = token.rstrip(":")
    found = _classify(token, True, defanged)
    if found or token.count(":") != 1 or "://" in token:
        return found
    label, _, rest = token.partition(":")  # "dst:evil.com", "client:192.0.2.7"
    return _classify(rest, True, defanged) if label.isalpha() and rest else ()


def _classify(token: str, careful: bool, defanged: bool) -> tuple[LogObservable, ...]:
    if not token or len(token) > 4096 or not token.strip(":.-/#@"):
        return ()
    if "://" in token:
        return url(token, careful)
    if "@" in token:
        found = _email(token, _named_domain_lenient)
        return (found,) if found is not None else ()
    kind = HASH_BY_LENGTH.get(len(token))
    if kind is not None and _HEX.fullmatch(token):
        if careful and (token.isdigit() or token.isalpha()):
            return ()
        return (observable(kind, token),)
    if "." not in token and ":" not in token:
        return ()
    if "/" in token:  # host/path: a URL written without its scheme
        head, _, rest = token.partition("/")
        found = _host(head, careful, defanged)
        if found is None or (found.kind != DOMAIN and rest.isdigit()):  # not a CIDR block
            return ()
        return (observable(URL, token), found) if rest else (found,)
    found = _host(token, careful, defanged)
    return (found,) if found is not None else ()


def _host(token: str, careful: bool, defanged: bool) -> LogObservable | None:
    """An address or a named domain, port dropped; None for anything else."""
    if not token:
        return None
    if token[0] == "[" or ":" in token or "#" in token:
        if token[0] == "[":
            return ip(token[1 : token.find("]")]) if "]" in token else None
        found = ip(token)
        if found is not None:
            return found
        name, sep, port = token.rpartition("#" if "#" in token else ":")
        if not (sep and port.isdigit() and name) or ":" in name:
            return None
        token = name
    if token[0].isdigit() and _IPV4.fullmatch(token):
        return observable(IPV4, token)
    return _named_domain(token, careful and not defanged)


def _named_domain(text: str, careful: bool) -> LogObservable | None:
    """A domain with a known TLD; ``careful`` adds the file and code-name checks."""
    name = text[:-1] if text.endswith(".") else text
    lower = name.lower()
    if len(lower) > 253 or _STRICT_NAME.fullmatch(lower) is None:
        return None
    dot = lower.rfind(".")
    tld = lower[dot + 1 :]
    if not _tld(tld):
        return None
    if careful:
        if tld in _FILE_TLDS:
            return None  # invoice.zip, install.sh: a file name
        if name[dot + 1 :] != tld and not name.isupper():
            return None  # System.IO, Foo.Net: code, not a host
        if lower[: lower.find(".")] in _REVERSE_DNS_HEADS and lower.count(".") >= 2:
            return None  # com.example.app: a reverse-DNS identifier
    return observable(DOMAIN, lower)


def _named_domain_lenient(text: str) -> LogObservable | None:
    """The domain after an '@' cannot be a file name, but needs a known TLD."""
    return _named_domain(text, False)


def _email(text: str, check: Callable[[str], LogObservable | None]) -> LogObservable | None:
    candidate = text.strip().strip("<>")
    if candidate[:7].lower() == "mailto:":
        candidate = candidate[7:]
    match = _EMAIL.fullmatch(candidate)
    if match is None:
        return None
    local, name = match.groups()
    if local[0] == "." or local[-1] == "." or ".." in local:
        return None
    if check(name) is None:
        return None
    return observable(EMAIL, candidate)
