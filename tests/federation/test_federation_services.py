"""Partner settings through the services, on both engines: enabling and disabling, and
who may manage partners."""

from __future__ import annotations

import pytest

from conftest import free_port
from shieldwall.domain.errors import Forbidden, NotFound
from shieldwall.services import admin, federation
from shieldwall.services.context import Hub


def test_a_disabled_partner_is_skipped_and_resumes_when_enabled(hub: Hub) -> None:
    operator = admin.add_organisation(hub, "Ops", "other", "US", "operator")
    member = admin.add_organisation(hub, "Bank", "financial", "US")
    closed = f"http://127.0.0.1:{free_port()}/taxii2/hub/"  # nothing listens: each pass fails
    federation.add_partner(hub, operator, "isao", closed, "shared", "shared", "pull", key="k")
    assert [r.partner for r in federation.sync(hub)] == ["isao"]
    federation.enable_partner(hub, operator, "isao", False)
    assert federation.partner(hub, operator, "isao").enabled is False
    assert federation.sync(hub) == []  # every enabled partner: none
    federation.enable_partner(hub, None, "isao", True)  # the local CLI acts as the operator
    assert [r.partner for r in federation.sync(hub, force=True)] == ["isao"]
    with pytest.raises(Forbidden):
        federation.enable_partner(hub, member, "isao", False)
    with pytest.raises(NotFound):
        federation.enable_partner(hub, operator, "nobody", False)
