"""The one error tree of Shieldwall.

    ShieldwallError
     ├── InvalidInput            bad request data (malformed JSON, bad filter, bad token)
     │    ├── InvalidStix        an object that is not valid STIX 2.1 (carries object_id)
     │    ├── PatternSyntaxError a STIX pattern that does not parse (carries position)
     │    └── Unprocessable      well-formed, but refused as it stands (carries details)
     ├── NotFound                absent, or not visible to the reader (indistinguishable)
     ├── Unauthenticated         no key, or a key that is unknown or revoked
     ├── Forbidden               authenticated, but the action is not allowed
     ├── Conflict                the action clashes with stored state (e.g. a duplicate name)
     ├── RateLimited             a quota or rate limit is exhausted for now
     ├── PayloadTooLarge         a body over the advertised limit
     ├── NotAcceptable           the client accepts none of the media types we can produce
     └── UnsupportedMediaType    the request body's media type is not one we read

Domain errors carry structured attributes; ``web/errors.py`` alone maps them to HTTP,
``cli/`` alone maps them to exit codes.
"""

from __future__ import annotations


class ShieldwallError(Exception):
    """Base of every error Shieldwall raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ShieldwallError):
    """The caller sent data we cannot accept; ``message`` says what is wrong."""


class InvalidStix(InvalidInput):
    """An object is not valid STIX 2.1.

    ``object_id`` is the object's id when it had a usable one, else ``None``.
    """

    def __init__(self, message: str, object_id: str | None = None) -> None:
        super().__init__(message)
        self.object_id = object_id


class PatternSyntaxError(InvalidInput):
    """A STIX pattern does not parse; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position})")
        self.position = position
        self.reason = message


class Unprocessable(InvalidInput):
    """Well-formed input the hub refuses to act on as it stands; ``details`` lists every
    reason as plain data (e.g. each place an advisory would betray a victim), so the
    caller can fix them all at once."""

    def __init__(self, message: str, details: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.details = details


class NotFound(ShieldwallError):
    """The thing does not exist, or the reader may not see it (deliberately the same)."""


class Unauthenticated(ShieldwallError):
    """No credentials, or credentials that are unknown or revoked."""


class Forbidden(ShieldwallError):
    """The caller is known but may not perform this action."""


class Conflict(ShieldwallError):
    """The action clashes with stored state."""


class PayloadTooLarge(ShieldwallError):
    """The request body is larger than the advertised ``max_content_length``."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class NotAcceptable(ShieldwallError):
    """None of the media types in ``Accept`` can be produced."""


class UnsupportedMediaType(ShieldwallError):
    """The request body's ``Content-Type`` is not one this route reads."""


class RateLimited(ShieldwallError):
    """A quota or rate limit is exhausted; ``retry_after`` seconds, when known."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
