"""Users and web sessions round-trip through storage on both engines (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from shieldwall.domain.accounts import MINUTE
from shieldwall.domain.errors import Conflict, Unauthenticated
from shieldwall.services import accounts, admin
from shieldwall.services.context import Hub
from shieldwall.services.ports import UserRecord, WebSessionRecord

PASSWORD = "correct horse battery staple"


def test_users_and_sessions_round_trip(hub: Hub) -> None:
    bank = admin.add_organisation(hub, "Bank", "financial", "US")
    operator = admin.add_organisation(hub, "Operator", "other", "US", "operator")
    info, _ = accounts.add_user(hub, "Bank", "Zed@Bank.example", admin=True, password=PASSWORD)
    accounts.add_user(hub, "Operator", "amy", password=PASSWORD)
    with hub.store.read() as tx:
        stored = tx.user_by_name("zed@bank.example")
        assert stored is not None and tx.user(info.user_id) == stored
        assert tx.user_by_name("Zed@Bank.example") is None  # services lower-case first
        assert [u.username for u in tx.users(None)] == ["amy", "zed@bank.example"]
        assert [u.username for u in tx.users(operator.id)] == ["amy"]
    assert stored == UserRecord(
        info.user_id,
        bank.id,
        "zed@bank.example",
        stored.password_hash,
        True,
        False,
        info.created_at,
        None,
    )
    assert stored.password_hash.startswith("$argon2id$")
    # the unique constraint, whatever the service checked
    with pytest.raises(Conflict), hub.store.write() as tx:
        tx.add_user(operator.id, "zed@bank.example", "x", False, 1)
    with pytest.raises(Conflict, match="is taken"):
        accounts.add_user(hub, "Operator", "ZED@bank.example", password=PASSWORD)

    with pytest.raises(Unauthenticated, match="wrong user name or password"):
        accounts.sign_in(hub, "zed\x00@bank.example", PASSWORD)  # PostgreSQL text holds no NUL
    token, session = accounts.sign_in(hub, "zed@bank.example", PASSWORD)
    other, _ = accounts.sign_in(hub, "ZED@BANK.EXAMPLE", PASSWORD)
    assert session.account.organisation == bank and session.account.is_admin
    assert accounts.session(hub, token) == session
    key_token, by_key = accounts.sign_in_with_key(hub, admin.create_key(hub, "Operator"))
    assert by_key.account.key_id is not None
    with hub.store.read() as tx:
        row = tx.web_session(accounts._token_hash(token))
        key_row = tx.web_session(accounts._token_hash(key_token))
        signed = tx.user(info.user_id)
    assert isinstance(row, WebSessionRecord)
    assert (row.user_id, row.key_id, row.org_id) == (info.user_id, None, bank.id)
    assert row.expires_at == session.expires_at and row.created_at == row.last_seen
    assert key_row is not None
    assert (key_row.user_id, key_row.key_id, key_row.org_id) == (
        None,
        by_key.account.key_id,
        operator.id,
    )
    assert signed is not None and signed.last_sign_in is not None
    assert signed.last_sign_in > row.created_at  # the second sign-in

    with hub.store.write() as tx:
        tx.touch_web_session(row.token_hash, row.last_seen + MINUTE, row.expires_at + MINUTE)
        tx.set_user_admin(info.user_id, False)
    with hub.store.read() as tx:
        moved = tx.web_session(row.token_hash)
    assert moved is not None and moved.last_seen == row.last_seen + MINUTE
    again = accounts.session(hub, token)
    assert again is not None and not again.account.is_admin

    accounts.set_disabled(hub, "zed@bank.example", True)  # deletes both of its sessions
    assert accounts.session(hub, token) is None and accounts.session(hub, other) is None
    with pytest.raises(Unauthenticated):
        accounts.sign_in(hub, "zed@bank.example", PASSWORD)
    assert accounts.session(hub, key_token) is not None
    with hub.store.write() as tx:
        assert tx.delete_user_sessions(info.user_id) == 0
        assert tx.delete_stale_web_sessions(key_row.expires_at, 0) == 1
    assert accounts.session(hub, key_token) is None
    (listed, _) = sorted(accounts.list_users(hub), key=lambda u: u.username, reverse=True)
    assert listed.disabled and not listed.is_admin and listed.last_sign_in is not None
