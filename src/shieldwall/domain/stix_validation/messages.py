"""Messages and the one way validation fails.

Checkers return a message (without the object id) or None; :func:`_fail` raises
:class:`~shieldwall.domain.errors.InvalidStix` with the id prefixed.  Messages describe JSON
values by their JSON type ("a string", "null" …), as STIX 2.1 §2 names the data types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NoReturn

from shieldwall.domain.errors import InvalidStix

_JSON_TYPE_NAMES: Final[Mapping[type, str]] = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}


def _kind(value: object) -> str:
    """The JSON type of ``value`` for messages ("a string", "null" …)."""
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _fail(message: str, object_id: str | None) -> NoReturn:
    raise InvalidStix(f"{object_id}: {message}" if object_id else message, object_id)


def _list_problem(value: object, name: str, what: str) -> str:
    if isinstance(value, list):
        return f"{name} must not be an empty list (omit the property instead)"
    return f"{name} must be a list of {what}, not {_kind(value)}"
