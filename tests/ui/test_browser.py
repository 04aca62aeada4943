"""End-to-end flows in a real browser (Debian's Chromium through Playwright) against a real
``shieldwall serve`` with a seeded community (``browser_support``): signing in and out,
submitting STIX and a written report and who may then read them, acknowledging a victim
notification, the advisory leak check. Locators are accessible ones (labels, roles and
names), so a missing label fails here too. Every test also requires that the browser saw
no Content-Security-Policy violation and no script error.

Screenshots of the main pages (desktop 1280×800, full page; dashboard and feed also at
390×844) are written to ``test-artifacts/`` on every run.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
from browser_support import (
    ATTACKER_IP,
    MEMBERS,
    SIGN_IN_USER,
    VICTIM_DOMAIN,
    ZIMBRA_REPORT,
    ZIMBRA_URLS,
    BrowserHub,
    chromium,
    running_hub,
    shot,
    sign_in,
)
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

Open = Callable[..., Page]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserHub]:
    with running_hub(Path(tmp_path_factory.mktemp("browser"))) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_page(hub: BrowserHub, browser: Browser) -> Iterator[Open]:
    """``open_page(handle, phone=False)``: a new page in a new context signed in as
    ``MEMBERS[handle]`` (``None``: signed out). Afterwards the contexts are closed and the
    test fails if any saw a CSP violation or a script error."""
    contexts: list[BrowserContext] = []

    def opened(handle: str | None, *, phone: bool = False) -> Page:
        context = hub.context(browser, handle, phone=phone)
        contexts.append(context)
        return context.new_page()

    yield opened
    problems = [p for context in contexts for p in hub.problems(context)]
    for context in contexts:
        context.close()
    assert not problems, "the browser reported:\n" + "\n".join(problems)


def goto(page: Page, path: str, status: int = 200) -> None:
    """Open ``path`` and require the status it answers with."""
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path} answered {response.status}"


def heading(page: Page, name: str | re.Pattern[str]) -> None:
    """The page's one ``<h1>`` is ``name``."""
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def stix_bundle(title: str) -> tuple[str, str]:
    """A STIX 2.1 bundle (three URL indicators and a report naming them) as JSON text, and
    the report's id."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    indicators = [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": now,
            "modified": now,
            "name": f"Fake Zimbra login page on {url.split('/')[2]}",
            "indicator_types": ["malicious-activity"],
            "pattern": f"[url:value = '{url}']",
            "pattern_type": "stix",
            "valid_from": now,
            "confidence": 80,
        }
        for url in ZIMBRA_URLS
    ]
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": title,
        "description": "Phishing e-mails with an HTML attachment posting Zimbra webmail"
        " credentials to compromised web servers (ESET, 2023).",
        "report_types": ["campaign"],
        "published": now,
        "object_refs": [i["id"] for i in indicators],
    }
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [*indicators, report]}
    return orjson.dumps(bundle, option=orjson.OPT_INDENT_2).decode(), str(report["id"])


# --- signing in and out -----------------------------------------------------------------


def test_sign_in_refuses_a_wrong_password_then_signs_in_and_out(
    hub: BrowserHub, open_page: Open
) -> None:
    page = open_page(None)
    goto(page, "/ui/")  # signed out: sent to the sign-in page, which returns here after
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next=%2Fui%2F$|/ui/sign-in\?next=/ui/$"))
    heading(page, "Sign in to Shieldwall ISAC")
    shot(page, "sign-in")

    sign_in(page, SIGN_IN_USER.username, "not my password at all")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(re.compile("wrong user name or password"))
    expect(page).to_have_url(re.compile(r"/ui/sign-in"))
    expect(page.get_by_label("User name")).to_have_value(SIGN_IN_USER.username)  # kept
    expect(page.get_by_label("Password", exact=True)).to_have_value("")

    page.get_by_label("Password", exact=True).fill(SIGN_IN_USER.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{hub.url}/ui/")
    heading(page, "Dashboard")
    banner = page.get_by_role("banner")
    expect(banner).to_contain_text(f"{SIGN_IN_USER.username} · First Federal Bank")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_contain_text(
        ["Dashboard", "Feed", "Submit", "Alerts", "Groups", "Attestations"]
    )
    cookies = page.context.cookies()

    banner.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/sign-in"))
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    goto(page, "/ui/feed")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    # the old session cookie no longer opens anything: the hub ended the session too
    page.context.add_cookies(cookies)  # type: ignore[arg-type]
    goto(page, "/ui/feed")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    heading(page, "Sign in to Shieldwall ISAC")


def _focused(page: Page) -> str:
    """What has the keyboard focus: its id, else its text."""
    return str(page.evaluate("document.activeElement.id || document.activeElement.textContent"))


def _tab_to(page: Page, wanted: str, limit: int = 40) -> None:
    """Press Tab until ``wanted`` (an id or a text) has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page).strip() == wanted:
            return
    raise AssertionError(f"Tab never reached {wanted!r}")


