"""Web user accounts and sessions (services/accounts.py): rules, permissions, secrets at
rest, audit, and every way a session ends."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from conftest import TEST_CONFIG, FixedClock, database_url, make_hub
from db_dump import dump
from shieldwall.domain.accounts import HOUR, MINUTE
from shieldwall.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from shieldwall.services import accounts, admin, audit
from shieldwall.services.accounts import Account, SessionInfo
from shieldwall.services.context import Hub
from shieldwall.storage.database import Database

PASSWORD = "correct horse battery staple"
IDLE_MINUTES = 30
MAX_HOURS = 2


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A SQLite hub with short session limits: 30 idle minutes, 2 hours at most."""
    config = replace(TEST_CONFIG, session_idle_minutes=IDLE_MINUTES, session_max_hours=MAX_HOURS)
    made = make_hub(database_url("sqlite", tmp_path), config)
    admin.add_organisation(made, "First Bank", "financial", "US")
    admin.add_organisation(made, "Second Bank", "financial", "GB")
    admin.add_organisation(made, "Hub Operator", "other", "US", "operator")
    yield made
    assert isinstance(made.store, Database)
    made.store.dispose()


def clock(hub: Hub) -> FixedClock:
    assert isinstance(hub.clock, FixedClock)
    return hub.clock


def url_of(hub: Hub) -> str:
    assert isinstance(hub.store, Database)
    return hub.store.engine.url.render_as_string(hide_password=False)


def signed_in(hub: Hub, username: str, password: str = PASSWORD) -> tuple[str, SessionInfo]:
    return accounts.sign_in(hub, username, password)


def account(hub: Hub, username: str, password: str = PASSWORD) -> Account:
    return signed_in(hub, username, password)[1].account


# --- users ---------------------------------------------------------------------------


def test_add_and_list_users(hub: Hub) -> None:
    info, password = accounts.add_user(hub, "First Bank", "Alice@First.example", admin=True)
    assert info.username == "alice@first.example"  # stored lower-case
    assert (info.organisation, info.is_admin, info.disabled) == ("First Bank", True, False)
    assert info.last_sign_in is None and info.created_at > 0
    assert len(password) >= 18  # generated: hub.ids.secret(18)
    given, same = accounts.add_user(hub, "Second Bank", "bob", password=PASSWORD)
    assert same == PASSWORD and not given.is_admin
    assert [u.username for u in accounts.list_users(hub)] == ["alice@first.example", "bob"]
    assert accounts.list_users(hub, "Second Bank") == [given]
    assert accounts.list_users(hub, "Hub Operator") == []
    with pytest.raises(NotFound, match="no organisation named"):
        accounts.list_users(hub, "Nobody")
    with pytest.raises(NotFound, match="no organisation named"):
        accounts.add_user(hub, "Nobody", "carol")
    assert account(hub, "alice@first.example", password).is_admin


def test_user_names_are_unique_whatever_their_case(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "Jane.Doe")
    with pytest.raises(Conflict, match=r"'jane\.doe' is taken"):
        accounts.add_user(hub, "Second Bank", "JANE.DOE")
    with pytest.raises(Conflict):
        accounts.add_user(hub, "First Bank", " jane.doe ")
    assert [u.username for u in accounts.list_users(hub)] == ["jane.doe"]


@pytest.mark.parametrize(
    "username",
    ["ab", "-alice", ".alice", "has space", "x" * 65, "émile", "alice!", "", "a/b/c"],
)
def test_bad_user_names_say_what_is_allowed(hub: Hub, username: str) -> None:
    with pytest.raises(InvalidInput, match="must be 3-64 characters of a-z, 0-9"):
        accounts.add_user(hub, "First Bank", username)


