"""Web user accounts: the rules for user names, passwords and session lifetimes (pure).

User names are unique across the hub whatever their case, so they are kept in lower case.
Hashing, secrets and the clock live in ``services/accounts.py``; this module only decides.
"""

from __future__ import annotations

import re

from shieldwall.domain.errors import InvalidInput

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
PASSWORD_MIN = 12
PASSWORD_MAX = 1024
MINUTE = 60_000_000  # µs
HOUR = 60 * MINUTE


def parse_username(text: str) -> str:
    """The stored form of a user name: trimmed and lower-cased, 3-64 characters of a-z,
    0-9, ``.``, ``_``, ``@`` and ``-``, starting with a letter or digit. Raises
    ``InvalidInput`` saying so otherwise."""
    name = text.strip().lower()
    if not USERNAME_PATTERN.match(name):
        raise InvalidInput(
            f"user name {text!r} must be 3-64 characters of a-z, 0-9, '.', '_', '@' or '-',"
            " starting with a letter or digit"
        )
    return name


def check_password(password: str, username: str) -> None:
    """Accept a password of 12-1024 characters that is not the user name (in any case);
    raise ``InvalidInput`` saying which rule it breaks. The text is never echoed."""
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"the password must be at least {PASSWORD_MIN} characters long")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"the password must be at most {PASSWORD_MAX} characters long")
    if password.strip().lower() == username.strip().lower():
        raise InvalidInput("the password must not be the user name")


def session_end(created_at: int, last_seen: int, idle_minutes: int, max_hours: int) -> int:
    """When a session ends unless it is used again (µs): ``idle_minutes`` after it was
    last seen, but never later than ``max_hours`` after it was opened."""
    return min(last_seen + idle_minutes * MINUTE, created_at + max_hours * HOUR)