def test_an_analyst_signs_in_and_moves_around_with_the_keyboard_alone(
    hub: BrowserHub, open_page: Open
) -> None:
    page = open_page(None)
    goto(page, "/ui/sign-in")
    assert _focused(page) == "username"  # the form is ready to type into
    page.keyboard.type(SIGN_IN_USER.username)
    page.keyboard.press("Tab")
    assert _focused(page) == "password"
    page.keyboard.type(SIGN_IN_USER.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{hub.url}/ui/")
    heading(page, "Dashboard")
    page.keyboard.press("Tab")
    assert _focused(page).strip() == "Skip to content"  # the first stop skips the header
    _tab_to(page, "Feed")
    page.keyboard.press("Enter")
    heading(page, "Feed")
    _tab_to(page, "f-q")  # the search box of the filters
    page.keyboard.type("Winter Vivern")
    page.keyboard.press("Enter")
    expect(page.locator("#results")).to_contain_text("Winter Vivern")


# --- submitting, and who may read it ----------------------------------------------------


def test_submitted_stix_reaches_only_the_organisations_its_scope_allows(
    hub: BrowserHub, open_page: Open
) -> None:
    title = "Zimbra webmail credential phishing"
    bundle, report_id = stix_bundle(title)
    page = open_page("first")
    goto(page, "/ui/submit")
    heading(page, "Submit intelligence")
    shot(page, "submit")

    page.get_by_label("Or paste STIX JSON").fill(bundle)
    page.get_by_role("radio", name=re.compile(r"^TLP:AMBER Members")).check()
    page.get_by_role("checkbox", name="Financial", exact=True).check()
    audience = page.get_by_role("complementary", name=re.compile("Who will see it"))
    expect(audience).to_contain_text("Albion Bank plc")  # the live preview (htmx)
    expect(audience).to_contain_text("Hudson Valley Trust")
    expect(audience).not_to_contain_text("Carter & Lowe LLP")
    expect(audience).not_to_contain_text("Whitfield Partners LLP")
    expect(audience).to_contain_text("TLP:AMBER for financial members")
    shot(page, "submit-preview")

    page.get_by_role("button", name="Submit to the hub").click()
    heading(page, "Submission result")
    expect(page.get_by_role("status")).to_have_text("All 4 objects were accepted.")
    expect(page.get_by_role("link", name=report_id)).to_be_visible()

    # a financial member finds it in the feed and opens it
    reader = open_page("albion")
    goto(reader, f"/ui/feed?q={quote(title)}")
    results = reader.get_by_role("region", name=re.compile("Objects in"))
    results.get_by_role("link", name=title).click()
    heading(reader, title)
    facts = reader.get_by_role("region", name="What it is")
    expect(facts).to_contain_text("First Federal Bank")
    expect(facts).to_contain_text("TLP:AMBER")
    shot(reader, "object-detail")

    # a law firm (outside the scope) gets no row and a 404 page
    outsider = open_page("carter")
    goto(outsider, f"/ui/feed?q={quote(title)}")
    results = outsider.get_by_role("region", name=re.compile("Objects in"))
    expect(results.get_by_role("link", name=title)).to_have_count(0)
    expect(results).to_contain_text("Nothing you may read matches these filters.")
    goto(outsider, f"/ui/objects/{report_id}", status=404)
    expect(outsider.get_by_role("heading", level=1)).to_have_text(re.compile("Not Found", re.I))
    expect(outsider.get_by_role("alert")).to_contain_text("your organisation may not read it")
    expect(outsider.locator("main")).not_to_contain_text(title)


def test_a_written_report_is_reviewed_redacted_and_published(
    hub: BrowserHub, open_page: Open
) -> None:
    page = open_page("first")
    goto(page, "/ui/submit")
    title = "Zimbra phishing reached our mailboxes"
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("The report", exact=True).fill(
        ZIMBRA_REPORT + "\nReported by the First Federal Bank SOC desk, +1 212 555 0147.\n"
    )
    page.get_by_role("button", name="Analyse and review").click()
    heading(page, f"Review: {title}")
    victims = page.get_by_role("region", name="Victim details")
    expect(victims).to_contain_text("First Federal Bank")  # its own name: flagged
    expect(victims).to_contain_text("+1 212 555 0147")  # personal data
    expect(
        victims.get_by_role("checkbox", name=re.compile("Remove victim details"))
    ).to_be_checked()
    found = page.get_by_role("region", name="Indicators", exact=True)
    for url in ZIMBRA_URLS:
        expect(found).to_contain_text(url)
    shot(page, "draft-review")

    page.get_by_role("radio", name=re.compile(r"^TLP:GREEN ")).check()
    page.get_by_role("button", name="Publish", exact=True).click()
    heading(page, "Submission result")
    expect(page.get_by_role("status").first).to_contain_text("was published")
    page.get_by_role("link", name=re.compile(r"^report--")).first.click()
    heading(page, title)
    description = page.get_by_role("region", name="Description")
    expect(description).to_contain_text("[REDACTED]")
    expect(description).not_to_contain_text("555 0147")
    expect(description).not_to_contain_text("First Federal Bank")


# --- government alerts ------------------------------------------------------------------


def test_a_victim_acknowledges_its_notification(hub: BrowserHub, open_page: Open) -> None:
    title = "Intrusion through your VPN gateway"
    page = open_page("albion")
    goto(page, "/ui/alerts")
    heading(page, "Alerts")
    inbox = page.get_by_role("region", name="Inbox")
    row = inbox.get_by_role("row").filter(has_text=title)
    expect(row).to_contain_text("new")
    expect(row).to_contain_text("Federal Cyber Crimes Unit")
    expect(row).to_contain_text("TLP:RED")
    shot(page, "alerts")

    row.get_by_role("link", name=title).click()
    heading(page, title)
    expect(page.get_by_role("region", name="Indicators")).to_contain_text(ATTACKER_IP)
    expect(page.get_by_role("region", name="Recommended actions")).to_contain_text(
        "Reset every VPN credential"
    )
    shot(page, "alert-detail")
    panel = page.get_by_role("region", name="Acknowledge")
    panel.get_by_label("Let the sender see our organisation's name").check()
    panel.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("region", name="Acknowledge").get_by_role("status")).to_contain_text(
        "Acknowledged"
    )
    page.reload()  # stored, not only swapped in
    expect(page.get_by_role("region", name="Acknowledge")).to_contain_text(
        "with your organisation's name shown to the sender"
    )
    goto(page, "/ui/alerts")
    row = page.get_by_role("region", name="Inbox").get_by_role("row").filter(has_text=title)
    expect(row).to_contain_text("acknowledged")

    # the sender sees the figure and the name; nobody else may open the notification
    sender = open_page("agency")
    goto(sender, f"/ui/alerts/{hub.seeded.notification_id}")
    figures = sender.get_by_role("region", name="Acknowledgements")
    expect(figures).to_contain_text("Acknowledged by 1 of 1 recipient")
    expect(figures).to_contain_text("Albion Bank plc")
    other = open_page("first")
    goto(other, f"/ui/alerts/{hub.seeded.notification_id}", status=404)


