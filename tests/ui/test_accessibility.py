"""Automated accessibility checks of the main pages in a real browser: axe-core's WCAG 2
A/AA rules (labels, names, contrast, ...) plus one ``<h1>``, heading order and landmarks
(``browser_support.accessibility_violations``), page by page, as the member each page is
for sees it with the seeded community's data.

A failure names the page and lists each rule broken with the elements (CSS selectors).
Pages that need a state only interaction reaches (a refused sign-in, the advisory leak
check) are driven there first. The same pages must also fit a 390 px phone screen without
sideways scrolling (WCAG 1.4.10, reflow, which axe does not check): a failure lists the
elements that stick out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import (
    PHONE,
    VICTIM_DOMAIN,
    BrowserHub,
    Seeded,
    accessibility_violations,
    chromium,
    running_hub,
)
from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
PHONE_WIDTH = PHONE["width"]


def _wrong_password(page: Page) -> None:
    page.get_by_label("User name").fill("maria.lopez@firstfederal")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("alert").wait_for()


def _leak_check(page: Page) -> None:
    page.get_by_label("Title").fill("VPN intrusions at a bank")
    page.get_by_label("Description").fill(
        f"The actor reached vpn.{VICTIM_DOMAIN} with stolen VPN credentials."
    )
    page.get_by_role("button", name="Check for leaks").click()
    page.get_by_role("region", name=re.compile("finding")).wait_for()


@dataclass(frozen=True)
class Screen:
    """A page to check: who looks at it (a ``MEMBERS`` handle, ``None`` when signed
    out), its path, the status it answers with, and what to do on it first."""

    handle: str | None
    path: str | Callable[[Seeded], str]
    status: int = 200
    prepare: Callable[[Page], None] | None = None

    def url(self, seeded: Seeded) -> str:
        return self.path if isinstance(self.path, str) else self.path(seeded)


SCREENS: dict[str, Screen] = {
    "sign-in": Screen(None, "/ui/sign-in"),
    "sign-in-refused": Screen(None, "/ui/sign-in", prepare=_wrong_password),
    "account": Screen("first", "/ui/account"),
    "dashboard": Screen("first", "/ui/"),
    "feed": Screen("first", "/ui/feed"),
    "object-detail": Screen("first", lambda s: f"/ui/objects/{s.report_id}"),
    "submit": Screen("first", "/ui/submit"),
    "alerts": Screen("albion", "/ui/alerts"),
    "alert-detail": Screen("albion", lambda s: f"/ui/alerts/{s.notification_id}"),
    "compose-advisory": Screen("agency", "/ui/alerts/new/advisory"),
    "advisory-leak-check": Screen("agency", "/ui/alerts/new/advisory", prepare=_leak_check),
    "compose-notification": Screen("agency", "/ui/alerts/new/notification"),
    "groups": Screen("first", "/ui/groups"),
    "admin-users": Screen("first", "/ui/admin/users"),
    "operator-organisations": Screen("operator", "/ui/operator/organisations"),
    "attestations": Screen("first", "/ui/attestations"),
    "exercises": Screen("first", "/ui/exercises"),
    "not-found": Screen(
        "first", "/ui/alerts/report--7c1f0d0e-5b8e-4a8b-9a43-1d2a3b4c5d6e", status=404
    ),
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserHub]:
    with running_hub(Path(tmp_path_factory.mktemp("a11y"))) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def contexts(
    hub: BrowserHub, browser: Browser
) -> Iterator[dict[tuple[str | None, bool], BrowserContext]]:
    """One browser context per member and screen size (desktop or phone), signed in once,
    made when first needed."""
    made: dict[tuple[str | None, bool], BrowserContext] = {}
    yield made
    for context in made.values():
        context.close()


def _open(
    hub: BrowserHub,
    browser: Browser,
    contexts: dict[tuple[str | None, bool], BrowserContext],
    name: str,
    *,
    phone: bool = False,
) -> tuple[Page, int]:
    """``SCREENS[name]`` in a new page, in the state it is checked in; and how many
    browser problems its context had reported before."""
    screen = SCREENS[name]
    key = (screen.handle, phone)
    if key not in contexts:
        contexts[key] = hub.context(browser, screen.handle, phone=phone)
    seen = len(hub.problems(contexts[key]))
    page = contexts[key].new_page()
    response = page.goto(screen.url(hub.seeded))
    assert response is not None
    assert response.status == screen.status, (
        f"{name}: {page.url} answered {response.status}\n{hub.server_errors()}"
    )
    if screen.prepare is not None:
        screen.prepare(page)
    return page, seen


@pytest.mark.parametrize("name", list(SCREENS))
def test_page_is_accessible(
    name: str,
    hub: BrowserHub,
    browser: Browser,
    contexts: dict[tuple[str | None, bool], BrowserContext],
) -> None:
    page, seen = _open(hub, browser, contexts, name)
    try:
        violations = accessibility_violations(page)
        assert not violations, f"{name} ({page.url}) breaks accessibility rules:\n" + "\n".join(
            violations
        )
        problems = hub.problems(page.context)[seen:]
        assert not problems, f"{name}: the browser reported\n" + "\n".join(problems)
    finally:
        page.close()


# What makes a page wider than the screen: the outermost elements past its right edge,
# except inside a horizontally scrolling table box (``.table-wrap``), which may scroll.
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const counts = (el) => {
    if (el.closest(".table-wrap") && !el.classList.contains("visually-hidden")) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1;
  };
  const named = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].join(".") : "");
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    const parent = el.parentElement;
    if (!counts(el) || (parent && counts(parent))) continue;
    const right = Math.round(el.getBoundingClientRect().right);
    found.push(`${named(el)} in ${parent ? named(parent) : "?"} (right edge at ${right} px)`);
  }
  return {width: document.documentElement.scrollWidth, culprits: found.slice(0, 6)};
}"""


@pytest.mark.parametrize("name", list(SCREENS))
def test_page_fits_a_phone_screen(
    name: str,
    hub: BrowserHub,
    browser: Browser,
    contexts: dict[tuple[str | None, bool], BrowserContext],
) -> None:
    """WCAG 1.4.10 (reflow): at 390 CSS px the page needs no sideways scrolling (wide
    tables scroll inside their own box)."""
    page, _ = _open(hub, browser, contexts, name, phone=True)
    try:
        found = page.evaluate(_OVERFLOW)
        assert found["width"] <= PHONE_WIDTH, (
            f"{name} is {found['width']} px wide on a {PHONE_WIDTH} px phone screen;"
            f" past the edge: {', '.join(found['culprits'])}"
        )
    finally:
        page.close()
