"""The matcher's inputs and outputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shieldwall.domain.errors import InvalidInput

__all__ = ["Match", "Observation", "Rejection"]


@dataclass(frozen=True, slots=True)
class Observation:
    """One observed-data object: its cyber-observable objects and when they were seen.

    ``objects`` maps object keys ("0", "1", …) to SCOs as parsed JSON (``*_ref``/``*_refs``
    properties name other keys of the same mapping), as stix2-matcher takes STIX 2.0
    observed-data.  Times are microseconds since the epoch; the observation stands for
    ``number_observed`` instances, each of which can be bound to one ``[...]`` of a pattern.
    Raises ``InvalidInput`` if ``number_observed`` < 1 or ``first_observed`` > ``last_observed``.
    """

    objects: Mapping[str, Mapping[str, object]]
    first_observed: int
    last_observed: int
    number_observed: int = 1

    def __post_init__(self) -> None:
        if self.number_observed < 1:
            raise InvalidInput(f"number_observed must be at least 1, not {self.number_observed}")
        if self.first_observed > self.last_observed:
            raise InvalidInput("first_observed is after last_observed")


@dataclass(frozen=True, slots=True)
class Match:
    """A pattern that matched: its indicator and the observations (indexes into the sequence
    given to ``Matcher.match``, ascending) of the first binding found, as stix2-matcher finds it.
    """

    indicator_id: str
    observations: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A pattern ``Matcher.compile`` refused, and why."""

    indicator_id: str
    reason: str