def test_the_leak_check_refuses_an_advisory_naming_the_victim_until_fixed(
    hub: BrowserHub, open_page: Open
) -> None:
    page = open_page("agency")
    goto(page, "/ui/alerts")
    page.get_by_role("link", name="Write an advisory").click()
    heading(page, "Write an advisory")
    title = "VPN intrusions at a bank"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill(
        f"An actor used stolen VPN credentials against vpn.{VICTIM_DOMAIN} and sent data to"
        " the address below."
    )
    page.get_by_label("Indicators, one per line").fill(ATTACKER_IP)
    page.get_by_label("Recommended actions, one per line").fill("Review VPN sign-ins since 1 March")
    page.get_by_role("radio", name=re.compile(r"^TLP:AMBER Members")).check()
    page.get_by_role("checkbox", name="financial", exact=True).check()
    page.get_by_role("button", name="Check for leaks").click()
    findings = page.get_by_role("region", name=re.compile(r"finding"))
    expect(findings).to_contain_text("it cannot be published")
    expect(findings).to_contain_text(VICTIM_DOMAIN)
    expect(findings).to_contain_text("own-domain")
    expect(findings).to_contain_text("Albion Bank plc")
    expect(page.get_by_role("region", name="Releasability")).to_contain_text("will reach")
    shot(page, "advisory-leak-check")

    # publishing anyway is refused, nothing stored, and the text is kept
    page.get_by_role("button", name="Publish advisory").click()
    expect(page.get_by_role("alert").first).to_contain_text("was not published")
    expect(page.get_by_label("Title")).to_have_value(title)
    expect(page.get_by_label("Description")).to_have_value(re.compile(VICTIM_DOMAIN))
    sent = page.context.new_page()
    goto(sent, "/ui/alerts")
    expect(sent.get_by_role("region", name="Sent by your organisation")).not_to_contain_text(title)
    sent.close()

    page.get_by_label("Description").fill(
        "An actor used stolen VPN credentials against a bank's remote-access gateway and sent"
        " data to the address below."
    )
    page.get_by_role("button", name="Check for leaks").click()
    expect(page.get_by_role("status").filter(has_text="No leaks found")).to_be_visible()
    page.get_by_role("button", name="Publish advisory").click()
    heading(page, title)
    expect(page.get_by_role("status").first).to_contain_text("Advisory published")

    # financial members receive it, the law firm does not
    bank = open_page("hudson")
    goto(bank, "/ui/alerts")
    expect(bank.get_by_role("region", name="Inbox")).to_contain_text(title)
    law = open_page("carter")
    goto(law, "/ui/alerts")
    expect(law.get_by_role("region", name="Inbox")).not_to_contain_text(title)


