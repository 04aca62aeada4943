"""Web user accounts and server-side sessions: the layer under the web interface.

**Users.** Each user belongs to one organisation. User names are unique across the hub
whatever their case and stored in lower case (``domain.accounts.parse_username``).
Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher`` defaults), outside any
transaction, and are never stored, logged or audited in clear; a hash made with weaker
parameters than the current defaults is replaced at the next successful sign-in.

**Who manages users.** The operator at the command line (``actor=None``) manages everyone;
an organisation's admins manage its own users; admins of an organisation whose role is
``operator`` manage every organisation's users. The actor's admin flag and organisation
are read again from storage on every call, so a removed flag takes effect at once. Adding
users, resetting passwords, disabling, enabling and changing the admin flag are audited.

**Sessions.** Signing in (with a user name and password, or with an API key) returns a
token (``hub.ids.secret(32)``) for the browser's cookie; only its SHA-256 (hex) is stored.
A session ends after ``session_idle_minutes`` without use (each use slides this, written at
most once a minute) and ``session_max_hours`` after sign-in however active; also when its
user is disabled or gets a new password, when its key is revoked, or when its organisation
is gone. ``csrf_token_of`` derives the session's CSRF token from its token (never stored).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shieldwall.domain.accounts import (
    HOUR,
    MINUTE,
    PASSWORD_MAX,
    USERNAME_PATTERN,
    check_password,
    parse_username,
    session_end,
)
from shieldwall.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.services import audit
from shieldwall.services.admin import authenticate, key_id_of
from shieldwall.services.context import Hub
from shieldwall.services.ports import ReadTx, UserRecord, WebSessionRecord, WriteTx

SIGN_IN_FAILED = "wrong user name or password"
GENERATED_PASSWORD_BYTES = 18
SESSION_TOKEN_BYTES = 32
TOUCH_INTERVAL = MINUTE  # a session's last use is written at most this often
_HASHER = PasswordHasher()


@dataclass(frozen=True, slots=True)
class Account:
    """Who a web session acts for: a user of ``organisation`` (``username``, ``user_id``,
    ``is_admin``), or, for a session opened with an API key, the key's organisation
    (``key_id`` set, no user, never admin)."""

    organisation: Organisation
    username: str | None
    user_id: int | None
    is_admin: bool
    key_id: str | None


@dataclass(frozen=True, slots=True)
class UserInfo:
    """What may be shown about a user (never the password or its hash); times in µs."""

    user_id: int
    username: str
    organisation: str
    is_admin: bool
    disabled: bool
    created_at: int
    last_sign_in: int | None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session: who it acts for, its CSRF token, and when it ends unless used again
    (µs: the idle timeout, or the absolute limit when that comes first)."""

    account: Account
    csrf_token: str
    expires_at: int


