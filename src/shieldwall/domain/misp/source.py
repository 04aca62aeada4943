"""Reading MISP JSON: the forms events come in, and the attributes inside them.

Contract: :func:`parse_events` accepts bytes or text (UTF-8 JSON, a BOM is allowed) or an
already parsed value, in any of the forms MISP produces:

* ``{"Event": {...}}`` (feeds, event downloads),
* ``{"response": [{"Event": {...}}, ...]}`` (the search API; ``response`` may also be a
  single ``{"Event": ...}``),
* a list of ``{"Event": {...}}`` wrappers or of bare events,
* a bare event (a JSON object with a ``uuid`` and one of ``info``, ``Attribute``,
  ``Object``, ``date``).

It returns the event objects in order (an empty ``response`` gives ``[]``) and raises
:class:`~shieldwall.domain.errors.InvalidInput` saying what is wrong otherwise, e.g.
``not JSON: line 37374 column 9: Expecting value`` or ``not a MISP event: no Event``.
:func:`attributes` walks an event's attributes, top level first, then those of each
``Object`` in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.misp.common import flag, text

_EVENT_KEYS = ("info", "Attribute", "Object", "date")


@dataclass(frozen=True, slots=True)
class AttributeSite:
    """An attribute and where it sits: the enclosing MISP object, if any."""

    attribute: object
    object_name: str | None = None
    object_uuid: str | None = None
    object_deleted: bool = False


def parse_events(data: object) -> list[Mapping[str, object]]:
    """The MISP events in ``data`` (see the module docstring)."""
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidInput(f"not UTF-8 text: byte {error.start}: {error.reason}") from None
    if isinstance(data, str):
        try:
            data = json.loads(data.removeprefix("\ufeff"))
        except json.JSONDecodeError as error:
            raise InvalidInput(
                f"not JSON: line {error.lineno} column {error.colno}: {error.msg}"
            ) from None
        except RecursionError:
            raise InvalidInput("not JSON that can be read: nested too deeply") from None
    return _events(data)


def _events(data: object) -> list[Mapping[str, object]]:
    if isinstance(data, list):
        return [_event(item, f"item {index}") for index, item in enumerate(data)]
    if not isinstance(data, dict):
        raise InvalidInput(f"not a MISP event: expected a JSON object, found {_kind(data)}")
    if "response" in data:
        response = data["response"]
        if isinstance(response, list):
            return [_event(item, f"response item {index}") for index, item in enumerate(response)]
        if isinstance(response, dict):
            return [_event(response, "response")]
        raise InvalidInput(f"not a MISP event: response is {_kind(response)}, not a list")
    return [_event(data, "the document")]


def _event(item: object, where: str) -> Mapping[str, object]:
    if not isinstance(item, dict):
        raise InvalidInput(f"not a MISP event: {where} is {_kind(item)}, not an object")
    event = item.get("Event", item if _is_bare_event(item) else None)
    if event is None:
        keys = ", ".join(sorted(str(key) for key in item)[:8]) or "none"
        raise InvalidInput(f"not a MISP event: no Event in {where} (its keys: {keys})")
    if not isinstance(event, dict):
        raise InvalidInput(f"not a MISP event: Event in {where} is {_kind(event)}")
    uuid = event.get("uuid")
    if not (isinstance(uuid, str) and uuid.strip()):
        raise InvalidInput(f"not a MISP event: the Event in {where} has no uuid")
    for key in ("Attribute", "Object", "Tag", "Galaxy"):
        if event.get(key) is not None and not isinstance(event[key], list):
            raise InvalidInput(
                f"not a MISP event: {key} of event {uuid} is {_kind(event[key])}, not a list"
            )
    return event


def _is_bare_event(item: Mapping[str, object]) -> bool:
    return isinstance(item.get("uuid"), str) and any(key in item for key in _EVENT_KEYS)


def attributes(event: Mapping[str, object]) -> Iterator[AttributeSite]:
    """Every attribute of ``event``: top level, then inside each ``Object``."""
    top = event.get("Attribute")
    for attribute in top if isinstance(top, list) else []:
        yield AttributeSite(attribute)
    objects = event.get("Object")
    for misp_object in objects if isinstance(objects, list) else []:
        if not isinstance(misp_object, dict):
            continue
        inner = misp_object.get("Attribute")
        name = text(misp_object.get("name"))
        uuid = text(misp_object.get("uuid"))
        deleted = flag(misp_object.get("deleted"))
        for attribute in inner if isinstance(inner, list) else []:
            yield AttributeSite(attribute, name or "object", uuid, deleted)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
