"""Checks on network values: public-suffix validation of domains, IP address classes.

Contract: :func:`domain_problem` and :func:`ip_problem` return ``None`` for a value that
can be a public indicator and otherwise a short reason for the analyst.  The public suffix
list is the offline snapshot bundled with the ``publicsuffixlist`` package (read once,
lazily); unknown TLDs are rejected, and ``.onion`` (RFC 7686) is accepted with its v2/v3
address shapes.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from shieldwall.domain.extraction.benign import BENIGN_IPS, RESERVED_SUFFIXES, on_domain

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ONION = re.compile(r"^(?:[a-z2-7]{16}|[a-z2-7]{56})$")

_DOCUMENTATION_NETS = tuple(ipaddress.ip_network(net) for net in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20",
))  # fmt: skip
_SHARED_NETS = tuple(ipaddress.ip_network(net) for net in ("100.64.0.0/10",))
_BENCHMARK_NETS = tuple(ipaddress.ip_network(net) for net in ("198.18.0.0/15", "2001:2::/48"))


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False)


def public_suffix(host: str) -> str | None:
    """The public suffix ``host`` ends in, or ``None`` when its TLD is unknown."""
    host = host.lower().rstrip(".")
    if host.endswith(".onion"):
        return "onion"
    suffix: str | None = _psl().publicsuffix(host)
    return suffix


def domain_problem(host: str) -> str | None:
    """Why ``host`` (lower case, refanged) cannot be a domain-name indicator, or ``None``."""
    labels = host.split(".")
    if len(labels) < 2 or len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        return "not a valid host name"
    if on_domain(host, RESERVED_SUFFIXES):
        return "reserved or documentation domain (RFC 2606/6761)"
    if labels[-1] == "onion":
        return None if len(labels) >= 2 and _ONION.match(labels[-2]) else "not an onion address"
    if labels[-1].isdigit():
        return "not a valid host name"
    suffix = public_suffix(host)
    if suffix is None:
        return "unknown top-level domain"
    if host == suffix:
        return "a public suffix, not a registrable domain"
    return None


def is_tld(label: str) -> bool:
    """True when ``label`` is a top-level domain in the public suffix list."""
    return public_suffix("x." + label.lower()) == label.lower()


def ip_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``address`` is not a public indicator, or ``None``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return ip_problem(address.ipv4_mapped)
    if any(address in net for net in _DOCUMENTATION_NETS):
        return "documentation address range (RFC 5737/3849)"
    if address.is_loopback:
        return "loopback address"
    if address.is_link_local:
        return "link-local address"
    if address.is_multicast:
        return "multicast address"
    if address.is_unspecified:
        return "unspecified address"
    if any(address in net for net in _SHARED_NETS):
        return "shared address space (RFC 6598)"
    if any(address in net for net in _BENCHMARK_NETS):
        return "benchmarking address range (RFC 2544)"
    if address.is_private:
        return "private address (RFC 1918/4193)"
    if address.is_reserved:
        return "reserved address"
    if not address.is_global:
        return "not a globally routable address"
    if str(address) in BENIGN_IPS:
        return "well-known public DNS resolver"
    return None
