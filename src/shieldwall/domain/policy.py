"""The sharing policy: who may read an object, and what may leave the hub.

This module is the single statement of architecture.md §3. ``may_read`` is the rule as
written, for people and tests to read. Storage cannot call a Python function per row, so
the same rule is also *compiled* into two sets of opaque keys: ``audience_keys(label)``
(stored with each object version when it is written) and ``ReaderFilter`` (computed for
the reader at request time). A reader sees an object version exactly when

    label.submitter_org_id == reader.id
    or (reader is an operator and label.tlp is not RED)
    or audience_keys(label) ∩ reader_filter.keys ≠ ∅

``admits`` evaluates that compiled form in Python; property tests prove
``admits(reader_filter(r), label, audience_keys(label)) == may_read(r, label)`` for generated
communities, and the storage contract tests prove the SQL equals ``may_read`` too. Group
membership and an organisation's sector/country are read at request time, so changing
them takes effect on the next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.scope import Scope
from shieldwall.domain.tlp import Tlp


@dataclass(frozen=True, slots=True)
class AccessLabel:
    """What the policy needs to know about one stored object version.

    ``submitter_org_id`` is the organisation that submitted it, attributed or anonymous to
    members; ``None`` for unlinkable submissions and for the hub's own objects.
    """

    tlp: Tlp
    scope: Scope
    submitter_org_id: int | None


def may_read(reader: Organisation, label: AccessLabel) -> bool:
    """Whether organisation ``reader`` may read an object labelled ``label`` (§3, verbatim).

    1. the reader submitted it (attributed or anonymous to members);
    2. it is TLP:RED and the reader is named in the scope's ``organizations``;
    3. it is not RED and the reader is in scope: community; or named; or in one of the
       groups; or sectors/countries are given and the reader's sector is in ``sectors``
       (when given) and its country in ``countries`` (when given).
    Operators read everything except RED objects that do not name them.
    """
    scope = label.scope
    if label.submitter_org_id is not None and label.submitter_org_id == reader.id:
        return True
    named = reader.identity_id in scope.organizations
    if label.tlp is Tlp.RED:
        return named
    if reader.role is Role.OPERATOR:
        return True
    if scope.is_community or named or (reader.groups & scope.groups):
        return True
    if scope.sectors or scope.countries:
        sector_ok = not scope.sectors or reader.sector.value in scope.sectors
        country_ok = not scope.countries or reader.country in scope.countries
        return sector_ok and country_ok
    return False


class Destination(StrEnum):
    """Where an object could go when it leaves the hub."""

    PARTNER_HUB = "partner-hub"
    PUBLIC_FEED = "public-feed"


def may_leave(label: AccessLabel, destination: Destination) -> bool:
    """Whether an object may leave the hub for ``destination`` (§3).

    TLP:CLEAR always; TLP:GREEN only with community scope and only to partner hubs;
    AMBER, AMBER+STRICT and RED never.
    """
    if label.tlp is Tlp.CLEAR:
        return True
    if label.tlp is Tlp.GREEN:
        return label.scope.is_community and destination is Destination.PARTNER_HUB
    return False


# --- the compiled form -----------------------------------------------------------------

COMMUNITY_KEY = "all"


def _org_key(identity_id: str) -> str:
    return "o:" + identity_id


def _group_key(group: str) -> str:
    return "g:" + group


def audience_keys(label: AccessLabel) -> frozenset[str]:
    """The keys stored with an object version; see the module docstring for their meaning.

    Sectors × countries are expanded into one key per pair so that "sector in sectors and
    country in countries" becomes a plain set intersection.
    """
    return _audience_keys(label.tlp, label.scope)


@lru_cache(maxsize=4096)  # bulk submissions repeat a handful of labels thousands of times
def _audience_keys(tlp: Tlp, scope: Scope) -> frozenset[str]:
    keys = {_org_key(identity) for identity in scope.organizations}
    if tlp is Tlp.RED:
        return frozenset(keys)
    if scope.is_community:
        keys.add(COMMUNITY_KEY)
    keys.update(_group_key(group) for group in scope.groups)
    if scope.sectors and scope.countries:
        keys.update(f"sc:{s}:{c}" for s in scope.sectors for c in scope.countries)
    elif scope.sectors:
        keys.update(f"s:{s}" for s in scope.sectors)
    elif scope.countries:
        keys.update(f"c:{c}" for c in scope.countries)
    return frozenset(keys)


@dataclass(frozen=True, slots=True)
class ReaderFilter:
    """The reader's side of the compiled rule, handed to storage for every read."""

    org_id: int
    keys: frozenset[str]
    all_but_red: bool


def reader_filter(reader: Organisation) -> ReaderFilter:
    """Compile ``reader`` into the keys any object it may read carries (or the operator flag)."""
    sector, country = reader.sector.value, reader.country
    keys = {
        COMMUNITY_KEY,
        _org_key(reader.identity_id),
        f"s:{sector}",
        f"c:{country}",
        f"sc:{sector}:{country}",
        *(_group_key(group) for group in reader.groups),
    }
    return ReaderFilter(reader.id, frozenset(keys), reader.role is Role.OPERATOR)


def admits(view: ReaderFilter, label: AccessLabel, keys: frozenset[str]) -> bool:
    """Evaluate the compiled rule in Python (exactly what storage evaluates in SQL)."""
    if label.submitter_org_id is not None and label.submitter_org_id == view.org_id:
        return True
    if view.all_but_red and label.tlp is not Tlp.RED:
        return True
    return not keys.isdisjoint(view.keys)
