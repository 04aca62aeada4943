"""Real-browser tests of the web interface: Debian's Chromium (``/usr/bin/chromium``, see
scripts/ensure-chromium.sh; never ``playwright install``) driven by Playwright against a
real ``shieldwall serve`` process on loopback (tests/conftest.py's ``start_server``).

``running_hub`` seeds a believable community through the services before the server
starts (the demo organisations with their OASIS data and fresh phishing intelligence, a
published incident report, a victim's declared assets, a government notification to it,
named web users), so pages and screenshots look like the product in use. ``BrowserHub``
opens browser contexts signed in as a member's user: each user signs in once through the
real form and later contexts reuse its cookies (the sign-in form is rate-limited per user
name). Every context records Content-Security-Policy violations and script errors, which
``BrowserHub.problems`` lists so tests can require none.

Screenshots go to ``test-artifacts/`` at the repository root (``shot``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import orjson
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from ui_support import PASSWORD

from conftest import TEST_ENV, LiveServer, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.domain.alerts import AlertContent, IndicatorSpec
from shieldwall.domain.attestations import DAY, micros_date
from shieldwall.domain.attribution import Attribution
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import accounts, admin, alerts, attestations, demo, reports
from shieldwall.services.context import Hub
from shieldwall.settings import load_settings
from shieldwall.storage.database import Database

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000
HUB_NAME = "Shieldwall ISAC"
DEMO_DATA = REPO / "src" / "shieldwall" / "demo_data"

VICTIM_DOMAIN = "albionbank.example"
VICTIM_RANGE = "198.51.100.0/24"
ATTACKER_IP = "185.220.101.45"


# --- the seeded community --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """An organisation of the seeded community and the web user tests sign in as."""

    name: str
    username: str
    password: str = PASSWORD


# handle → (organisation (one of the demo's), the user tests sign in as)
MEMBERS: dict[str, Member] = {
    "first": Member("First Federal Bank", "maria.lopez@firstfederal"),
    "hudson": Member("Hudson Valley Trust", "sam.okafor@hudsonvalley"),
    "albion": Member("Albion Bank plc", "james.hale@albionbank"),
    "carter": Member("Carter & Lowe LLP", "priya.nair@carterlowe"),
    "agency": Member("Federal Cyber Crimes Unit", "dana.cole@fccu"),
    "operator": Member("Shieldwall ISAC Operations", "ops.lead@shieldwall-isac"),
}
ANALYSTS = {  # non-admin colleagues, so user lists are not a single line
    "First Federal Bank": ["tom.becker@firstfederal", "aisha.khan@firstfederal"],
    "Albion Bank plc": ["olivia.grant@albionbank"],
}
SIGN_IN_USER = Member("First Federal Bank", "lee.chen@firstfederal")  # the sign-in test's

# From ESET's published indicators (github.com/eset/malware-ioc, winter_vivern, BSD-2).
WINTER_VIVERN_REPORT = """\
Winter Vivern exploits zero-day vulnerability in Roundcube mail servers

ESET researchers observed Winter Vivern sending e-mails that exploit a cross-site
scripting flaw in Roundcube webmail (CVE-2023-5631). Opening the message loads a
JavaScript loader, checkupdate.js (SHA-1 97ED594EF2B5755F0549C6C5758377C0B87CFAE0),
which fetches a payload (SHA-1 8BF7FCC70F6CE032217D9210EF30314DDD6B8135) that
exfiltrates the victim's mailbox to the command-and-control server.

Network indicators:
- 38.180.76.31 (Winter Vivern C&C server, first seen 2023-09-28)
- recsecas.com

The phishing messages were sent from team.managment@outlook.com.
Technique: T1566.001 (spearphishing attachment), T1059.007 (JavaScript).
"""


# From ESET's published indicators (github.com/eset/malware-ioc, zimbra_phishing, BSD-2):
# what the submit tests paste, as a written report and as STIX.
ZIMBRA_REPORT = """\
Mass-spreading phishing campaign against Zimbra webmail users

Since April the campaign has sent e-mails that pretend to come from the recipient's
e-mail administrator, announcing a server update and asking the user to sign in again
through an attached HTML file. The file shows a fake Zimbra login page and posts the
credentials to a compromised web server:

- hxxps://fmaildd.000webhostapp[.]com/wp-admin/ZimbraNew.php
- hxxps://nmailddt.000webhostapp[.]com/wp-admin/ZimbraNew.php
- hxxps://zimbra.y2kportfolio[.]com/wp/wp-admin/ZimbraNew.php

