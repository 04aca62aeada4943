"""The sharing policy of architecture.md §3: ``may_read``, its compiled form, ``may_leave``
and ``redact_references``.

The property test proves that the compiled form storage evaluates (``audience_keys`` stored
with each object version, ``reader_filter`` computed per request, ``admits`` combining them)
says exactly what the rule as written (``may_read``) says, and that ``may_read`` says what
§3 says (``section_3`` below is a literal transcription of the architecture page, kept
separate from the code under test). The hand-written tests pin each clause of §3 on its own
so that a failure names the clause.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shieldwall.domain.organisations import Organisation, Role, Sector
from shieldwall.domain.policy import (
    AccessLabel,
    Destination,
    admits,
    audience_keys,
    may_leave,
    may_read,
    reader_filter,
)
from shieldwall.domain.references import redact_references
from shieldwall.domain.scope import COMMUNITY, SCOPE_EXTENSION_ID, Scope, make_scope, scope_of
from shieldwall.domain.tlp import Tlp

SECTORS = [sector.value for sector in Sector]
COUNTRIES = ["US", "GB", "DE", "FR"]
GROUPS = ["bank-law-alliance", "eu-finance", "gov-circle"]
ORG_COUNT = 6
IDENTITIES = [f"identity--{uuid.UUID(int=i + 1, version=4)}" for i in range(ORG_COUNT)]
NON_RED = [level for level in Tlp if level is not Tlp.RED]
T = TypeVar("T")


def section_3(reader: Organisation, label: AccessLabel) -> bool:
    """architecture.md §3, clause by clause, written independently of ``domain.policy``."""
    scope = label.scope
    # 1. R submitted O (an unlinkable submission has no submitter on record).
    if label.submitter_org_id is not None and label.submitter_org_id == reader.id:
        return True
    named = reader.identity_id in scope.organizations
    # 2. O is TLP:RED and R is named in O's organizations.
    if label.tlp is Tlp.RED:
        return named
    # Operators may read everything except RED objects that do not name them.
    if reader.role is Role.OPERATOR:
        return True
    # 3. O is not RED and R is in O's scope.
    community = not (scope.sectors or scope.countries or scope.groups or scope.organizations)
    in_group = any(group in scope.groups for group in reader.groups)
    by_place = bool(scope.sectors or scope.countries) and (
        (not scope.sectors or reader.sector.value in scope.sectors)
        and (not scope.countries or reader.country in scope.countries)
    )
    return community or named or in_group or by_place


# --- generators ------------------------------------------------------------------------


class _Bits:
    """Reads fields off one integer drawn by Hypothesis.

    One draw per value is several times cheaper than a tuple of strategies, which keeps
    5,000+ examples within a few seconds; it shrinks towards 0, which decodes to the
    simplest organisation and label.
    """

    def __init__(self, value: int) -> None:
        self.value = value

    def take(self, bits: int) -> int:
        field = self.value & ((1 << bits) - 1)
        self.value >>= bits
        return field

    def choice(self, pool: list[T]) -> T:
        return pool[self.take(8) % len(pool)]

    def subset(self, pool: list[str]) -> frozenset[str]:
        # Empty half of the time, so that community and one-list scopes are common.
        keep, mask = self.take(1), self.take(len(pool))
        if not keep:
            return frozenset()
        return frozenset(item for bit, item in enumerate(pool) if mask >> bit & 1)


ORGANISATION_BITS = 8 * 4 + len(GROUPS)
LABEL_BITS = 8 * 2 + len(SECTORS) + len(COUNTRIES) + len(GROUPS) + len(IDENTITIES) + 4


def _decode_organisation(value: int) -> Organisation:
    bits = _Bits(value)
    index = bits.choice(list(range(ORG_COUNT)))
    return Organisation(
        id=index + 1,
        name=f"org-{index}",
        identity_id=IDENTITIES[index],
        sector=Sector(bits.choice(SECTORS)),
        country=bits.choice(COUNTRIES),
        role=bits.choice([Role.MEMBER, Role.MEMBER, Role.GOVERNMENT, Role.OPERATOR]),
        groups=frozenset(group for group in GROUPS if bits.take(1)),
    )


def _decode_label(value: int) -> AccessLabel:
    bits = _Bits(value)
    tlp = bits.choice(list(Tlp))
    scope = Scope(
        bits.subset(SECTORS),
        bits.subset(COUNTRIES),
        bits.subset(GROUPS),
        bits.subset(IDENTITIES),
    )
    # 0 stands for an unlinkable submission: no submitter on record.
    submitter = bits.choice(list(range(ORG_COUNT + 1)))
    return AccessLabel(tlp, scope, submitter or None)


def _bits(count: int) -> st.SearchStrategy[int]:
    # Bytes rather than ``st.integers``: Hypothesis draws large integers mostly small, which
    # would make nearly every scope empty; bytes come out close to uniform.
    size = (count + 7) // 8
    return st.binary(min_size=size, max_size=size).map(lambda raw: int.from_bytes(raw, "little"))


organisations = st.builds(_decode_organisation, _bits(ORGANISATION_BITS))
labels = st.builds(_decode_label, _bits(LABEL_BITS))


@settings(
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(reader=organisations, label=labels)
def test_compiled_rule_equals_may_read(reader: Organisation, label: AccessLabel) -> None:
    expected = may_read(reader, label)
    event(f"may_read={expected}")
    event(f"scope={'community' if label.scope.is_community else 'restricted'}")
    assert expected == section_3(reader, label)
    assert admits(reader_filter(reader), label, audience_keys(label)) == expected


# --- clause by clause -----------------------------------------------------------------


def org(
    index: int,
    sector: str = "financial",
    country: str = "US",
    role: str = "member",
    groups: tuple[str, ...] = (),
) -> Organisation:
    return Organisation(
        index + 1,
        f"org-{index}",
        IDENTITIES[index],
        Sector(sector),
        country,
        Role(role),
        frozenset(groups),
    )


US_BANK = org(0, "financial", "US")
GB_BANK = org(1, "financial", "GB")
DE_BANK = org(2, "financial", "DE")
US_LAW = org(3, "legal", "US", groups=("bank-law-alliance",))
AGENCY = org(4, "government", "US", role="government")
OPERATOR = org(5, "other", "US", role="operator")
EVERYONE = [US_BANK, GB_BANK, DE_BANK, US_LAW, AGENCY, OPERATOR]


def readers(label: AccessLabel) -> set[str]:
    """Names of the organisations of the small community above that may read ``label``."""
    found = {reader.name for reader in EVERYONE if may_read(reader, label)}
    compiled = {
        reader.name
        for reader in EVERYONE
        if admits(reader_filter(reader), label, audience_keys(label))
    }
    assert compiled == found
    return found


def names(*organisations: Organisation) -> set[str]:
    return {organisation.name for organisation in organisations}


def only(identity: Organisation) -> Scope:
    return Scope(organizations=frozenset({identity.identity_id}))


@pytest.mark.parametrize("level", list(Tlp))
def test_rule_1_the_submitter_always_reads_its_own(level: Tlp) -> None:
    # Scoped to someone else entirely, even RED: the submitter still reads it.
    label = AccessLabel(level, only(GB_BANK), US_LAW.id)
    assert may_read(US_LAW, label)
    assert US_LAW.name in readers(label)


def test_rule_1_does_not_apply_to_unlinkable_submissions() -> None:
    label = AccessLabel(Tlp.RED, COMMUNITY, None)
    assert readers(label) == set()


@pytest.mark.parametrize("level", NON_RED)
def test_community_scope_reaches_everyone_below_red(level: Tlp) -> None:
    assert readers(AccessLabel(level, COMMUNITY, None)) == names(*EVERYONE)


def test_red_reaches_only_named_organisations_and_the_submitter() -> None:
    label = AccessLabel(Tlp.RED, only(US_LAW), AGENCY.id)
    assert readers(label) == names(US_LAW, AGENCY)


def test_red_does_not_reach_groups_sectors_countries_or_the_community() -> None:
    scope = Scope(
        sectors=frozenset({"financial", "legal"}),
        countries=frozenset({"US", "GB"}),
        groups=frozenset({"bank-law-alliance"}),
    )
    assert readers(AccessLabel(Tlp.RED, scope, None)) == set()
    assert readers(AccessLabel(Tlp.RED, COMMUNITY, None)) == set()
    # Named next to those terms, only the named one reads it.
    named = Scope(scope.sectors, scope.countries, scope.groups, only(GB_BANK).organizations)
    assert readers(AccessLabel(Tlp.RED, named, None)) == names(GB_BANK)


def test_red_does_not_reach_operators_unless_named() -> None:
    assert not may_read(OPERATOR, AccessLabel(Tlp.RED, only(US_LAW), None))
    assert may_read(OPERATOR, AccessLabel(Tlp.RED, only(OPERATOR), None))


@pytest.mark.parametrize("level", NON_RED)
def test_operators_read_everything_that_is_not_red(level: Tlp) -> None:
    assert may_read(OPERATOR, AccessLabel(level, only(US_LAW), US_LAW.id))
    assert may_read(OPERATOR, AccessLabel(level, Scope(groups=frozenset({"gov-circle"})), None))


@pytest.mark.parametrize("level", NON_RED)
def test_named_organisations_read_non_red(level: Tlp) -> None:
    assert readers(AccessLabel(level, only(DE_BANK), None)) == names(DE_BANK, OPERATOR)


def test_sectors_and_countries_must_both_match() -> None:
    scope = Scope(sectors=frozenset({"financial"}), countries=frozenset({"US", "GB"}))
    assert readers(AccessLabel(Tlp.AMBER, scope, AGENCY.id)) == names(
        US_BANK, GB_BANK, AGENCY, OPERATOR
    )


def test_sectors_alone_match_any_country() -> None:
    scope = Scope(sectors=frozenset({"financial"}))
    assert readers(AccessLabel(Tlp.AMBER_STRICT, scope, None)) == names(
        US_BANK, GB_BANK, DE_BANK, OPERATOR
    )


def test_countries_alone_match_any_sector() -> None:
    scope = Scope(countries=frozenset({"GB", "DE"}))
    assert readers(AccessLabel(Tlp.GREEN, scope, None)) == names(GB_BANK, DE_BANK, OPERATOR)


def test_groups_reach_their_members_only() -> None:
    scope = Scope(groups=frozenset({"bank-law-alliance"}))
    assert readers(AccessLabel(Tlp.AMBER, scope, None)) == names(US_LAW, OPERATOR)
    assert readers(AccessLabel(Tlp.AMBER, Scope(groups=frozenset({"gov-circle"})), None)) == names(
        OPERATOR
    )


def test_scope_terms_are_alternatives() -> None:
    # In the group though not in the sector; named though not in the country.
    scope = Scope(
        sectors=frozenset({"financial"}),
        countries=frozenset({"GB"}),
        groups=frozenset({"bank-law-alliance"}),
        organizations=frozenset({AGENCY.identity_id}),
    )
    assert readers(AccessLabel(Tlp.AMBER, scope, None)) == names(GB_BANK, US_LAW, AGENCY, OPERATOR)


def test_the_government_role_is_not_special() -> None:
    scope = Scope(sectors=frozenset({"financial"}))
    assert not may_read(AGENCY, AccessLabel(Tlp.GREEN, scope, None))


def test_empty_lists_do_not_restrict() -> None:
    assert make_scope([], [], [], []) == COMMUNITY
    assert Scope(frozenset(), frozenset(), frozenset(), frozenset()).is_community
    assert scope_of({"id": "indicator--x"}) == COMMUNITY
    bare = {"extensions": {SCOPE_EXTENSION_ID: {"extension_type": "property-extension"}}}
    assert scope_of(bare) == COMMUNITY
    empty_lists = {
        "extensions": {
            SCOPE_EXTENSION_ID: {
                "extension_type": "property-extension",
                "sectors": [],
                "countries": [],
                "groups": [],
                "organizations": [],
            }
        }
    }
    assert scope_of(empty_lists) == COMMUNITY
    # An empty sectors list next to a countries list: only the countries restrict.
    partly = make_scope([], ["DE"], [], [])
    assert readers(AccessLabel(Tlp.AMBER, partly, None)) == names(DE_BANK, OPERATOR)


# --- what may leave the hub --------------------------------------------------------------

RESTRICTED = Scope(sectors=frozenset({"financial"}))


@pytest.mark.parametrize("destination", list(Destination))
@pytest.mark.parametrize("scope", [COMMUNITY, RESTRICTED], ids=["community", "restricted"])
@pytest.mark.parametrize("level", list(Tlp))
def test_may_leave(level: Tlp, scope: Scope, destination: Destination) -> None:
    if level is Tlp.CLEAR:
        expected = True
    elif level is Tlp.GREEN:
        expected = scope.is_community and destination is Destination.PARTNER_HUB
    else:
        expected = False
    assert may_leave(AccessLabel(level, scope, US_BANK.id), destination) is expected


def test_may_leave_in_words() -> None:
    community_green = AccessLabel(Tlp.GREEN, COMMUNITY, None)
    assert may_leave(community_green, Destination.PARTNER_HUB)
    assert not may_leave(community_green, Destination.PUBLIC_FEED)
    assert not may_leave(AccessLabel(Tlp.GREEN, RESTRICTED, None), Destination.PARTNER_HUB)
    assert may_leave(AccessLabel(Tlp.CLEAR, RESTRICTED, None), Destination.PUBLIC_FEED)
    for level in (Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED):
        for destination in Destination:
            assert not may_leave(AccessLabel(level, COMMUNITY, None), destination)


# --- references to objects the reader may not read ------------------------------------

HIDDEN = "indicator--00000000-0000-4000-8000-000000000001"
SHOWN = "indicator--00000000-0000-4000-8000-000000000002"
ELSEWHERE = "malware--00000000-0000-4000-8000-000000000003"
ORG_IDENTITY = IDENTITIES[0]
MARKING = Tlp.AMBER.marking_id


def report(refs: list[str]) -> dict[str, object]:
    return {
        "type": "report",
        "id": "report--00000000-0000-4000-8000-00000000000a",
        "name": "r",
        "created_by_ref": ORG_IDENTITY,
        "object_marking_refs": [MARKING],
        "object_refs": refs,
    }


def relationship(source: str, target: str) -> dict[str, object]:
    return {
        "type": "relationship",
        "id": "relationship--00000000-0000-4000-8000-00000000000b",
        "relationship_type": "indicates",
        "source_ref": source,
        "target_ref": target,
    }


def test_redact_nothing_hidden_returns_the_object_itself() -> None:
    obj = report([HIDDEN, SHOWN])
    assert redact_references(obj, set()) is obj
    assert redact_references(obj, {ELSEWHERE}) is obj


def test_redact_removes_hidden_list_entries_without_touching_the_original() -> None:
    obj = report([HIDDEN, SHOWN, ELSEWHERE])
    redacted = redact_references(obj, {HIDDEN})
    assert redacted is not None
    assert redacted["object_refs"] == [SHOWN, ELSEWHERE]
    assert obj["object_refs"] == [HIDDEN, SHOWN, ELSEWHERE]


def test_redact_withholds_an_object_whose_required_list_empties() -> None:
    assert redact_references(report([HIDDEN]), {HIDDEN}) is None


def test_redact_drops_an_optional_list_that_empties() -> None:
    sighting = {
        "type": "sighting",
        "id": "sighting--00000000-0000-4000-8000-00000000000c",
        "sighting_of_ref": SHOWN,
        "where_sighted_refs": [HIDDEN],
    }
    redacted = redact_references(sighting, {HIDDEN})
    assert redacted is not None
    assert "where_sighted_refs" not in redacted
    assert redacted["sighting_of_ref"] == SHOWN


@pytest.mark.parametrize("end", ["source", "target"])
def test_redact_withholds_an_object_whose_single_reference_is_hidden(end: str) -> None:
    obj = relationship(HIDDEN, ELSEWHERE) if end == "source" else relationship(SHOWN, HIDDEN)
    assert redact_references(obj, {HIDDEN}) is None
    assert redact_references(relationship(SHOWN, ELSEWHERE), {HIDDEN}) == relationship(
        SHOWN, ELSEWHERE
    )


def test_redact_leaves_created_by_and_markings_alone() -> None:
    obj = report([SHOWN])
    assert redact_references(obj, {ORG_IDENTITY, MARKING}) is obj
