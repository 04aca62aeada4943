"""The three attribution modes of a submission (architecture.md §4).

| mode | who knows the submitter |
|---|---|
| ``attributed`` | everyone who may read it: ``created_by_ref`` is the organisation's identity |
| ``anonymous`` | the hub (sealed, operators only, audited), no member |
| ``unlinkable`` | nobody, the hub included (one-time blind tokens) |
"""

from __future__ import annotations

from enum import StrEnum

from shieldwall.domain.errors import InvalidInput


class Attribution(StrEnum):
    """How a submission is attributed."""

    ATTRIBUTED = "attributed"
    ANONYMOUS = "anonymous"
    UNLINKABLE = "unlinkable"

    @classmethod
    def parse(cls, text: str) -> Attribution:
        """Parse a mode name; raise ``InvalidInput`` listing the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(mode.value for mode in cls)
            raise InvalidInput(f"unknown attribution {text!r}: choose one of {choices}") from None
