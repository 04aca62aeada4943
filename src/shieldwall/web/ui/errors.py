"""Errors on ``/ui`` pages: an HTML page (or, for htmx, the fragment) saying what went
wrong, and a redirect to the sign-in page when the session is missing or over."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from shieldwall.web.ui.session import SignInRequired, sign_in_redirect
from shieldwall.web.ui.templating import is_htmx, render


def ui_error_page(request: Request, status: int, title: str, description: str) -> Response:
    """The error as a page of the interface (``content`` block only for htmx)."""
    from shieldwall.web.ui.session import session_of

    try:
        session = session_of(request)
    except Exception:  # the error page must render even when the store is down
        session = None
    context = {"status": status, "title": title, "description": description}
    fragment = "content" if is_htmx(request) else None
    return render(request, "error.html", context, session=session, status=status, fragment=fragment)


async def sign_in_required(request: Request, exc: Exception) -> Response:
    """Send the browser to sign in (htmx follows ``HX-Redirect``)."""
    assert isinstance(exc, SignInRequired)
    response = sign_in_redirect(exc.next_path)
    if is_htmx(request):
        response.headers["HX-Redirect"] = response.headers["location"]
    return response