Two of our staff opened the attachment; nobody entered a password. Technique: T1566.001.
"""
ZIMBRA_URLS = [
    "https://fmaildd.000webhostapp.com/wp-admin/ZimbraNew.php",
    "https://nmailddt.000webhostapp.com/wp-admin/ZimbraNew.php",
    "https://zimbra.y2kportfolio.com/wp/wp-admin/ZimbraNew.php",
]


@dataclass(frozen=True, slots=True)
class Seeded:
    """Ids of what ``seed`` created that pages link to."""

    report_id: str  # Hudson Valley Trust's Winter Vivern report, TLP:GREEN to everyone
    notification_id: str  # the agency's TLP:RED notification to Albion Bank plc


def seed(hub: Hub) -> Seeded:
    """The demo community (organisations, group, OASIS examples, phishing intelligence with
    sightings), named web users (``MEMBERS`` as admins with ``PASSWORD``, ``ANALYSTS``),
    a published incident report, Albion Bank's declared assets and a notification to it."""
    bundles: list[list[object]] = []
    for path in sorted(DEMO_DATA.glob("*.json")):
        document = orjson.loads(path.read_bytes())
        if isinstance(document, dict) and isinstance(document.get("objects"), list):
            bundles.append(document["objects"])
    demo.create_demo(hub, bundles)
    for member in [*MEMBERS.values(), SIGN_IN_USER]:
        accounts.add_user(hub, member.name, member.username, admin=True, password=PASSWORD)
    for org_name, usernames in ANALYSTS.items():
        for username in usernames:
            accounts.add_user(hub, org_name, username, password=PASSWORD)

    hudson = admin.organisation(hub, MEMBERS["hudson"].name)
    draft = reports.create_draft(
        hub, hudson, WINTER_VIVERN_REPORT, "text", "Winter Vivern targets Roundcube webmail"
    )
    status = reports.publish_draft(
        hub, hudson, draft.record.id, Tlp.GREEN, None, Attribution.ATTRIBUTED
    )
    assert status.failure_count == 0, status.details
    successes = orjson.loads(status.details)["successes"]
    report_ids = [str(s["id"]) for s in successes if str(s["id"]).startswith("report--")]

    admin.declare_assets(
        hub, MEMBERS["albion"].name, [VICTIM_DOMAIN], [VICTIM_RANGE], ["Albion Online"]
    )
    sent = alerts.send_notification(
        hub,
        admin.organisation(hub, MEMBERS["agency"].name),
        MEMBERS["albion"].name,
        AlertContent(
            title="Intrusion through your VPN gateway",
            description=(
                f"Our investigation found vpn.{VICTIM_DOMAIN} (198.51.100.10) exchanging data"
                f" with {ATTACKER_IP} since 2 March. Credentials of several staff accounts"
                " were used from that address."
            ),
            indicators=(
                IndicatorSpec(ATTACKER_IP, "Exfiltration server"),
                IndicatorSpec("recsecas.com", "Command-and-control domain"),
            ),
            actions=("Reset every VPN credential", "Block the indicators at the perimeter"),
        ),
    )
    alerts.publish_advisory(
        hub,
        admin.organisation(hub, MEMBERS["agency"].name),
        alerts.AdvisoryRequest(
            AlertContent(
                title="Invoice-themed credential phishing against bank customers",
                description=(
                    "A phishing kit imitating invoice portals collects online-banking"
                    " credentials. The landing pages and the kit's server are below."
                ),
                indicators=(
                    IndicatorSpec("invoice-portal-update.top", "Phishing domain"),
                    IndicatorSpec("194.165.16.11", "Phishing kit server"),
                ),
                actions=("Block the domain and the address at the web proxy",),
            ),
            Tlp.GREEN,
            make_scope(sectors=["financial", "legal"]),
        ),
    )
    # a second, AMBER report shared with the financial sector only (policy variety)
    rheinland = admin.organisation(hub, "Rheinland Handelsbank AG")
    draft = reports.create_draft(
        hub,
        rheinland,
        "Casbaneiro banking trojan: MSI installer F07932D8A36F3E36F2552DADEDAD3E22EFA7AAE1"
        " drops the payload BCDF0DDF98E3AA7D5C67063B9926C5D1C0CA6F3A.",
        "text",
        "Casbaneiro MSI installers",
    )
    status = reports.publish_draft(
        hub,
        rheinland,
        draft.record.id,
        Tlp.AMBER,
        make_scope(sectors=["financial"]),
        Attribution.ANONYMOUS,
    )
    assert status.failure_count == 0, status.details
    _attestations(hub)
    return Seeded(report_ids[0], sent.record.stix_id)


def _attestations(hub: Hub) -> None:
    """Carter & Lowe publishes its security attestation and grants it to First Federal
    Bank; Hudson Valley Trust's request is still waiting."""
    firm = admin.organisation(hub, MEMBERS["carter"].name)
    today = hub.clock.now()
    draft = attestations.save_draft(
        hub,
        firm,
        template="bank-law-firm-baseline",
        answers={
            "mfa": True,
            "network_segmentation": True,
            "no_public_network_work": True,
            "encryption_at_rest": True,
            "encryption_in_transit": True,
            "incident_response_plan": True,
            "last_penetration_test": micros_date(today - 75 * DAY),
            "breach_notification_hours": 24,
            "cyber_insurance": True,
            "cyber_insurance_cover": "USD 10m, Beazley syndicate 2623",
            "security_framework": "ISO 27001",
        },
        valid_from=micros_date(today - 30 * DAY),
        valid_until=micros_date(today + 335 * DAY),
        signer_name="Jane Carter",
        signer_title="Managing Partner",
    )
    attestations.publish(hub, firm, draft.id)
    bank = admin.organisation(hub, MEMBERS["first"].name)
    request = attestations.request_attestation(
        hub, bank, firm.name, "bank-law-firm-baseline", "Annual vendor review"
    )
    attestations.respond(hub, firm, request.id, grant=True)
    attestations.request_attestation(
        hub,
        admin.organisation(hub, MEMBERS["hudson"].name),
        firm.name,
        "bank-law-firm-baseline",
        "Panel firm due diligence",
    )


