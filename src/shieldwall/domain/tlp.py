"""Traffic Light Protocol 2.0 as STIX 2.1 marking definitions.

The marking-definition ids are the official ones (FIRST TLP 2.0 and STIX 2.1 §7.2.1.4);
TLP 1.0 ids are accepted on input and mapped (WHITE→CLEAR, GREEN→GREEN, AMBER→AMBER,
RED→RED). Levels are ordered by restriction so the most restrictive of several wins.
"""

from __future__ import annotations

from enum import IntEnum

from shieldwall.domain.errors import InvalidInput


class Tlp(IntEnum):
    """TLP levels, ordered from least to most restrictive."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        """The human label, e.g. ``TLP:AMBER+STRICT``."""
        return "TLP:" + self.name.replace("_", "+")

    @property
    def marking_id(self) -> str:
        """The TLP 2.0 ``marking-definition`` id for this level."""
        return TLP2_MARKING_IDS[self]

    @classmethod
    def parse(cls, text: str) -> Tlp:
        """Parse ``clear``, ``TLP:AMBER+STRICT``, ``amber-strict``, ``white`` (TLP 1.0) …"""
        key = text.strip().upper().removeprefix("TLP:").replace("+", "_").replace("-", "_")
        if key == "WHITE":
            key = "CLEAR"
        try:
            return cls[key]
        except KeyError:
            raise InvalidInput(
                f"unknown TLP level {text!r}: use clear, green, amber, amber+strict or red"
            ) from None


TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

TLP2_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

TLP1_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    Tlp.GREEN: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    Tlp.AMBER: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    Tlp.RED: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

MARKING_TO_TLP: dict[str, Tlp] = {
    **{marking: level for level, marking in TLP2_MARKING_IDS.items()},
    **{marking: level for level, marking in TLP1_MARKING_IDS.items()},
}

_TLP2_CREATED = "2022-10-01T00:00:00.000Z"
_TLP2_NAMES = {
    Tlp.CLEAR: "clear",
    Tlp.GREEN: "green",
    Tlp.AMBER: "amber",
    Tlp.AMBER_STRICT: "amber+strict",
    Tlp.RED: "red",
}


def tlp2_marking_definition(level: Tlp) -> dict[str, object]:
    """The official TLP 2.0 marking-definition object for ``level`` (FIRST, STIX 2.1 form)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[level],
        "created": _TLP2_CREATED,
        "name": level.label,
        "extensions": {
            TLP2_EXTENSION_ID: {
                "extension_type": "property-extension",
                "tlp_2_0": _TLP2_NAMES[level],
            }
        },
    }


def tlp_from_markings(marking_refs: object) -> Tlp | None:
    """The most restrictive TLP level among ``object_marking_refs``, or ``None`` if none is TLP.

    Non-TLP marking references are ignored here (they travel with the object unchanged).
    """
    if not isinstance(marking_refs, list):
        return None
    found: Tlp | None = None
    for ref in marking_refs:
        level = MARKING_TO_TLP.get(ref) if isinstance(ref, str) else None
        if level is not None and (found is None or level > found):
            found = level
    return found


def normalise_markings(marking_refs: object, level: Tlp) -> list[str]:
    """``object_marking_refs`` with every TLP reference replaced by the single TLP 2.0 id of
    ``level``; other markings keep their order. This is how objects leave the hub: always
    explicitly marked, in TLP 2.0."""
    others = [
        ref
        for ref in (marking_refs if isinstance(marking_refs, list) else [])
        if isinstance(ref, str) and ref not in MARKING_TO_TLP
    ]
    return [level.marking_id, *others]