def test_good_user_names(hub: Hub) -> None:
    for name in ("abc", "a" * 64, "0day_hunter", "ann@bank.example", "x-y.z_w"):
        assert accounts.add_user(hub, "First Bank", name)[0].username == name


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12 characters"),
        ("x" * 11, "at least 12 characters"),
        ("x" * 1025, "at most 1024 characters"),
        ("Alice@Bank.example", "must not be the user name"),
    ],
)
def test_bad_passwords_say_why(hub: Hub, password: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        accounts.add_user(hub, "First Bank", "alice@bank.example", password=password)
    assert password not in raised.value.message
    assert accounts.list_users(hub) == []


def test_passwords_of_12_and_1024_characters_are_accepted(hub: Hub) -> None:
    for name, password in (("twelve", "x" * 12), ("long-one", "y" * 1024)):
        accounts.add_user(hub, "First Bank", name, password=password)
        assert account(hub, name, password).username == name


def test_passwords_are_stored_as_argon2id_hashes_only(hub: Hub) -> None:
    _, generated = accounts.add_user(hub, "First Bank", "alice")
    accounts.add_user(hub, "First Bank", "bob", password=PASSWORD)
    token, _ = signed_in(hub, "bob")
    _, rows = dump(url_of(hub))
    users = [row.values for row in rows if row.table == "users"]
    assert len(users) == 2
    for user in users:
        assert user["password_hash"].startswith("$argon2id$")
        clear = generated if user["username"] == "alice" else PASSWORD
        assert PasswordHasher().verify(user["password_hash"], clear)
    for row in rows:  # nowhere in the database: the passwords and the session token
        text = " ".join(str(value) for value in row.values.values())
        assert generated not in text and PASSWORD not in text and token not in text, row.table
    sessions = [row.values for row in rows if row.table == "web_sessions"]
    assert [s["token_hash"] for s in sessions] == [hashlib.sha256(token.encode()).hexdigest()]


# --- signing in ------------------------------------------------------------------------


def test_sign_in_opens_a_session_and_records_the_time(hub: Hub) -> None:
    info, _ = accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    token, session = signed_in(hub, "  ALICE ")  # user names in any case
    first = admin.organisation(hub, "First Bank")
    assert session.account == Account(first, "alice", info.user_id, False, None)
    assert session.csrf_token == accounts.csrf_token_of(token)
    assert session.csrf_token == hashlib.sha256(f"csrf:{token}".encode()).hexdigest()
    assert accounts.session(hub, token) == session
    (listed,) = accounts.list_users(hub)
    assert listed.last_sign_in is not None and listed.last_sign_in < session.expires_at


def test_unknown_user_wrong_password_and_disabled_user_get_the_same_answer(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    accounts.add_user(hub, "First Bank", "dora", password=PASSWORD)
    accounts.set_disabled(hub, "dora", True)
    checked: list[str] = []
    real = accounts._verify

    def spy(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "_verify", spy)
    messages = []
    for username, password in (
        ("nobody", PASSWORD),
        ("alice", PASSWORD + "!"),
        ("dora", PASSWORD),
        ("not a valid name", PASSWORD),
        ("alice", "x" * 5000),
    ):
        with pytest.raises(Unauthenticated) as raised:
            accounts.sign_in(hub, username, password)
        messages.append(raised.value.message)
    assert set(messages) == {"wrong user name or password"}
    # every answer spent one argon2 check: against a dummy hash when the user is unknown
    assert len(checked) == 5
    assert all(h.startswith("$argon2id$") for h in checked)
    assert checked[0] == checked[3] == accounts._dummy_hash()


def test_an_outdated_hash_is_replaced_at_sign_in(hub: Hub) -> None:
    info, _ = accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with hub.store.write() as tx:
        tx.set_user_password(info.user_id, weak)
    signed_in(hub, "alice")
    with hub.store.read() as tx:
        user = tx.user(info.user_id)
    assert user is not None and user.password_hash != weak
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
    signed_in(hub, "alice")  # still the same password


# --- how sessions end --------------------------------------------------------------------


def test_a_session_ends_after_the_idle_time(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    token, session = signed_in(hub, "alice")
    opened = clock(hub).value
    assert session.expires_at == pytest.approx(opened + IDLE_MINUTES * MINUTE, abs=10_000)
    clock(hub).value = session.expires_at - 10_000
    assert accounts.session(hub, token) is not None  # used just in time: slides
    clock(hub).value += IDLE_MINUTES * MINUTE + 1
    assert accounts.session(hub, token) is None
    clock(hub).value -= 2 * MINUTE  # gone for good, even if the clock went back
    assert accounts.session(hub, token) is None


def test_using_a_session_slides_its_idle_expiry_written_at_most_once_a_minute(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    token, session = signed_in(hub, "alice")
    digest = hashlib.sha256(token.encode()).hexdigest()

    def stored_last_seen() -> int:
        with hub.store.read() as tx:
            row = tx.web_session(digest)
        assert row is not None
        return row.last_seen

    opened = stored_last_seen()
    clock(hub).value += 30 * 1_000_000  # 30 s later: not written again
    again = accounts.session(hub, token)
    assert again is not None and again.expires_at == session.expires_at
    assert stored_last_seen() == opened
    for _ in range(4):  # an active user: 20 minutes apart, 80 minutes in all
        clock(hub).value += 20 * MINUTE
        current = accounts.session(hub, token)
        assert current is not None
        assert stored_last_seen() > opened
        assert current.expires_at > clock(hub).value + (IDLE_MINUTES - 1) * MINUTE
    assert clock(hub).value - opened > IDLE_MINUTES * MINUTE  # lived past one idle period


def test_a_session_ends_at_the_absolute_limit_however_active(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    token, _ = signed_in(hub, "alice")
    opened = clock(hub).value
    limit = opened + MAX_HOURS * HOUR
    while clock(hub).value < limit - 20 * MINUTE:
        clock(hub).value += 20 * MINUTE
        current = accounts.session(hub, token)
        assert current is not None
        assert current.expires_at <= limit  # the idle end never passes the absolute limit
    clock(hub).value = limit + 1
    assert accounts.session(hub, token) is None
    assert signed_in(hub, "alice")[0] != token  # signing in again opens a new one


def test_sign_out_and_unknown_tokens(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    token, _ = signed_in(hub, "alice")
    other, _ = signed_in(hub, "alice")
    accounts.sign_out(hub, token)
    assert accounts.session(hub, token) is None
    assert accounts.session(hub, other) is not None  # other sessions stay
    accounts.sign_out(hub, token)  # twice: nothing happens
    accounts.sign_out(hub, "never-issued")
    assert accounts.session(hub, "") is None
    assert accounts.session(hub, "never-issued") is None


def test_csrf_tokens_differ_per_session(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    first_token, first = signed_in(hub, "alice")
    second_token, second = signed_in(hub, "alice")
    assert first_token != second_token
    assert first.csrf_token != second.csrf_token
    assert first.csrf_token not in (first_token, second_token)
    assert accounts.csrf_token_of(second_token) == second.csrf_token


def test_disabling_a_user_ends_its_sessions_and_stops_sign_in(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    tokens = [signed_in(hub, "alice")[0] for _ in range(2)]
    accounts.set_disabled(hub, "ALICE", True)
    assert [accounts.session(hub, t) for t in tokens] == [None, None]
    with pytest.raises(Unauthenticated, match="wrong user name or password"):
        signed_in(hub, "alice")
    assert accounts.list_users(hub)[0].disabled
    accounts.set_disabled(hub, "alice", False)
    assert [accounts.session(hub, t) for t in tokens] == [None, None]  # they stay ended
    assert accounts.session(hub, signed_in(hub, "alice")[0]) is not None


def test_a_session_row_of_a_disabled_user_is_not_honoured(hub: Hub) -> None:
    """Even if a session row survived (e.g. written by a racing sign-in), the user's state
    decides."""
    info, _ = accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    token, _ = signed_in(hub, "alice")
    with hub.store.write() as tx:
        tx.set_user_disabled(info.user_id, True)
    assert accounts.session(hub, token) is None


def test_reset_password_ends_sessions_and_replaces_the_password(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    token, _ = signed_in(hub, "alice")
    new = accounts.reset_password(hub, "Alice")
    assert new != PASSWORD and len(new) >= 18
    assert accounts.session(hub, token) is None
    with pytest.raises(Unauthenticated):
        signed_in(hub, "alice")
    assert signed_in(hub, "alice", new)[1].account.username == "alice"
    with pytest.raises(NotFound, match="no user named 'nobody'"):
        accounts.reset_password(hub, "nobody")


def test_change_password(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "alice.anderson", password=PASSWORD)
    token, session = signed_in(hub, "alice.anderson")
    with pytest.raises(InvalidInput, match="current password is not right"):
        accounts.change_password(hub, session.account, "not the password", "a new long password")
    with pytest.raises(InvalidInput, match="at least 12"):
        accounts.change_password(hub, session.account, PASSWORD, "short")
    with pytest.raises(InvalidInput, match="must not be the user name"):
        accounts.change_password(hub, session.account, PASSWORD, "Alice.Anderson")
    with pytest.raises(InvalidInput, match="must differ"):
        accounts.change_password(hub, session.account, PASSWORD, PASSWORD)
    other_token, _ = signed_in(hub, "alice.anderson")  # e.g. a session somebody stole
    fresh, info = accounts.change_password(hub, session.account, PASSWORD, "a new long password")
    with pytest.raises(Unauthenticated):
        signed_in(hub, "alice.anderson")
    signed_in(hub, "alice.anderson", "a new long password")
    assert accounts.session(hub, token) is None  # every earlier session ended
    assert accounts.session(hub, other_token) is None
    assert accounts.session(hub, fresh) == info  # the caller carries on in a new one
    key = admin.create_key(hub, "First Bank")
    _, by_key = accounts.sign_in_with_key(hub, key)
    with pytest.raises(Forbidden, match="API key"):
        accounts.change_password(hub, by_key.account, PASSWORD, "another long password")


# --- sessions opened with an API key ---------------------------------------------------


def test_key_session_acts_for_the_organisation_and_ends_when_the_key_is_revoked(
    hub: Hub,
) -> None:
    key = admin.create_key(hub, "Second Bank", "browser")
    key_id = admin.key_id_of(key)
    token, session = accounts.sign_in_with_key(hub, key)
    second = admin.organisation(hub, "Second Bank")
    assert session.account == Account(second, None, None, False, key_id)
    assert session.csrf_token == accounts.csrf_token_of(token)
    assert accounts.session(hub, token) == session
    (listed,) = [k for k in admin.list_keys(hub, "Second Bank") if k.key_id == key_id]
    assert listed.last_used_at is not None
    admin.revoke_key(hub, key_id)
    assert accounts.session(hub, token) is None
    with pytest.raises(Unauthenticated, match="API key is not valid"):
        accounts.sign_in_with_key(hub, key)
    with pytest.raises(Unauthenticated):
        accounts.sign_in_with_key(hub, "sw_000000000000_" + "x" * 43)
    with pytest.raises(Unauthenticated):
        accounts.sign_in_with_key(hub, "not a key")


def test_key_sessions_have_the_same_limits(hub: Hub) -> None:
    token, _ = accounts.sign_in_with_key(hub, admin.create_key(hub, "First Bank"))
    clock(hub).value += IDLE_MINUTES * MINUTE + 1
    assert accounts.session(hub, token) is None


def test_stale_sessions_are_deleted(hub: Hub) -> None:
    accounts.add_user(hub, "First Bank", "alice", password=PASSWORD)
    for _ in range(3):
        signed_in(hub, "alice")
    clock(hub).value += IDLE_MINUTES * MINUTE + 1
    signed_in(hub, "alice")  # signing in clears expired rows
    _, rows = dump(url_of(hub))
    assert len([row for row in rows if row.table == "web_sessions"]) == 1


# --- who may manage whom -----------------------------------------------------------------


@pytest.fixture
def people(hub: Hub) -> dict[str, Account]:
    """An admin and a user in each bank, an admin of the operator organisation."""
    for org, name, is_admin in (
        ("First Bank", "first-admin", True),
        ("First Bank", "first-user", False),
        ("Second Bank", "second-admin", True),
        ("Second Bank", "second-user", False),
        ("Hub Operator", "operator-admin", True),
    ):
        accounts.add_user(hub, org, name, admin=is_admin, password=PASSWORD)
    names = ("first-admin", "first-user", "second-admin", "operator-admin")
    return {name: account(hub, name) for name in names}


def test_an_admin_manages_its_own_organisation(hub: Hub, people: dict[str, Account]) -> None:
    actor = people["first-admin"]
    info, password = accounts.add_user(hub, "First Bank", "first-new", actor=actor)
    assert info.organisation == "First Bank"
    accounts.set_admin(hub, "first-new", True, actor=actor)
    accounts.set_admin(hub, "first-new", False, actor=actor)
    new = accounts.reset_password(hub, "first-new", actor=actor)
    assert new != password
    accounts.set_disabled(hub, "first-user", True, actor=actor)
    accounts.set_disabled(hub, "first-user", False, actor=actor)
    assert [u.username for u in accounts.users_for(hub, actor)] == [
        "first-admin",
        "first-new",
        "first-user",
    ]


def test_an_admin_of_another_member_organisation_is_forbidden(
    hub: Hub, people: dict[str, Account]
) -> None:
    actor = people["second-admin"]
    with pytest.raises(Forbidden, match="your own organisation"):
        accounts.add_user(hub, "First Bank", "intruder", actor=actor)
    with pytest.raises(Forbidden):
        accounts.reset_password(hub, "first-user", actor=actor)
    with pytest.raises(Forbidden):
        accounts.set_disabled(hub, "first-user", True, actor=actor)
    with pytest.raises(Forbidden):
        accounts.set_admin(hub, "first-user", True, actor=actor)
    assert [u.username for u in accounts.list_users(hub, "First Bank")] == [
        "first-admin",
        "first-user",
    ]
    signed_in(hub, "first-user")  # password unchanged, not disabled


def test_users_who_are_not_admins_and_key_sessions_are_forbidden(
    hub: Hub, people: dict[str, Account]
) -> None:
    _, by_key = accounts.sign_in_with_key(hub, admin.create_key(hub, "First Bank"))
    for actor in (people["first-user"], by_key.account):
        with pytest.raises(Forbidden, match="admins"):
            accounts.add_user(hub, "First Bank", "someone", actor=actor)
        with pytest.raises(Forbidden):
            accounts.reset_password(hub, "first-admin", actor=actor)
        with pytest.raises(Forbidden):
            accounts.set_admin(hub, "first-user", True, actor=actor)
        with pytest.raises(Forbidden):
            accounts.set_disabled(hub, "first-admin", True, actor=actor)
        assert accounts.users_for(hub, actor) == []
    forged = replace(people["first-user"], is_admin=True)  # the stored flag decides
    with pytest.raises(Forbidden):
        accounts.add_user(hub, "First Bank", "someone", actor=forged)
    assert accounts.users_for(hub, forged) == []


def test_an_admin_whose_flag_is_removed_loses_its_rights_at_once(
    hub: Hub, people: dict[str, Account]
) -> None:
    stale = people["first-admin"]
    accounts.set_admin(hub, "first-admin", False, actor=people["operator-admin"])
    with pytest.raises(Forbidden):
        accounts.add_user(hub, "First Bank", "someone", actor=stale)
    assert accounts.users_for(hub, stale) == []


def test_an_operator_organisation_admin_manages_every_organisation(
    hub: Hub, people: dict[str, Account]
) -> None:
    actor = people["operator-admin"]
    accounts.add_user(hub, "Second Bank", "second-new", actor=actor)
    accounts.set_admin(hub, "second-user", True, actor=actor)
    accounts.reset_password(hub, "first-user", actor=actor)
    accounts.set_disabled(hub, "first-admin", True, actor=actor)
    assert len(accounts.users_for(hub, actor)) == 6
    assert {u.organisation for u in accounts.users_for(hub, actor)} == {
        "First Bank",
        "Second Bank",
        "Hub Operator",
    }
    # the operator at the command line (actor None) may do anything, too
    accounts.set_disabled(hub, "first-admin", False)


def test_admins_cannot_disable_themselves_or_drop_their_own_flag(
    hub: Hub, people: dict[str, Account]
) -> None:
    actor = people["first-admin"]
    with pytest.raises(Forbidden, match="your own account"):
        accounts.set_disabled(hub, "first-admin", True, actor=actor)
    with pytest.raises(Forbidden, match="your own admin"):
        accounts.set_admin(hub, "First-Admin", False, actor=actor)
    (me,) = [u for u in accounts.list_users(hub) if u.username == "first-admin"]
    assert me.is_admin and not me.disabled
    accounts.set_admin(hub, "first-admin", True, actor=actor)  # keeping it is fine


def test_unknown_users_are_not_found(hub: Hub, people: dict[str, Account]) -> None:
    for call in (
        lambda: accounts.set_disabled(hub, "nobody", True),
        lambda: accounts.set_admin(hub, "nobody", True, actor=people["operator-admin"]),
        lambda: accounts.reset_password(hub, "nobody", actor=people["first-admin"]),
    ):
        with pytest.raises(NotFound, match="no user named"):
            call()


# --- audit -------------------------------------------------------------------------------


def test_audit_records_user_changes_and_never_a_password(
    hub: Hub, people: dict[str, Account]
) -> None:
    actor = people["first-admin"]
    secrets = [PASSWORD]
    secrets.append(accounts.add_user(hub, "First Bank", "audited", actor=actor)[1])
    secrets.append(accounts.reset_password(hub, "audited", actor=actor))
    secrets.append(accounts.reset_password(hub, "audited"))
    accounts.set_disabled(hub, "audited", True, actor=actor)
    accounts.set_disabled(hub, "audited", False, actor=actor)
    accounts.set_admin(hub, "audited", True, actor=actor)
    token, session = signed_in(hub, "audited", secrets[-1])
    accounts.change_password(hub, session.account, secrets[-1], "yet another password")
    secrets += ["yet another password", token, session.csrf_token]
    entries = audit.entries(hub)
    actions = [(e.actor, e.action) for e in entries if e.action.startswith("user.")]
    assert ("First Bank", "user.add") in actions and ("cli", "user.add") in actions
    assert ("First Bank", "user.password_reset") in actions
    assert ("cli", "user.password_reset") in actions
    assert ("First Bank", "user.disable") in actions and ("First Bank", "user.enable") in actions
    assert ("First Bank", "user.admin") in actions
    assert ("First Bank", "user.password_change") in actions
    by_admin = [
        e
        for e in entries
        if '"audited"' in e.detail
        and e.actor == "First Bank"
        and e.action != "user.password_change"
    ]
    assert len(by_admin) == 5
    assert all('"by":"first-admin"' in e.detail for e in by_admin)
    for entry in entries:
        for secret in secrets:
            assert secret not in entry.detail and secret not in entry.actor
    assert audit.verify(hub).problems == []