# --- the running hub and the browser ------------------------------------------------------


@dataclass
class BrowserHub:
    """A seeded hub served by a real process; opens signed-in browser contexts."""

    server: LiveServer
    seeded: Seeded
    _states: dict[str, Any] = field(default_factory=dict)
    _problems: dict[int, list[str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def context(
        self, browser: Browser, handle: str | None = None, *, phone: bool = False
    ) -> BrowserContext:
        """A new browser context, signed in as ``MEMBERS[handle]`` (``None``: signed out),
        desktop (1280×800) or phone-sized (390×844)."""
        state = None
        if handle is not None:
            if handle not in self._states:
                self._states[handle] = self._sign_in(browser, MEMBERS[handle])
            state = self._states[handle]
        context = browser.new_context(
            base_url=self.url,
            viewport=cast(Any, PHONE if phone else DESKTOP),
            is_mobile=phone,
            has_touch=phone,
            locale="en-GB",
            timezone_id="UTC",
            color_scheme="light",
            reduced_motion="reduce",
            storage_state=state,
        )
        context.set_default_timeout(TIMEOUT_MS)
        found = self._problems.setdefault(id(context), [])

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error" and "Content Security Policy" in message.text:
                found.append(f"{message.location.get('url', '')}: {message.text}")

        def on_page(page: Page) -> None:
            page.on("pageerror", lambda error: found.append(f"{page.url}: script error {error}"))

        context.on("console", on_console)
        context.on("page", on_page)
        return context

    def server_errors(self) -> str:
        """The server log from its first traceback on (empty when there is none)."""
        log = self.server.log()
        start = log.find("Traceback")
        return log[start:][-6000:] if start >= 0 else ""

    def problems(self, context: BrowserContext) -> list[str]:
        """CSP violations and script errors seen in ``context`` so far."""
        return list(self._problems.get(id(context), []))

    def _sign_in(self, browser: Browser, member: Member) -> Any:
        context = self.context(browser)
        try:
            page = context.new_page()
            sign_in(page, member.username, member.password)
            page.wait_for_url(f"{self.url}/ui/")
            return context.storage_state()
        finally:
            context.close()


def sign_in(page: Page, username: str, password: str) -> None:
    """Fill in and send the sign-in form (through its labels, as a person would)."""
    page.goto("/ui/sign-in")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot ``test-artifacts/<name>.png``; return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


@contextmanager
def running_hub(tmp_path: Path) -> Iterator[BrowserHub]:
    """Seed a SQLite hub in ``tmp_path`` and serve it on loopback until the block ends."""
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    env = {**TEST_ENV, "SHIELDWALL_HUB_NAME": HUB_NAME}
    hub = build_hub(load_settings({**env, "SHIELDWALL_DATABASE_URL": database}))
    try:
        seeded = seed(hub)
    finally:
        assert isinstance(hub.store, Database)
        hub.store.dispose()
    server = start_server(database, tmp_path, extra_env={"SHIELDWALL_HUB_NAME": HUB_NAME})
    try:
        yield BrowserHub(server, seeded)
    finally:
        stop_server(server)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        raise AssertionError(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            with suppress(PlaywrightError):  # (already gone)
                browser.close()


# --- accessibility (axe-core) -------------------------------------------------------------

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Best-practice rules the conventions require besides WCAG A/AA: one <h1>, headings in
# order, one main landmark, all content inside landmarks, no empty headings.
EXTRA_RULES = [
    "page-has-heading-one",
    "heading-order",
    "landmark-one-main",
    "region",
    "empty-heading",
]
AXE_OPTIONS: dict[str, object] = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "rules": {rule: {"enabled": True} for rule in EXTRA_RULES},
    "resultTypes": ["violations"],
}


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2 A/AA violations (and ``EXTRA_RULES``) on ``page`` as it is now,
    one readable line per rule: id, impact, help, the elements (CSS selectors) and what
    axe says of the first; plus a line when the page has not exactly one ``<h1>``."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results: dict[str, Any] = Axe().run(page, options=AXE_OPTIONS).response
    lines: list[str] = []
    for violation in results["violations"]:
        nodes = violation["nodes"]
        targets = [" ".join(str(t) for t in node["target"]) for node in nodes]
        shown = "; ".join(targets[:6]) + (
            f"; … ({len(targets)} in all)" if len(targets) > 6 else ""
        )
        summary = " ".join(str(nodes[0].get("failureSummary", "")).split()) if nodes else ""
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"    elements: {shown}\n    first: {summary}\n    see {violation['helpUrl']}"
        )
    headings = page.locator("h1").count()
    if headings != 1:
        lines.append(f"one-h1: the page has {headings} <h1> elements, not exactly one")
    return lines
