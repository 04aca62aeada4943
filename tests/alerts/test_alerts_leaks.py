"""The leak check and releasability: an advisory that points at the victim is refused with
the exact list of leaks and stores nothing; once cleaned it is published and reaches
exactly the organisations in its scope (foreign banks inside it included)."""

from __future__ import annotations

import pytest
from alerts_support import (
    ATTACKER_DOMAIN,
    ATTACKER_IP,
    VICTIM_DOMAIN,
    VICTIM_KEYWORD,
    VICTIM_RANGE,
    Community,
    build_community,
    notify,
)

from shieldwall.domain.alerts import (
    AlertContent,
    AlertKind,
    IndicatorSpec,
    Reference,
    alert_objects,
    indicator_pattern,
)
from shieldwall.domain.errors import InvalidInput, NotFound, PatternSyntaxError, Unprocessable
from shieldwall.domain.leaks import Leak, Victim, find_leaks, name_keywords, victim_assets
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.scope import COMMUNITY, make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import alerts, audit, reading
from shieldwall.services.alerts import ALERTS_COLLECTION, AdvisoryRequest
from shieldwall.services.context import Hub

VICTIM = Victim(
    "Albion Bank plc",
    "identity--11111111-2222-4333-8444-555555555555",
    victim_assets("Albion Bank plc", [VICTIM_DOMAIN], [VICTIM_RANGE], [VICTIM_KEYWORD]),
    frozenset({"report--aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}),
)
SCOPE = make_scope(sectors=["financial"], countries=["US", "GB", "DE"])

LEAKY = AlertContent(
    title="Phishing wave against ALBION BANK customers",
    description=(
        f"The actor registered look-alikes of {VICTIM_DOMAIN} and sent mail from"
        f" portal.{VICTIM_DOMAIN}; beacons reached 203.0.113.77. Questions: analyst@agency.example."
    ),
    indicators=(
        IndicatorSpec(ATTACKER_IP),
        IndicatorSpec(f"[domain-name:value = 'login.{VICTIM_DOMAIN}']", name="Look-alike login"),
    ),
    actions=("Block the indicators",),
)
CLEAN = AlertContent(
    title="Phishing wave against bank customers",
    description=(
        "The actor registered look-alike domains of a bank and beaconed to the address below."
        f" Attacker mail came from billing@{ATTACKER_DOMAIN}."
    ),
    indicators=(IndicatorSpec(ATTACKER_IP), IndicatorSpec(f"billing@{ATTACKER_DOMAIN}")),
    actions=("Block the indicators",),
)


def _objects(content: AlertContent) -> list[dict[str, object]]:
    """The advisory's STIX objects, with predictable ids."""
    counter = iter(range(1, 1000))

    def new_id(kind: str) -> str:
        return f"{kind}--00000000-0000-4000-8000-{next(counter):012d}"

    author = "identity--99999999-2222-4333-8444-555555555555"
    return alert_objects(
        content.checked(),
        AlertKind.ADVISORY,
        created=1_700_000_000_000_000,
        new_id=new_id,
        created_by_ref=author,
        fallback_ref=author,
    )


def _found(leaks: list[Leak]) -> list[tuple[str, str, str, str, str | None]]:
    return [(x.part, x.field, x.value, x.rule, x.victim) for x in leaks]


# --- the pure check ----------------------------------------------------------------------


def test_every_leak_is_listed_with_where_what_and_why() -> None:
    leaks = find_leaks(_objects(LEAKY), SCOPE, [VICTIM])
    assert _found(leaks) == [
        ("report", "name", "ALBION BANK", "keyword", "Albion Bank plc"),
        ("report", "description", VICTIM_DOMAIN, "own-domain", "Albion Bank plc"),
        ("report", "description", f"portal.{VICTIM_DOMAIN}", "own-domain", "Albion Bank plc"),
        ("report", "description", "203.0.113.77", "own-address", "Albion Bank plc"),
        ("report", "description", "analyst@agency.example", "e-mail", None),
        ("indicator[1]", "pattern", f"login.{VICTIM_DOMAIN}", "own-domain", "Albion Bank plc"),
    ]
    assert all(leak.object_id.startswith(("report--", "indicator--")) for leak in leaks)
    assert find_leaks(_objects(CLEAN), SCOPE, [VICTIM]) == []


def test_ranges_look_alikes_references_and_scope_are_checked() -> None:
    reference = "report--aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    content = AlertContent(
        title="Advisory",
        description="See 203.0.113.0/26 and 198.51.100.0/24; call +44 20 7946 0958.",
        indicators=(
            IndicatorSpec("203.0.113.128/25"),
            IndicatorSpec("albion-bank-login.example"),
            IndicatorSpec(f"billing@{ATTACKER_DOMAIN}"),
        ),
        labels=("Albion Bank wave",),
        references=(Reference("hub", url=f"https://hub.example/alerts/{reference}"),),
    )
    scope = make_scope(organizations=[VICTIM.identity_id], groups=["albionbank-partners"])
    found = _found(find_leaks(_objects(content), scope, [VICTIM]))
    name = VICTIM.name
    assert found == [
        ("report", "description", "203.0.113.0/26", "own-address", name),
        ("report", "description", "+44 20 7946 0958", "phone", None),
        ("report", "labels[1]", "Albion Bank", "keyword", name),
        ("report", "external_references[0].url", reference, "victim-reference", name),
        ("indicator[0]", "name", "203.0.113.128/25", "own-address", name),
        ("indicator[0]", "pattern", "203.0.113.128/25", "own-address", name),
        ("indicator[1]", "name", "albion-bank-login.example", "look-alike", name),
        ("indicator[1]", "pattern", "albion-bank-login.example", "look-alike", name),
        ("scope", "organizations[0]", VICTIM.identity_id, "victim-in-scope", name),
        ("scope", "groups[0]", "albionbank-partners", "look-alike", name),
    ]  # 198.51.100.0/24 is not the victim's; the attacker's e-mail is an indicator


def test_name_variants_and_indicator_values() -> None:
    assert name_keywords("Carter & Lowe LLP") == [
        "Carter and Lowe LLP",
        "Carter & Lowe LLP",
        "Carter and Lowe",
        "Carter & Lowe",
    ]
    assert "Rheinland Handelsbank" in name_keywords("Rheinland Handelsbank AG")
    assert name_keywords("AB plc") == ["AB plc"]  # "AB" alone would match ordinary text
    assert indicator_pattern("185.220.101.45") == "[ipv4-addr:value = '185.220.101.45']"
    assert indicator_pattern("10.0.0.1/8") == "[ipv4-addr:value = '10.0.0.0/8']"
    assert indicator_pattern("Evil.Example.") == "[domain-name:value = 'evil.example']"
    assert indicator_pattern("https://x.example/a'b") == "[url:value = 'https://x.example/a\\'b']"
    assert indicator_pattern("a@b.example") == "[email-addr:value = 'a@b.example']"
    assert indicator_pattern("D41D8CD98F00B204E9800998ECF8427E") == (
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"
    )
    with pytest.raises(PatternSyntaxError):
        indicator_pattern("[ipv4-addr:value = ")


# --- through the services ---------------------------------------------------------------


def _request(content: AlertContent, notification: str, scope: object = SCOPE) -> AdvisoryRequest:
    return AdvisoryRequest(content, Tlp.AMBER, scope, (notification,))  # type: ignore[arg-type]


def _alerts_in_store(hub: Hub, community: Community) -> list[str]:
    page = reading.list_objects(
        hub, community.agency, ALERTS_COLLECTION, ObjectQuery(types=frozenset({"report"}))
    )
    return [s.row.stix_id for s in page.items]


def test_leaky_advisory_is_refused_and_stores_nothing(hub: Hub) -> None:
    community = build_community(hub)
    sent = notify(hub, community)
    before = _alerts_in_store(hub, community)
    audit_before = len(audit.entries(hub))
    with pytest.raises(Unprocessable) as refused:
        alerts.publish_advisory(hub, community.agency, _request(LEAKY, sent.record.stix_id))
    details = refused.value.details
    assert [(d["object"], d["field"], d["value"], d["rule"]) for d in details] == [
        ("report", "name", "ALBION BANK", "keyword"),
        ("report", "description", VICTIM_DOMAIN, "own-domain"),
        ("report", "description", f"portal.{VICTIM_DOMAIN}", "own-domain"),
        ("report", "description", "203.0.113.77", "own-address"),
        ("report", "description", "analyst@agency.example", "e-mail"),
        ("indicator[1]", "pattern", f"login.{VICTIM_DOMAIN}", "own-domain"),
    ]
    assert "6 places" in refused.value.message
    assert _alerts_in_store(hub, community) == before
    assert len(audit.entries(hub)) == audit_before
    with hub.store.read() as tx:
        assert [r.stix_id for r in tx.alerts(None, None, 100)] == [sent.record.stix_id]

    # the dry run says the same and stores nothing either
    check = alerts.check_advisory(hub, community.agency, _request(LEAKY, sent.record.stix_id))
    assert len(check.leaks) == 6 and check.victims_checked == 1
    assert _alerts_in_store(hub, community) == before


def test_cleaned_advisory_reaches_exactly_its_scope(hub: Hub) -> None:
    community = build_community(hub)
    sent = notify(hub, community)
    request = _request(CLEAN, sent.record.stix_id)
    preview = alerts.check_advisory(hub, community.agency, request)
    assert preview.leaks == []
    assert preview.reach.summary == "will reach 4 organisations in 3 countries"
    assert preview.reach.organisations == (
        "Albion Bank plc",
        "First Federal Bank",
        "Hudson Valley Trust",
        "Rheinland Handelsbank AG",
    )
    assert preview.reach.by_country == {"DE": 1, "GB": 1, "US": 2}
    assert (preview.reach.partner_hubs, preview.reach.public_feed) == (False, False)

    published = alerts.publish_advisory(hub, community.agency, request)
    advisory_id = published.record.stix_id
    assert published.reach == preview.reach
    in_scope = {
        community.victim.id,
        community.us_bank.id,
        community.us_bank2.id,
        community.de_bank.id,  # a foreign bank inside the releasability
    }
    readers = in_scope | {community.agency.id, community.operator.id}  # sender; operator by role
    for org in community.everyone:
        inbox = [i.record.stix_id for i in alerts.inbox(hub, org)]
        if org.id in readers:
            view = alerts.show(hub, org, advisory_id)
            assert [o.row.stix_type for o in view.objects] == [
                "report",
                "indicator",
                "indicator",
                "course-of-action",
            ], org.name
            assert advisory_id in inbox
        else:
            with pytest.raises(NotFound):
                reading.get_object(hub, org, ALERTS_COLLECTION, advisory_id, ObjectQuery())
            assert advisory_id not in inbox, org.name

    # nothing in the advisory refers to the notification or its victim
    body = " ".join(s.body for s in alerts.show(hub, community.us_bank, advisory_id).objects)
    assert sent.record.stix_id not in body
    assert community.victim.identity_id not in body
    assert "albion" not in body.lower()
    # the sender sees the private link; a recipient does not
    assert alerts.show(hub, community.agency, advisory_id).linked == (sent.record.stix_id,)
    assert alerts.show(hub, community.victim, advisory_id).linked == ()


def test_advisory_checks_recent_notifications_even_when_not_linked(hub: Hub) -> None:
    community = build_community(hub)
    notify(hub, community)
    unlinked = AdvisoryRequest(LEAKY, Tlp.GREEN, COMMUNITY, ())
    with pytest.raises(Unprocessable) as refused:
        alerts.publish_advisory(hub, community.agency, unlinked)
    assert any(d["victim"] == "Albion Bank plc" for d in refused.value.details)
    # another government partner has notified nobody: only personal data stops it
    check = alerts.check_advisory(hub, community.agency2, unlinked)
    assert [leak.rule for leak in check.leaks] == ["e-mail"]


def test_advisory_input_errors(hub: Hub) -> None:
    community = build_community(hub)
    sent = notify(hub, community)
    other = alerts.send_notification(
        hub, community.agency2, community.us_bank.name, AlertContent("Heads up")
    )
    with pytest.raises(NotFound):  # another sender's notification cannot be linked
        alerts.check_advisory(hub, community.agency, _request(CLEAN, other.record.stix_id))
    with pytest.raises(NotFound):
        alerts.check_advisory(
            hub, community.agency, _request(CLEAN, "report--00000000-0000-4000-8000-000000000000")
        )
    with pytest.raises(InvalidInput):  # RED is for notifications
        alerts.check_advisory(
            hub,
            community.agency,
            AdvisoryRequest(CLEAN, Tlp.RED, SCOPE, (sent.record.stix_id,)),
        )
    with pytest.raises(InvalidInput):  # a scope naming an unknown group
        alerts.check_advisory(
            hub,
            community.agency,
            _request(CLEAN, sent.record.stix_id, make_scope(groups=["no-such-group"])),
        )
