"""The audience preview (``domain.audience``): exactly the organisations ``may_read``
admits, without the submitter, counted by sector and country, with ``may_leave``."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from shieldwall.domain.audience import audience
from shieldwall.domain.organisations import Organisation, Role, Sector
from shieldwall.domain.policy import AccessLabel, may_read
from shieldwall.domain.scope import COMMUNITY, Scope, make_scope
from shieldwall.domain.tlp import Tlp


def _org(
    n: int, name: str, sector: str, country: str, role: str = "member", *groups: str
) -> Organisation:
    return Organisation(
        n,
        name,
        f"identity--{uuid.UUID(int=n, version=4)}",
        Sector(sector),
        country,
        Role(role),
        frozenset(groups),
    )


US_BANK = _org(1, "US Bank", "financial", "US", "member", "fin-circle")
GB_BANK = _org(2, "GB Bank", "financial", "GB")
LAW = _org(3, "US Law Firm", "legal", "US", "member", "fin-circle")
AGENCY = _org(4, "US Agency", "government", "US", "government")
OPERATOR = _org(5, "Hub Operator", "other", "US", "operator")
ALL = [US_BANK, GB_BANK, LAW, AGENCY, OPERATOR]


def test_community_green_reaches_everyone_but_the_submitter_and_may_go_to_partners() -> None:
    seen = audience(AccessLabel(Tlp.GREEN, COMMUNITY, US_BANK.id), ALL)
    assert seen.names == ("GB Bank", "Hub Operator", "US Agency", "US Law Firm")
    assert seen.count == 4
    assert seen.by_sector == {"financial": 1, "government": 1, "legal": 1, "other": 1}
    assert seen.by_country == {"GB": 1, "US": 3}
    assert seen.partner_hubs and not seen.public_feed
    assert not any(r.by_role for r in seen.readers)


def test_red_to_one_named_organisation_reaches_only_it() -> None:
    scope = make_scope(organizations=[LAW.identity_id])
    seen = audience(AccessLabel(Tlp.RED, scope, US_BANK.id), ALL)
    assert seen.names == ("US Law Firm",)
    assert not seen.partner_hubs and not seen.public_feed


def test_operator_reads_by_role_when_the_scope_does_not_address_it() -> None:
    scope = make_scope(sectors=["financial"])
    seen = audience(AccessLabel(Tlp.AMBER, scope, LAW.id), ALL)
    assert seen.names == ("GB Bank", "Hub Operator", "US Bank")
    assert [r.name for r in seen.readers if r.by_role] == ["Hub Operator"]
    assert seen.by_sector == {"financial": 2, "other": 1}


def test_groups_and_sector_country_pairs() -> None:
    scope = make_scope(sectors=["financial"], countries=["GB"], groups=["fin-circle"])
    seen = audience(AccessLabel(Tlp.AMBER_STRICT, scope, AGENCY.id), ALL)
    assert seen.names == ("GB Bank", "Hub Operator", "US Bank", "US Law Firm")


def test_clear_may_leave_everywhere() -> None:
    seen = audience(AccessLabel(Tlp.CLEAR, make_scope(sectors=["legal"]), None), ALL)
    assert seen.public_feed and seen.partner_hubs
    assert "US Law Firm" in seen.names


LEVELS = st.sampled_from(list(Tlp))
SCOPES = st.builds(
    make_scope,
    st.lists(st.sampled_from(["financial", "legal", "government"]), max_size=2),
    st.lists(st.sampled_from(["US", "GB"]), max_size=2),
    st.lists(st.sampled_from(["fin-circle", "other-circle"]), max_size=2),
    st.lists(st.sampled_from([o.identity_id for o in ALL]), max_size=2),
)


@given(LEVELS, SCOPES, st.sampled_from([None, *(o.id for o in ALL)]))
def test_audience_is_exactly_may_read_without_the_submitter(
    level: Tlp, scope: Scope, submitter: int | None
) -> None:
    label = AccessLabel(level, scope, submitter)
    expected = sorted(o.name for o in ALL if o.id != submitter and may_read(o, label))
    seen = audience(label, ALL)
    assert sorted(seen.names) == expected
    assert sum(seen.by_sector.values()) == sum(seen.by_country.values()) == len(expected)