def csrf_token_of(token: str) -> str:
    """The CSRF token of the session ``token``: hex SHA-256 of ``"csrf:" + token``."""
    return hashlib.sha256(f"csrf:{token}".encode()).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user is unknown, so that answer takes as long."""
    return _HASHER.hash("no such user: this hash only spends the time a real check takes")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _limits(hub: Hub) -> tuple[int, int]:
    """(idle, absolute) session limits in µs."""
    return hub.config.session_idle_minutes * MINUTE, hub.config.session_max_hours * HOUR


def _end(hub: Hub, created_at: int, last_seen: int) -> int:
    return session_end(
        created_at, last_seen, hub.config.session_idle_minutes, hub.config.session_max_hours
    )


def _info(user: UserRecord, org_name: str) -> UserInfo:
    return UserInfo(
        user_id=user.id,
        username=user.username,
        organisation=org_name,
        is_admin=user.is_admin,
        disabled=user.disabled,
        created_at=user.created_at,
        last_sign_in=user.last_sign_in,
    )


def _infos(tx: ReadTx, records: list[UserRecord]) -> list[UserInfo]:
    names = {org.id: org.name for org in tx.organisations()}
    return [_info(user, names.get(user.org_id, "")) for user in records]


def audit_actor(account: Account) -> str:
    """How the audit trail names what ``account`` does: ``Organisation (user name)``, or
    ``Organisation (API key <id>)`` for a key session."""
    who = account.username if account.username else f"API key {account.key_id}"
    return f"{account.organisation.name} ({who})"


def _actor_name(actor: Account | None) -> str:
    return "cli" if actor is None else actor.organisation.name


def _by(actor: Account | None) -> dict[str, object]:
    return {} if actor is None or actor.username is None else {"by": actor.username}


def _admin_organisation(tx: ReadTx, actor: Account) -> Organisation | None:
    """The organisation ``actor`` is an admin of, as stored now (None: not an admin)."""
    if not actor.is_admin or actor.user_id is None:
        return None
    current = tx.user(actor.user_id)
    if current is None or current.disabled or not current.is_admin:
        return None
    return tx.organisation(current.org_id)


def _check_manages(tx: ReadTx, actor: Account | None, target: Organisation) -> None:
    """Raise ``Forbidden`` unless ``actor`` may manage the users of ``target``."""
    if actor is None:
        return
    own = _admin_organisation(tx, actor)
    if own is None:
        raise Forbidden("only an organisation's admins manage its users")
    if own.id != target.id and own.role is not Role.OPERATOR:
        raise Forbidden("you may manage only your own organisation's users")


def _find_user(tx: ReadTx, username: str) -> tuple[UserRecord, Organisation]:
    user = tx.user_by_name(username.strip().lower())
    organisation = None if user is None else tx.organisation(user.org_id)
    if user is None or organisation is None:
        raise NotFound(f"no user named {username!r}")
    return user, organisation


def add_user(
    hub: Hub,
    org_name: str,
    username: str,
    *,
    admin: bool = False,
    actor: Account | None = None,
    password: str | None = None,
) -> tuple[UserInfo, str]:
    """Add a user to an organisation; return it with its password: ``password`` when
    given, else a generated one (``hub.ids.secret(18)``) to be shown once.

    Raises ``InvalidInput`` for a bad user name or password (saying why), ``NotFound`` for
    an unknown organisation, ``Forbidden`` when ``actor`` may not manage its users and
    ``Conflict`` when the user name is taken (in any case).
    """
    name = parse_username(username)
    secret = password if password is not None else hub.ids.secret(GENERATED_PASSWORD_BYTES)
    check_password(secret, name)
    hashed = _HASHER.hash(secret)
    with hub.store.write() as tx:
        organisation = tx.organisation_by_name(org_name)
        if organisation is None:
            raise NotFound(f"no organisation named {org_name!r}")
        _check_manages(tx, actor, organisation)
        if tx.user_by_name(name) is not None:
            raise Conflict(f"the user name {name!r} is taken")
        now = hub.clock.now()
        user_id = tx.add_user(organisation.id, name, hashed, admin, now)
        audit.record(
            tx,
            now,
            _actor_name(actor),
            "user.add",
            {"organisation": organisation.name, "user": name, "admin": admin, **_by(actor)},
        )
    return UserInfo(user_id, name, organisation.name, admin, False, now, None), secret


def list_users(hub: Hub, org_name: str | None = None) -> list[UserInfo]:
    """Users of one organisation, or of all (``None``), by user name (the operator's
    view; ``NotFound`` for an unknown organisation)."""
    with hub.store.read() as tx:
        org_id = None
        if org_name is not None:
            organisation = tx.organisation_by_name(org_name)
            if organisation is None:
                raise NotFound(f"no organisation named {org_name!r}")
            org_id = organisation.id
        return _infos(tx, tx.users(org_id))


def users_for(hub: Hub, actor: Account) -> list[UserInfo]:
    """The users ``actor`` may manage, by user name: its own organisation's for an admin,
    every organisation's for an admin of an operator organisation, none for anyone else
    (users who are not admins and key sessions)."""
    with hub.store.read() as tx:
        own = _admin_organisation(tx, actor)
        if own is None:
            return []
        return _infos(tx, tx.users(None if own.role is Role.OPERATOR else own.id))


def reset_password(hub: Hub, username: str, actor: Account | None = None) -> str:
    """Give a user a new generated password (returned, to be shown once) and end all its
    sessions. ``NotFound`` for an unknown user, ``Forbidden`` when ``actor`` may not manage
    it."""
    secret = hub.ids.secret(GENERATED_PASSWORD_BYTES)
    hashed = _HASHER.hash(secret)
    with hub.store.write() as tx:
        user, organisation = _find_user(tx, username)
        _check_manages(tx, actor, organisation)
        check_password(secret, user.username)
        tx.set_user_password(user.id, hashed)
        ended = tx.delete_user_sessions(user.id)
        audit.record(
            tx,
            hub.clock.now(),
            _actor_name(actor),
            "user.password_reset",
            {
                "organisation": organisation.name,
                "user": user.username,
                "sessions_ended": ended,
                **_by(actor),
            },
        )
    return secret


def change_password(hub: Hub, account: Account, current: str, new: str) -> tuple[str, SessionInfo]:
    """Change the signed-in user's own password after checking ``current``; every session
    of the user ends (a stolen session dies with the old password) and a new one is opened
    for the caller: ``(token, info)`` as from ``sign_in``.

    Raises ``Forbidden`` for a session opened with an API key, ``Unauthenticated`` when the
    user is gone or disabled, ``InvalidInput`` when ``current`` is wrong or ``new`` breaks a
    rule (or equals ``current``) and ``Conflict`` if the password changed meanwhile.
    """
    if account.user_id is None:
        raise Forbidden("a session opened with an API key has no password to change")
    with hub.store.read() as tx:
        user = tx.user(account.user_id)
    if user is None or user.disabled:
        raise Unauthenticated("the account is no longer active; sign in again")
    if len(current) > PASSWORD_MAX or not _verify(user.password_hash, current):
        raise InvalidInput("the current password is not right")
    check_password(new, user.username)
    if new == current:
        raise InvalidInput("the new password must differ from the current one")
    hashed = _HASHER.hash(new)
    with hub.store.write() as tx:
        again = tx.user(user.id)
        if again is None or again.disabled:
            raise Unauthenticated("the account is no longer active; sign in again")
        if again.password_hash != user.password_hash:
            raise Conflict("the password was changed meanwhile; sign in again and retry")
        tx.set_user_password(user.id, hashed)
        tx.delete_user_sessions(user.id)
        now = hub.clock.now()
        audit.record(
            tx, now, account.organisation.name, "user.password_change", {"user": user.username}
        )
        token = hub.ids.secret(32)
        return token, _open_session(tx, hub, token, account, now)


def set_disabled(hub: Hub, username: str, disabled: bool, actor: Account | None = None) -> None:
    """Disable a user (it can no longer sign in and its sessions end at once) or enable it
    again. ``NotFound`` for an unknown user; ``Forbidden`` when ``actor`` may not manage it
    or tries to disable itself."""
    with hub.store.write() as tx:
        user, organisation = _find_user(tx, username)
        _check_manages(tx, actor, organisation)
        if disabled and actor is not None and actor.user_id == user.id:
            raise Forbidden("you cannot disable your own account")
        tx.set_user_disabled(user.id, disabled)
        detail: dict[str, object] = {"organisation": organisation.name, "user": user.username}
        if disabled:
            detail["sessions_ended"] = tx.delete_user_sessions(user.id)
        audit.record(
            tx,
            hub.clock.now(),
            _actor_name(actor),
            "user.disable" if disabled else "user.enable",
            {**detail, **_by(actor)},
        )


def set_admin(hub: Hub, username: str, admin: bool, actor: Account | None = None) -> None:
    """Give or take a user's admin flag (managing its organisation's users, keys and
    assets). ``NotFound`` for an unknown user; ``Forbidden`` when ``actor`` may not manage
    it or tries to remove its own flag."""
    with hub.store.write() as tx:
        user, organisation = _find_user(tx, username)
        _check_manages(tx, actor, organisation)
        if not admin and actor is not None and actor.user_id == user.id:
            raise Forbidden("you cannot remove your own admin rights")
        tx.set_user_admin(user.id, admin)
        audit.record(
            tx,
            hub.clock.now(),
            _actor_name(actor),
            "user.admin",
            {
                "organisation": organisation.name,
                "user": user.username,
                "admin": admin,
                **_by(actor),
            },
        )


def _open_session(tx: WriteTx, hub: Hub, token: str, account: Account, now: int) -> SessionInfo:
    _, absolute = _limits(hub)
    tx.delete_stale_web_sessions(now, now - absolute)
    expires = _end(hub, now, now)
    tx.add_web_session(
        WebSessionRecord(
            token_hash=_token_hash(token),
            user_id=account.user_id,
            key_id=account.key_id,
            org_id=account.organisation.id,
            created_at=now,
            last_seen=now,
            expires_at=expires,
        )
    )
    return SessionInfo(account, csrf_token_of(token), expires)


def sign_in(hub: Hub, username: str, password: str) -> tuple[str, SessionInfo]:
    """Open a session for a user; return its token (for the cookie, never stored) and the
    session. An unknown user, a wrong password and a disabled user all raise
    ``Unauthenticated("wrong user name or password")``, after an equally slow check.
    Records the sign-in time, and re-hashes the password if its hash is outdated."""
    name = username.strip().lower()
    user = None
    if USERNAME_PATTERN.match(name):  # else no such user (and no odd text sent to the database)
        with hub.store.read() as tx:
            user = tx.user_by_name(name)
    if user is None or len(password) > PASSWORD_MAX:
        _verify(_dummy_hash(), password[:PASSWORD_MAX])
        raise Unauthenticated(SIGN_IN_FAILED)
    if not _verify(user.password_hash, password) or user.disabled:
        raise Unauthenticated(SIGN_IN_FAILED)
    rehashed = _HASHER.hash(password) if _HASHER.check_needs_rehash(user.password_hash) else None
    token = hub.ids.secret(SESSION_TOKEN_BYTES)
    with hub.store.write() as tx:
        current = tx.user(user.id)
        if current is None or current.disabled or current.password_hash != user.password_hash:
            raise Unauthenticated(SIGN_IN_FAILED)  # changed while we checked
        organisation = tx.organisation(current.org_id)
        if organisation is None:
            raise Unauthenticated(SIGN_IN_FAILED)
        now = hub.clock.now()
        if rehashed is not None:
            tx.set_user_password(current.id, rehashed)
        tx.set_user_signed_in(current.id, now)
        account = Account(organisation, current.username, current.id, current.is_admin, None)
        info = _open_session(tx, hub, token, account, now)
    return token, info


def sign_in_with_key(hub: Hub, api_key: str) -> tuple[str, SessionInfo]:
    """Open a session acting for an API key's organisation (no user, not an admin); it ends
    when the key is revoked. ``Unauthenticated`` for a malformed, unknown or revoked key."""
    authenticate(hub, api_key)
    key_id = key_id_of(api_key)
    token = hub.ids.secret(SESSION_TOKEN_BYTES)
    with hub.store.write() as tx:
        record = tx.key(key_id)
        if record is None or record.revoked:
            raise Unauthenticated("the API key is not valid")
        now = hub.clock.now()
        tx.touch_key(key_id, now)
        account = Account(record.organisation, None, None, False, key_id)
        info = _open_session(tx, hub, token, account, now)
    return token, info


def _account_of(tx: ReadTx, row: WebSessionRecord) -> Account | None:
    """Who the session acts for now, or None when its user, key or organisation no
    longer qualifies."""
    organisation = tx.organisation(row.org_id)
    if organisation is None:
        return None
    if row.user_id is not None:
        user = tx.user(row.user_id)
        if user is None or user.disabled or user.org_id != organisation.id:
            return None
        return Account(organisation, user.username, user.id, user.is_admin, None)
    if row.key_id is not None:
        key = tx.key(row.key_id)
        if key is None or key.revoked or key.organisation.id != organisation.id:
            return None
        return Account(organisation, None, None, False, row.key_id)
    return None


def session(hub: Hub, token: str) -> SessionInfo | None:
    """The live session of ``token``, or None when it is unknown, has been idle too long,
    is past its absolute limit, or its user is disabled or gone, its key revoked or its
    organisation gone (such a session is deleted). Using a session slides its idle expiry;
    the new time is written at most once a minute."""
    if not token:
        return None
    digest = _token_hash(token)
    with hub.store.read() as tx:
        row = tx.web_session(digest)
        account = None if row is None else _account_of(tx, row)
    if row is None:
        return None
    now = hub.clock.now()
    idle, absolute = _limits(hub)
    alive = (
        account is not None
        and now < row.expires_at
        and now < row.last_seen + idle
        and now < row.created_at + absolute
    )
    if not alive or account is None:
        with hub.store.write() as tx:
            tx.delete_web_session(digest)
        return None
    if now - row.last_seen >= TOUCH_INTERVAL:
        expires = _end(hub, row.created_at, now)
        with hub.store.write() as tx:
            tx.touch_web_session(digest, now, expires)
    else:
        expires = min(row.expires_at, _end(hub, row.created_at, row.last_seen))
    return SessionInfo(account, csrf_token_of(token), expires)


def sign_out(hub: Hub, token: str) -> None:
    """End the session of ``token`` (nothing happens when there is none)."""
    with hub.store.write() as tx:
        tx.delete_web_session(_token_hash(token))