# --- the other main pages -------------------------------------------------------------------


def test_main_pages_show_the_community(hub: BrowserHub, open_page: Open) -> None:
    page = open_page("first")
    goto(page, "/ui/")
    heading(page, "Dashboard")
    newest = page.get_by_role("region", name="Newest intelligence")
    expect(newest.get_by_role("row")).to_have_count(11)  # the header and the ten newest
    # who shared the newest objects depends on what the other tests submitted before
    expect(newest).to_contain_text(
        re.compile("First Federal Bank|Hudson Valley Trust|Federal Cyber Crimes Unit|not named")
    )
    figures = page.get_by_role("region", name="Figures")
    live = figures.get_by_role("link", name=re.compile("indicators live now"))
    expect(live).to_have_accessible_name(re.compile(r"^[1-9]\d* indicators live now"))
    shot(page, "dashboard")

    goto(page, "/ui/feed")
    heading(page, "Feed")
    results = page.get_by_role("region", name=re.compile("Objects in"))
    expect(results.get_by_role("row").nth(5)).to_be_visible()
    shot(page, "feed")
    page.get_by_label("Search").fill("Winter Vivern")
    page.get_by_role("button", name="Show").click()
    report = results.get_by_role("link", name="Winter Vivern targets Roundcube webmail")
    expect(report).to_be_visible()
    row = results.get_by_role("row").filter(has_text="Winter Vivern targets Roundcube webmail")
    expect(row.filter(has_text="report")).to_contain_text("Hudson Valley Trust")
    expect(results).not_to_contain_text("Invoice phishing")

    goto(page, "/ui/groups")
    heading(page, "Sharing groups")
    expect(page.locator("main")).to_contain_text("bank-law-alliance")
    shot(page, "groups")

    goto(page, "/ui/admin/users")
    heading(page, re.compile("First Federal Bank"))
    users = page.get_by_role("region", name=re.compile(r"^Users"))
    for username in (MEMBERS["first"].username, "tom.becker@firstfederal"):
        expect(users.get_by_role("row").filter(has_text=username)).to_have_count(1)
    shot(page, "admin-users")

    goto(page, "/ui/attestations")
    heading(page, "Security attestations")
    expect(page.get_by_role("region", name="Shared with you")).to_contain_text(
        MEMBERS["carter"].name
    )
    shot(page, "attestations")

    operator = open_page("operator")
    goto(operator, "/ui/operator/organisations")
    heading(operator, "Operator · Organisations")
    organisations = operator.get_by_role("region", name=re.compile(r"^Organisations"))
    for member in MEMBERS.values():
        expect(organisations).to_contain_text(member.name)
    shot(operator, "operator-organisations")

    phone = open_page("first", phone=True)
    widths = {}
    goto(phone, "/ui/")
    heading(phone, "Dashboard")
    shot(phone, "dashboard-phone")
    widths["dashboard"] = phone.evaluate("document.documentElement.scrollWidth")
    goto(phone, "/ui/feed")
    heading(phone, "Feed")
    shot(phone, "feed-phone")
    widths["feed"] = phone.evaluate("document.documentElement.scrollWidth")
    too_wide = {name: width for name, width in widths.items() if width > 390}
    assert not too_wide, f"pages wider than a 390 px phone screen (px): {too_wide}"
