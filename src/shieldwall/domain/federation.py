"""Federation with partner hubs: partner settings, checks and back-off (pure).

What may cross is decided by ``domain.policy.may_leave`` (architecture.md §3): CLEAR
always, GREEN only with community scope, to partner hubs only; AMBER, AMBER+STRICT and
RED never. ``services.federation`` applies it to every object pushed *and* to every object
pulled (a partner must not hand us what its own hub should not have let out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.policy import AccessLabel, Destination, may_leave
from shieldwall.domain.scope import Scope
from shieldwall.domain.tlp import Tlp

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,299}$")
PULL = "pull"
PUSH = "push"


class SyncDirection(StrEnum):
    """Which way a partner exchanges objects with this hub."""

    PULL = "pull"
    PUSH = "push"
    BOTH = "both"

    @property
    def legs(self) -> tuple[str, ...]:
        """The legs one pass runs, pull first."""
        if self is SyncDirection.BOTH:
            return (PULL, PUSH)
        return (self.value,)

    @classmethod
    def parse(cls, text: str) -> SyncDirection:
        """``InvalidInput`` for anything but pull, push or both."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidInput(f"direction must be pull, push or both, not {text!r}") from None


@dataclass(frozen=True, slots=True)
class FederationConfig:
    """Federation settings (docs/configuration.md): pass interval of the server's loop
    (0: none), back-off after a failed pass (base doubled per consecutive failure, capped),
    HTTP timeout and page size."""

    sync_interval_seconds: int = 300
    retry_base_seconds: int = 60
    retry_max_seconds: int = 3600
    timeout_seconds: float = 30.0
    page_size: int = 500


def retry_delay(failures: int, base_seconds: int, cap_seconds: int) -> int:
    """Seconds to wait after ``failures`` consecutive failed passes (≥ 1): base × 2^(n-1),
    at most ``cap_seconds``."""
    return int(min(cap_seconds, base_seconds * 2 ** max(0, failures - 1)))


def may_cross(tlp: Tlp, scope: Scope) -> bool:
    """Whether an object so labelled may go to (or come from) a partner hub."""
    return may_leave(AccessLabel(tlp, scope, None), Destination.PARTNER_HUB)


def check_name(name: str) -> str:
    """A partner name: 1-100 letters, digits, spaces, ``.``, ``_``, ``-``."""
    clean = name.strip()
    if not _NAME.match(clean):
        raise InvalidInput(
            f"partner name {name!r}: use 1-100 letters, digits, spaces, '.', '_' or '-'"
        )
    return clean


def check_api_root(url: str) -> str:
    """An http(s) TAXII API root URL without credentials, normalised to end in ``/``."""
    clean = url.strip()
    parts = urlsplit(clean)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(clean) > 2000:
        raise InvalidInput(f"{url!r} is not an http(s) URL of a TAXII API root")
    if parts.username or parts.password:
        raise InvalidInput("give credentials with --key or --user/--password, not in the URL")
    if parts.query or parts.fragment:
        raise InvalidInput(f"{url!r}: a TAXII API root URL has no query or fragment")
    return clean if clean.endswith("/") else clean + "/"


def check_collection(value: str, what: str) -> str:
    """A collection id or alias (letters, digits, ``.``, ``_``, ``-``)."""
    clean = value.strip()
    if not _COLLECTION.match(clean):
        raise InvalidInput(f"{what} {value!r} is not a collection id or alias")
    return clean


def check_types(types: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """STIX type names (lower case, as in STIX ids); an empty list means every type."""
    clean = tuple(sorted({t.strip() for t in types if t.strip()}))
    for name in clean:
        if not _TYPE.match(name):
            raise InvalidInput(f"{name!r} is not a STIX type name")
    return clean
