"""Rendering the web interface: one Jinja2 environment, the filters every page uses, and
``render`` (a whole page, or only its ``content`` block for htmx requests that ask for a
fragment).

Templates live in ``web/ui/templates`` and are autoescaped; nothing a member wrote is ever
marked safe. Pages show what services return: the templates never decide who sees what.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from shieldwall.domain.organisations import Role
from shieldwall.domain.scope import Scope
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.domain.tlp import Tlp
from shieldwall.services.accounts import SessionInfo

TEMPLATES = Path(__file__).resolve().parent / "templates"
FLASH_COOKIE = "shieldwall_flash"


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the main navigation."""

    href: str
    label: str
    section: str = ""  # another path prefix of this entry's pages (besides ``href``)

    def current(self, path: str) -> bool:
        """True when ``path`` is one of this entry's pages."""
        if self.href == "/ui/":
            return path in ("/ui", "/ui/")
        return path.startswith(self.href) or bool(self.section and path.startswith(self.section))


def navigation(session: SessionInfo | None) -> list[NavItem]:
    """The pages this account can use (no link leads to a page it would be refused)."""
    if session is None:
        return []
    account = session.account
    items = [
        NavItem("/ui/", "Dashboard"),
        NavItem("/ui/feed", "Feed", "/ui/objects"),
        NavItem("/ui/submit", "Submit"),
        NavItem("/ui/alerts", "Alerts"),
        NavItem("/ui/groups", "Groups"),
        NavItem("/ui/attestations", "Attestations"),
        NavItem("/ui/exercises", "Exercises"),
    ]
    if account.is_admin:
        items.append(NavItem("/ui/admin/users", "My organisation", "/ui/admin/"))
    if account.is_admin and account.organisation.role is Role.OPERATOR:
        items.append(NavItem("/ui/operator/organisations", "Operator", "/ui/operator/"))
    return items


def when(micros: int | None) -> str:
    """``2026-11-23 03:40 UTC`` (empty for ``None``)."""
    if micros is None:
        return ""
    text = format_timestamp(micros)
    return f"{text[:10]} {text[11:16]} UTC"


def ago(micros: int | None, now: int | None = None) -> str:
    """``5 minutes ago``, ``3 days ago`` (coarse, for lists)."""
    if micros is None:
        return ""
    current = now if now is not None else int(time.time() * 1_000_000)
    seconds = max(0, (current - micros) // 1_000_000)
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def tlp_label(level: int | Tlp) -> str:
    """``TLP:AMBER+STRICT``."""
    return Tlp(level).label


def tlp_class(level: int | Tlp) -> str:
    """The CSS class of the badge of a TLP level (``tlp-amber-strict``)."""
    return "tlp-" + Tlp(level).name.lower().replace("_", "-")


TLP_MEANING: Mapping[Tlp, str] = {
    Tlp.CLEAR: "Anyone may see it: it may be published without restriction.",
    Tlp.GREEN: "The community: members may share it with peers and partners, not publicly.",
    Tlp.AMBER: "Members who may read it, and their own organisation and clients on a"
    " need-to-know basis.",
    Tlp.AMBER_STRICT: "Members who may read it, and only inside their own organisation.",
    Tlp.RED: "Only the organisations named in its scope, and only the people they name.",
}


def tlp_meaning(level: int | Tlp) -> str:
    """What a TLP level allows, in one sentence."""
    return TLP_MEANING[Tlp(level)]


def scope_words(scope: Scope, names: Mapping[str, str] | None = None) -> str:
    """A scope in plain words; ``names`` maps identity ids to organisation names."""
    if scope.is_community:
        return "the whole community"
    parts: list[str] = []
    if scope.sectors and scope.countries:
        parts.append(f"{_join(sorted(scope.sectors))} members in {_join(sorted(scope.countries))}")
    elif scope.sectors:
        parts.append(f"{_join(sorted(scope.sectors))} members")
    elif scope.countries:
        parts.append(f"members in {_join(sorted(scope.countries))}")
    if scope.groups:
        parts.append(
            f"the group{'s' if len(scope.groups) > 1 else ''} {_join(sorted(scope.groups))}"
        )
    if scope.organizations:
        known = names or {}
        parts.append(_join(sorted(known.get(i, i) for i in scope.organizations)))
    return _join(parts, last=" or ")


def safe_url(value: object) -> str | None:
    """``value`` when it is an http(s) URL with a host: the only links pages make from what
    members wrote (never ``javascript:``, ``data:`` or ``file:``)."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return value.strip()
    return None


def _join(items: list[str], last: str = " and ") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment (autoescaping on, undefined names are errors)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        ago=ago,
        tlp_label=tlp_label,
        tlp_class=tlp_class,
        tlp_meaning=tlp_meaning,
        scope_words=scope_words,
        safe_url=safe_url,
    )
    return env


def is_htmx(request: Request) -> bool:
    """True when htmx sent the request (it then wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: Mapping[str, object] | None = None,
    *,
    session: SessionInfo | None = None,
    status: int = 200,
    fragment: str | None = None,
) -> HTMLResponse:
    """Render ``template`` as a page for ``session`` (``None`` when signed out).

    ``fragment`` names a block to render alone (for htmx swaps). Every page gets
    ``hub_name``, ``session``, ``account``, ``csrf_token``, ``nav``, ``path`` and ``flash``
    (a one-time message set by ``redirect_with``), besides ``context``."""
    hub_name = request.app.state.hub.config.hub_name
    flash = unquote(request.cookies.get(FLASH_COOKIE, ""))
    values: dict[str, object] = {
        "hub_name": hub_name,
        "session": session,
        "account": session.account if session else None,
        "csrf_token": session.csrf_token if session else "",
        "nav": navigation(session),
        "path": request.url.path,
        "flash": flash[:300],
        "Tlp": Tlp,
    }
    values.update(context or {})
    compiled = environment().get_template(template)
    if fragment is not None:
        block = compiled.blocks[fragment]
        body = "".join(block(compiled.new_context(values)))
    else:
        body = compiled.render(values)
    response = HTMLResponse(body, status_code=status)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/ui")
    return response
