"""Everything under ``/ui``: the pages' routers, the static assets and the sign-in redirect.

Each page module reads and writes through the same services as the API, with the signed-in
account's organisation as the reader, so the sharing policy is applied by the same code.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from shieldwall.web.ui import admin as admin_ui
from shieldwall.web.ui import alerts as alerts_ui
from shieldwall.web.ui import attestations as attestations_ui
from shieldwall.web.ui import auth
from shieldwall.web.ui import exercises as exercises_ui
from shieldwall.web.ui import groups as groups_ui
from shieldwall.web.ui import home as home_ui
from shieldwall.web.ui import operator as operator_ui
from shieldwall.web.ui import submit as submit_ui
from shieldwall.web.ui.errors import sign_in_required
from shieldwall.web.ui.session import SignInRequired

STATIC = Path(__file__).resolve().parent / "static"


class Assets(StaticFiles):
    """Our CSS, htmx and icon: browsers keep them but ask each time whether they changed
    (``no-cache`` with the ETag: a 304 without a body), instead of the ``no-store`` every
    page of shared intelligence gets."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        return response


def install_ui(app: FastAPI) -> None:
    """Add the web interface to ``app``."""
    app.state.signin_failures = auth.FailedSignIns()
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.mount("/ui/static", Assets(directory=STATIC), name="ui-static")
    app.include_router(auth.router)
    app.include_router(home_ui.router)
    app.include_router(submit_ui.router)
    app.include_router(alerts_ui.router)
    app.include_router(exercises_ui.router)
    app.include_router(admin_ui.router)
    app.include_router(groups_ui.router)
    app.include_router(operator_ui.router)
    app.include_router(attestations_ui.router)
