"""The demo community: believable members, a sharing group, real OASIS example data, and a
little current intelligence with sightings (so scores, figures and correlation show)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.scope import make_scope
from shieldwall.domain.sightings import NewSighting
from shieldwall.domain.timestamps import format_stix_timestamp
from shieldwall.domain.tlp import Tlp
from shieldwall.services import accounts, admin, sightings, submission
from shieldwall.services.admin import DEFAULT_COLLECTION_ALIAS
from shieldwall.services.context import Hub

DEMO_ORGANISATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("First Federal Bank", "financial", "US", "member"),
    ("Hudson Valley Trust", "financial", "US", "member"),
    ("Albion Bank plc", "financial", "GB", "member"),
    ("Rheinland Handelsbank AG", "financial", "DE", "member"),
    ("Carter & Lowe LLP", "legal", "US", "member"),
    ("Whitfield Partners LLP", "legal", "GB", "member"),
    ("Federal Cyber Crimes Unit", "government", "US", "government"),
    ("Shieldwall ISAC Operations", "other", "US", "operator"),
)
DEMO_GROUP = "bank-law-alliance"
DEMO_KEY_LABEL = "demo key"


@dataclass(frozen=True, slots=True)
class DemoCommunity:
    """What the demo created: each organisation with its API key, each organisation's admin
    user for the web interface as (organisation, user name, password), and objects loaded."""

    members: list[tuple[Organisation, str]]
    objects_loaded: int
    objects_rejected: int
    users: list[tuple[Organisation, str, str]]


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    """Fresh credentials for the demo organisations on a hub that already holds the demo:
    an API key each, and each admin user's new password as (organisation, user, password)."""

    members: list[tuple[Organisation, str]]
    users: list[tuple[Organisation, str, str]]


def demo_username(org_name: str) -> str:
    """The demo admin user of an organisation: ``admin@`` and the name lower-cased, every
    run of other characters than a-z and 0-9 made one ``-`` (``admin@carter-lowe-llp``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", org_name.lower()).strip("-")
    return f"admin@{slug}"


def is_empty(hub: Hub) -> bool:
    """True when no organisation has been admitted yet."""
    return not admin.list_organisations(hub)


def create_demo(hub: Hub, bundles: list[list[object]]) -> DemoCommunity:
    """Admit the demo organisations, create the bank–law-firm group, give each organisation
    a key and an admin user for the web interface (``demo_username``, generated password)
    and load ``bundles`` (lists of STIX objects) as TLP:CLEAR from the operator.
    Call only on an empty hub."""
    members: list[tuple[Organisation, str]] = []
    users: list[tuple[Organisation, str, str]] = []
    for name, sector, country, role in DEMO_ORGANISATIONS:
        organisation = admin.add_organisation(hub, name, sector, country, role)
        members.append((organisation, admin.create_key(hub, name, DEMO_KEY_LABEL)))
        user, password = accounts.add_user(hub, name, demo_username(name), admin=True)
        users.append((organisation, user.username, password))
    alliance = [
        name for name, sector, _, _ in DEMO_ORGANISATIONS if sector in ("financial", "legal")
    ]
    admin.create_group(
        hub,
        DEMO_GROUP,
        alliance,
        description="Banks and the law firms they retain share with each other.",
    )
    operator = next(org for org, _ in members if org.role.value == "operator")
    loaded = rejected = 0
    for items in bundles:
        status = submission.submit(hub, operator, DEFAULT_COLLECTION_ALIAS, items, Tlp.CLEAR, None)
        loaded += status.success_count
        rejected += status.failure_count
    _fresh_intelligence(hub, {org.name: org for org, _ in members})
    return DemoCommunity(members, loaded, rejected, users)


def _indicator(hub: Hub, name: str, pattern: str, confidence: int, now: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{hub.ids.uuid4()}",
        "created": now,
        "modified": now,
        "name": name,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": now,
        "confidence": confidence,
    }


def _fresh_intelligence(hub: Hub, orgs: dict[str, Organisation]) -> None:
    """Current intelligence beside the (years old, hence decayed) OASIS examples: a bank's
    phishing report, a second bank's indicator on the same infrastructure (correlation),
    and sightings attributed and anonymous, so scores, figures and links show in the demo."""
    now = format_stix_timestamp(hub.clock.now())
    first, albion = orgs["First Federal Bank"], orgs["Albion Bank plc"]
    phishing = [
        _indicator(hub, "Invoice phishing landing page", "[url:value = "
                   "'https://invoice-portal-update.top/pay/login.php']", 80, now),
        _indicator(hub, "Invoice phishing domain", "[domain-name:value = "
                   "'invoice-portal-update.top']", 75, now),
        _indicator(hub, "Phishing kit server", "[ipv4-addr:value = '194.165.16.11']", 70, now),
    ]  # fmt: skip
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{hub.ids.uuid4()}",
        "created": now,
        "modified": now,
        "name": "Invoice-themed credential phishing against bank customers",
        "report_types": ["campaign"],
        "published": now,
        "object_refs": [str(i["id"]) for i in phishing],
    }
    submission.submit(hub, first, DEFAULT_COLLECTION_ALIAS, [*phishing, report], Tlp.GREEN, None)
    related = _indicator(
        hub, "Mail relay of the same kit", "[ipv4-addr:value ISSUBSET '194.165.16.0/24']", 60, now
    )
    submission.submit(
        hub,
        albion,
        DEFAULT_COLLECTION_ALIAS,
        [related],
        Tlp.AMBER,
        make_scope(sectors=["financial"]),
    )
    target = str(phishing[1]["id"])
    sightings.record(hub, orgs["Hudson Valley Trust"], [NewSighting(target, count=4)])
    sightings.record(hub, orgs["Carter & Lowe LLP"], [NewSighting(target)])
    sightings.record(
        hub,
        orgs["Rheinland Handelsbank AG"],
        [NewSighting(target, count=2)],
        Attribution.ANONYMOUS,
    )


def reissue_demo_keys(hub: Hub) -> DemoCredentials:
    """On a hub that already holds the demo community, revoke the demo keys and issue new
    ones, and give each demo admin user a new password (ending its sessions; a missing one
    is created as an admin), so ``make run`` always prints working credentials. Other keys
    and users are left alone."""
    members: list[tuple[Organisation, str]] = []
    users: list[tuple[Organisation, str, str]] = []
    for name, _, _, _ in DEMO_ORGANISATIONS:
        try:
            organisation = admin.organisation(hub, name)
        except NotFound:
            continue
        for key in admin.list_keys(hub, name):
            if key.label == DEMO_KEY_LABEL and key.revoked_at is None:
                admin.revoke_key(hub, key.key_id)
        members.append((organisation, admin.create_key(hub, name, DEMO_KEY_LABEL)))
        username = demo_username(name)
        try:
            password = accounts.reset_password(hub, username)
        except NotFound:  # a demo database made before web users existed
            _, password = accounts.add_user(hub, name, username, admin=True)
        users.append((organisation, username, password))
    return DemoCredentials(members, users)
