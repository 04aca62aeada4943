"""Exercises (Quantum-Dawn style): the scenario format, the STIX an inject becomes, the
measurement of responses, scoring, and the after-action report with hand-drawn SVG charts.

Pure: no clock, storage or I/O. ``services/exercises.py`` supplies times and reads.

Contracts:

- ``parse_scenario`` accepts YAML text and returns a ``Scenario`` or raises
  ``ScenarioError`` whose message names the line and the field (``line 12: injects[2].at:
  ...``). Participant names are checked against the hub by the service
  (``Scenario.lines`` keeps where each participant was written).
- Every object ``inject_objects`` makes carries the EXERCISE marking
  (``EXERCISE_MARKING_ID``) beside its TLP marking, the watermark ``[EXERCISE <run>]`` in
  its name or content, and ``labels: ["exercise"]``.
- Times in measurement are *scenario seconds*: real elapsed time since the start × speed.
- Every text placed in HTML or SVG passes ``html.escape``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml  # type: ignore[import-untyped]

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.tlp import Tlp

EXERCISE_MARKING_ID = "marking-definition--3f0b7c2e-9d4a-4e51-8b6f-1a2c3d4e5f60"
EXERCISE_STATEMENT = "EXERCISE — SIMULATED, NOT REAL INTELLIGENCE"
EXERCISE_LABEL = "exercise"
MAX_INJECTS = 200
MAX_TEXT = 20_000
_OFFSET = re.compile(r"^\+?\s*(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class ScenarioError(InvalidInput):
    """A scenario that cannot be run; the message names the line and the field."""


class InjectKind(StrEnum):
    """What an inject is: a government advisory, indicators, a victim notification (TLP:RED
    to one participant) or a market-impact message."""

    ADVISORY = "advisory"
    INDICATOR = "indicator"
    NOTIFICATION = "notification"
    MARKET = "market"


class Action(StrEnum):
    """What a participant does in response to an inject."""

    ACKNOWLEDGE = "acknowledge"
    SIGHTING = "sighting"
    SHARE = "share"


@dataclass(frozen=True, slots=True)
class Inject:
    """One timed inject. ``at`` is its offset in scenario seconds; ``to`` the participants
    it is addressed to (every participant when empty; the victim for a notification)."""

    id: str
    at: int
    kind: InjectKind
    title: str
    text: str
    sender: str
    to: tuple[str, ...]
    tlp: Tlp
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Expectation:
    """An expected action: ``by`` each named participant (the inject's recipients when
    empty) within ``within`` scenario seconds of the release, worth ``points`` each."""

    inject: str
    action: Action
    by: tuple[str, ...]
    within: int
    points: int


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario. ``lines`` maps ``participants[i]`` (and other fields the hub
    checks later) to the line they were written on."""

    name: str
    description: str
    planner: str
    participants: tuple[str, ...]
    injects: tuple[Inject, ...]
    expectations: tuple[Expectation, ...]
    lines: Mapping[str, int] = field(default_factory=dict)

    def inject(self, inject_id: str) -> Inject:
        """The inject with this id (``KeyError`` when none)."""
        for item in self.injects:
            if item.id == inject_id:
                return item
        raise KeyError(inject_id)

    def recipients(self, inject: Inject) -> tuple[str, ...]:
        """Who an inject is addressed to."""
        return inject.to or self.participants

    def expected_of(self, expectation: Expectation) -> tuple[str, ...]:
        """Who is expected to act."""
        return expectation.by or self.recipients(self.inject(expectation.inject))


# --- parsing ----------------------------------------------------------------------------


class _Located(dict[str, Any]):
    """A YAML mapping that remembers its line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _LocatedList(list[Any]):
    line: int = 0


def _loader(text: str) -> Any:
    loader_class: Any = type("_ScenarioLoader", (yaml.SafeLoader,), {})

    def mapping(loader: Any, node: Any) -> _Located:
        loader.flatten_mapping(node)
        value = _Located(loader.construct_mapping(node, deep=True))
        value.line = node.start_mark.line + 1
        value.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        return value

    def sequence(loader: Any, node: Any) -> _LocatedList:
        value = _LocatedList(loader.construct_sequence(node, deep=True))
        value.line = node.start_mark.line + 1
        return value

    loader_class.add_constructor("tag:yaml.org,2002:map", mapping)
    loader_class.add_constructor("tag:yaml.org,2002:seq", sequence)
    return loader_class(text)


def _line_of(container: Any, key: str | None = None) -> int:
    if isinstance(container, _Located) and key is not None and key in container.key_lines:
        return container.key_lines[key]
    return int(getattr(container, "line", 0))


def _fail(line: int, where: str, message: str) -> ScenarioError:
    return ScenarioError(f"line {line}: {where}: {message}" if line else f"{where}: {message}")


def parse_offset(text: object, where: str = "at", line: int = 0) -> int:
    """``+15m``, ``+2h``, ``+0m``, ``+30s``, ``+1d`` → seconds; ``ScenarioError`` otherwise."""
    match = _OFFSET.match(str(text).strip()) if isinstance(text, str | int) else None
    if match is None:
        raise _fail(line, where, f"{text!r} is not an offset like +0m, +15m, +2h or +30s")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(_line_of(raw, key), f"{where}.{key}", "a non-empty text is required")
    if len(value) > MAX_TEXT:
        raise _fail(_line_of(raw, key), f"{where}.{key}", f"longer than {MAX_TEXT} characters")
    return value.strip()


def _names(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(_line_of(raw, key), f"{where}.{key}", "a name or a list of names")
    return tuple(value)


def _tlp(raw: Mapping[str, Any], where: str, default: Tlp) -> Tlp:
    value = raw.get("tlp")
    if value is None:
        return default
    name = str(value).upper().removeprefix("TLP:").replace("+", "_").replace("-", "_")
    try:
        return Tlp[name]
    except KeyError:
        raise _fail(
            _line_of(raw, "tlp"), f"{where}.tlp", "clear, green, amber, amber+strict or red"
        ) from None


def _mapping(value: object, line: int, where: str) -> _Located:
    if not isinstance(value, _Located):
        raise _fail(line, where, "a mapping (key: value) is expected")
    return value


def _known(raw: _Located, allowed: set[str], where: str) -> None:
    for key in raw:
        if key not in allowed:
            raise _fail(
                _line_of(raw, key),
                f"{where}.{key}",
                f"unknown field (expected one of {', '.join(sorted(allowed))})",
            )


def _parse_inject(raw: _Located, where: str, participants: set[str]) -> Inject:
    _known(raw, {"id", "at", "kind", "title", "text", "from", "to", "tlp", "patterns"}, where)
    inject_id = raw.get("id")
    if not isinstance(inject_id, str) or not _ID.match(inject_id):
        raise _fail(
            _line_of(raw, "id") or raw.line,
            f"{where}.id",
            "an id of lower-case letters, digits and hyphens is required",
        )
    if "at" not in raw:
        raise _fail(raw.line, f"{where}.at", "an offset like +15m is required")
    at = parse_offset(raw["at"], f"{where}.at", _line_of(raw, "at"))
    try:
        kind = InjectKind(str(raw.get("kind")))
    except ValueError:
        raise _fail(
            _line_of(raw, "kind") or raw.line,
            f"{where}.kind",
            f"unknown inject kind {raw.get('kind')!r}"
            f" (expected {', '.join(k.value for k in InjectKind)})",
        ) from None
    to = _names(raw, "to", where)
    for index, name in enumerate(to):
        if name not in participants:
            raise _fail(_line_of(raw, "to"), f"{where}.to[{index}]", f"{name!r} is no participant")
    if kind is InjectKind.NOTIFICATION and len(to) != 1:
        raise _fail(
            _line_of(raw, "to") or raw.line, f"{where}.to", "a notification names one victim"
        )
    patterns = _names(raw, "patterns", where)
    if kind is InjectKind.INDICATOR and not patterns:
        raise _fail(raw.line, f"{where}.patterns", "an indicator inject needs STIX patterns")
    default = Tlp.RED if kind is InjectKind.NOTIFICATION else Tlp.AMBER
    tlp = _tlp(raw, where, default)
    if kind is InjectKind.NOTIFICATION and tlp is not Tlp.RED:
        raise _fail(_line_of(raw, "tlp"), f"{where}.tlp", "a notification is TLP:RED")
    return Inject(
        inject_id,
        at,
        kind,
        _text(raw, "title", where),
        _text(raw, "text", where, required=False),
        _text(raw, "from", where, required=False),
        to,
        tlp,
        patterns,
    )


def _parse_expectation(
    raw: _Located, where: str, injects: dict[str, Inject], participants: set[str]
) -> Expectation:
    _known(raw, {"inject", "action", "by", "within", "points"}, where)
    inject = raw.get("inject")
    if inject not in injects:
        raise _fail(
            _line_of(raw, "inject") or raw.line,
            f"{where}.inject",
            f"{inject!r} is no inject of this scenario",
        )
    try:
        action = Action(str(raw.get("action")))
    except ValueError:
        raise _fail(
            _line_of(raw, "action") or raw.line,
            f"{where}.action",
            f"unknown action {raw.get('action')!r} (expected acknowledge, sighting or share)",
        ) from None
    if action is Action.SIGHTING and injects[str(inject)].kind is not InjectKind.INDICATOR:
        raise _fail(
            _line_of(raw, "action"), f"{where}.action", "a sighting is of an indicator inject"
        )
    by = _names(raw, "by", where)
    for index, name in enumerate(by):
        if name not in participants:
            raise _fail(_line_of(raw, "by"), f"{where}.by[{index}]", f"{name!r} is no participant")
    within = parse_offset(raw.get("within", "+1d"), f"{where}.within", _line_of(raw, "within"))
    points = raw.get("points", 1)
    if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= 1000:
        raise _fail(_line_of(raw, "points"), f"{where}.points", "a whole number 0-1000")
    return Expectation(str(inject), action, by, within, points)


def parse_scenario(text: str) -> Scenario:
    """Validate a scenario written in YAML (see docs/exercises.md for the format)."""
    try:
        document = _loader(text).get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 0
        raise _fail(line, "yaml", str(exc.problem or exc)) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"yaml: {exc}") from None
    root = _mapping(document, 1, "scenario")
    _known(
        root, {"name", "description", "planner", "participants", "injects", "expected"}, "scenario"
    )
    name = _text(root, "name", "scenario")
    participants_raw = root.get("participants")
    if not isinstance(participants_raw, list) or not participants_raw:
        raise _fail(_line_of(root, "participants") or 1, "participants", "a list of names")
    lines: dict[str, int] = {}
    participants: list[str] = []
    base = _line_of(root, "participants")
    for index, item in enumerate(participants_raw):
        if not isinstance(item, str) or not item.strip():
            raise _fail(base + index + 1, f"participants[{index}]", "an organisation name")
        if item in participants:
            raise _fail(base + index + 1, f"participants[{index}]", f"{item!r} appears twice")
        participants.append(item)
        lines[f"participants[{index}]"] = base + index + 1
    planner = _text(root, "planner", "scenario")
    lines["planner"] = _line_of(root, "planner")
    injects_raw = root.get("injects")
    if not isinstance(injects_raw, list) or not injects_raw:
        raise _fail(_line_of(root, "injects") or 1, "injects", "a list of injects")
    if len(injects_raw) > MAX_INJECTS:
        raise _fail(_line_of(root, "injects"), "injects", f"at most {MAX_INJECTS}")
    injects: dict[str, Inject] = {}
    known = set(participants)
    for index, item in enumerate(injects_raw):
        where = f"injects[{index}]"
        inject = _parse_inject(_mapping(item, _line_of(injects_raw), where), where, known)
        if inject.id in injects:
            raise _fail(_line_of(item, "id"), f"{where}.id", f"{inject.id!r} is used twice")
        injects[inject.id] = inject
    expected_raw = root.get("expected") or []
    if not isinstance(expected_raw, list):
        raise _fail(_line_of(root, "expected"), "expected", "a list of expected actions")
    expectations = tuple(
        _parse_expectation(
            _mapping(item, _line_of(expected_raw), f"expected[{index}]"),
            f"expected[{index}]",
            injects,
            known,
        )
        for index, item in enumerate(expected_raw)
    )
    ordered = tuple(sorted(injects.values(), key=lambda i: (i.at, i.id)))
    return Scenario(
        name,
        _text(root, "description", "scenario", required=False),
        planner,
        tuple(participants),
        ordered,
        expectations,
        lines,
    )


# --- STIX -------------------------------------------------------------------------------


def exercise_marking_definition(created: str) -> dict[str, object]:
    """The EXERCISE statement marking every exercise object carries."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": EXERCISE_MARKING_ID,
        "created": created,
        "name": "EXERCISE",
        "definition_type": "statement",
        "definition": {"statement": EXERCISE_STATEMENT},
    }


def watermark(run_id: str) -> str:
    """The text prefix of everything an exercise run shows: ``[EXERCISE <run>]``."""
    return f"[EXERCISE {run_id}]"


def inject_objects(
    run_id: str,
    inject: Inject,
    object_ids: Sequence[str],
    planner_identity: str,
    stamp: str,
) -> list[dict[str, object]]:
    """The STIX objects an inject becomes (without TLP or scope; the service adds them).

    ``object_ids`` holds one fresh UUID per object: for an indicator inject one per pattern,
    otherwise one (a report). Every object is marked EXERCISE, labelled and watermarked."""
    mark = watermark(run_id)
    common: dict[str, object] = {
        "spec_version": "2.1",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": planner_identity,
        "labels": [EXERCISE_LABEL, f"exercise-inject:{inject.id}"],
        "object_marking_refs": [EXERCISE_MARKING_ID],
    }
    sender = f" (from {inject.sender})" if inject.sender else ""
    description = f"{mark} {EXERCISE_STATEMENT}.{sender}\n\n{inject.text}".strip()
    if inject.kind is InjectKind.INDICATOR:
        return [
            {
                **common,
                "type": "indicator",
                "id": f"indicator--{uuid}",
                "name": f"{mark} {inject.title}",
                "description": description,
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": stamp,
                "indicator_types": ["malicious-activity"],
            }
            for uuid, pattern in zip(object_ids, inject.patterns, strict=True)
        ]
    report_types = {
        InjectKind.ADVISORY: "threat-report",
        InjectKind.NOTIFICATION: "victim-notification",
        InjectKind.MARKET: "market-impact",
    }[inject.kind]
    return [
        {
            **common,
            "type": "report",
            "id": f"report--{object_ids[0]}",
            "name": f"{mark} {inject.title}",
            "description": description,
            "report_types": [report_types],
            "published": stamp,
            "object_refs": [planner_identity],
        }
    ]


def objects_needed(inject: Inject) -> int:
    """How many fresh ids ``inject_objects`` needs."""
    return len(inject.patterns) if inject.kind is InjectKind.INDICATOR else 1


# --- measurement ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Response:
    """Something a participant did about an inject, at ``at`` scenario seconds."""

    inject: str
    participant: str
    action: Action
    at: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class InjectFigures:
    """What became of one inject. Delays are scenario seconds after its release."""

    inject: Inject
    released: float | None
    recipients: tuple[str, ...]
    acks: dict[str, float]
    first_sighting: tuple[str, float] | None
    sightings: int
    shares: int
    acted: tuple[str, ...]
    stalled: tuple[str, ...]

    @property
    def travelled(self) -> float:
        """The share of recipients that acted on it (0-1)."""
        if not self.recipients:
            return 0.0
        return len(set(self.acted) & set(self.recipients)) / len(self.recipients)


@dataclass(frozen=True, slots=True)
class ParticipantFigures:
    """One participant's figures over the run."""

    name: str
    sector: str
    received: int
    acknowledged: int
    mean_ack: float | None
    sightings: int
    shares: int
    points: int
    possible: int


@dataclass(frozen=True, slots=True)
class SectorFigures:
    """A sector's figures (its participants together)."""

    sector: str
    participants: int
    acknowledged: int
    received: int
    mean_ack: float | None
    points: int
    possible: int


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    """One expected action by one participant: done in time or not."""

    expectation: Expectation
    participant: str
    done_at: float | None

    @property
    def met(self) -> bool:
        """Done within the deadline."""
        return self.done_at is not None and self.done_at <= self.expectation.within


@dataclass(frozen=True, slots=True)
class Measurement:
    """Everything the after-action report shows."""

    injects: list[InjectFigures]
    participants: list[ParticipantFigures]
    sectors: list[SectorFigures]
    expectations: list[ExpectationResult]
    responses: list[Response]
    stalled: list[str]
    duration: float

    @property
    def score(self) -> tuple[int, int]:
        """(points earned, points possible) over every participant."""
        return (
            sum(p.points for p in self.participants),
            sum(p.possible for p in self.participants),
        )


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def measure(
    scenario: Scenario,
    sectors: Mapping[str, str],
    released: Mapping[str, float],
    responses: Iterable[Response],
) -> Measurement:
    """Figures of a run: ``released`` maps inject ids to their release (scenario seconds),
    ``responses`` are what participants did (scenario seconds), ``sectors`` each
    participant's sector. Responses to unreleased injects or from non-participants are
    ignored; each delay counts from the release."""
    known = set(scenario.participants)
    kept = sorted(
        (r for r in responses if r.inject in released and r.participant in known),
        key=lambda r: (r.at, r.participant, r.action.value),
    )
    first: dict[tuple[str, str, Action], float] = {}
    for r in kept:
        delay = max(0.0, r.at - released[r.inject])
        first.setdefault((r.inject, r.participant, r.action), delay)
    figures: list[InjectFigures] = []
    stalled: list[str] = []
    for inject in scenario.injects:
        recipients = scenario.recipients(inject)
        if inject.id not in released:
            figures.append(InjectFigures(inject, None, recipients, {}, None, 0, 0, (), ()))
            continue
        mine = [r for r in kept if r.inject == inject.id]
        acks = {
            p: d for (i, p, a), d in first.items() if i == inject.id and a is Action.ACKNOWLEDGE
        }
        sightings = [r for r in mine if r.action is Action.SIGHTING]
        first_sighting = None
        if sightings:
            s = sightings[0]
            first_sighting = (s.participant, max(0.0, s.at - released[inject.id]))
        acted = tuple(sorted({r.participant for r in mine}))
        silent = tuple(p for p in recipients if p not in acted)
        stalled.extend(f"{p} never acted on “{inject.title}” ({inject.id})" for p in silent)
        figures.append(
            InjectFigures(
                inject,
                released[inject.id],
                recipients,
                acks,
                first_sighting,
                len(sightings),
                sum(1 for r in mine if r.action is Action.SHARE),
                acted,
                silent,
            )
        )
    results: list[ExpectationResult] = []
    for expectation in scenario.expectations:
        if expectation.inject not in released:
            continue
        for participant in scenario.expected_of(expectation):
            done = first.get((expectation.inject, participant, expectation.action))
            result = ExpectationResult(expectation, participant, done)
            results.append(result)
            if not result.met:
                late = "" if done is None else f" (done after {format_duration(done)})"
                stalled.append(
                    f"{participant} did not {_verb(expectation.action)} {expectation.inject}"
                    f" within {format_duration(expectation.within)}{late}"
                )
    people: list[ParticipantFigures] = []
    for name in scenario.participants:
        received = [f for f in figures if f.released is not None and name in f.recipients]
        ack_delays = [f.acks[name] for f in figures if name in f.acks]
        mine_results = [r for r in results if r.participant == name]
        people.append(
            ParticipantFigures(
                name,
                sectors.get(name, "other"),
                len(received),
                len(ack_delays),
                _mean(ack_delays),
                sum(1 for r in kept if r.participant == name and r.action is Action.SIGHTING),
                sum(1 for r in kept if r.participant == name and r.action is Action.SHARE),
                sum(r.expectation.points for r in mine_results if r.met),
                sum(r.expectation.points for r in mine_results),
            )
        )
    by_sector: dict[str, list[ParticipantFigures]] = {}
    for person in people:
        by_sector.setdefault(person.sector, []).append(person)
    sector_figures = [
        SectorFigures(
            sector,
            len(members),
            sum(m.acknowledged for m in members),
            sum(m.received for m in members),
            _mean(f.acks[m.name] for f in figures for m in members if m.name in f.acks),
            sum(m.points for m in members),
            sum(m.possible for m in members),
        )
        for sector, members in sorted(by_sector.items())
    ]
    ends = [*released.values(), *(r.at for r in kept)]
    return Measurement(
        figures, people, sector_figures, results, kept, stalled, max(ends, default=0.0)
    )


def _verb(action: Action) -> str:
    return {
        Action.ACKNOWLEDGE: "acknowledge",
        Action.SIGHTING: "report a sighting of",
        Action.SHARE: "share about",
    }[action]


def format_duration(seconds: float | None) -> str:
    """``1h 05m``, ``12m 30s``, ``45s``; an en dash for ``None``."""
    if seconds is None:
        return "–"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


# --- charts (SVG by hand) ---------------------------------------------------------------

_E = html.escape
_COLOURS = {
    Action.ACKNOWLEDGE: "#1f77b4",
    Action.SIGHTING: "#d62728",
    Action.SHARE: "#2ca02c",
}
_KIND_COLOURS = {
    InjectKind.ADVISORY: "#6a3d9a",
    InjectKind.INDICATOR: "#d62728",
    InjectKind.NOTIFICATION: "#ff7f0e",
    InjectKind.MARKET: "#8c564b",
}
_FONT = 'font-family="sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="{_E(title)}">'
        f"<title>{_E(title)}</title>"
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>' + "".join(body) + "</svg>"
    )


def timeline_svg(scenario: Scenario, measurement: Measurement) -> str:
    """Injects as vertical markers over scenario time, responses as points on one row per
    participant (colour: acknowledgement, sighting, share)."""
    left, top, row, width = 200, 60, 26, 900
    names = list(scenario.participants)
    height = top + row * len(names) + 70
    span = max(measurement.duration, 60.0) * 1.05

    def x(seconds: float) -> float:
        return left + (width - left - 20) * seconds / span

    body = [f'<text x="10" y="20" {_FONT} font-weight="bold">{_E(scenario.name)} — timeline</text>']
    for index, name in enumerate(names):
        y = top + row * index + row / 2
        body.append(f'<text x="10" y="{y + 4:.0f}" {_FONT}>{_E(name[:30])}</text>')
        body.append(
            f'<line x1="{left}" y1="{y:.0f}" x2="{width - 20}" y2="{y:.0f}" stroke="#eeeeee"/>'
        )
    bottom = top + row * len(names)
    for figure in measurement.injects:
        if figure.released is None:
            continue
        px = x(figure.released)
        colour = _KIND_COLOURS[figure.inject.kind]
        body.append(
            f'<line x1="{px:.1f}" y1="{top - 10}" x2="{px:.1f}" y2="{bottom}" stroke="{colour}"'
            ' stroke-dasharray="4 3"><title>'
            f"{_E(figure.inject.id)}: {_E(figure.inject.title)}</title></line>"
        )
        body.append(
            f'<text x="{px + 2:.1f}" y="{top - 14}" {_FONT} fill="{colour}"'
            f' transform="rotate(-20 {px + 2:.1f} {top - 14})">{_E(figure.inject.id)}</text>'
        )
    for response in measurement.responses:
        if response.participant not in names:
            continue
        y = top + row * names.index(response.participant) + row / 2
        shift = {Action.ACKNOWLEDGE: -6, Action.SIGHTING: 0, Action.SHARE: 6}[response.action]
        body.append(
            f'<circle cx="{x(response.at):.1f}" cy="{y + shift:.0f}" r="5"'
            f' fill="{_COLOURS[response.action]}"><title>{_E(response.participant)}:'
            f" {_E(response.action.value)} {_E(response.inject)} at"
            f" {_E(format_duration(response.at))}</title></circle>"
        )
    for tick in range(6):
        seconds = span * tick / 5
        body.append(
            f'<text x="{x(seconds):.0f}" y="{bottom + 18}" {_FONT} text-anchor="middle">'
            f"{_E(format_duration(seconds))}</text>"
        )
    legend_y = bottom + 45
    for index, action in enumerate(Action):
        lx = left + index * 160
        body.append(f'<circle cx="{lx}" cy="{legend_y}" r="5" fill="{_COLOURS[action]}"/>')
        body.append(f'<text x="{lx + 10}" y="{legend_y + 4}" {_FONT}>{action.value}</text>')
    return _svg(width, height, f"{scenario.name} — timeline", body)


def bar_svg(title: str, items: Sequence[tuple[str, float | None]], unit: str = "time") -> str:
    """A horizontal bar chart; ``unit`` ``time`` labels values as durations, ``percent`` as
    percentages, anything else as numbers. ``None`` is drawn as "no data"."""
    left, top, row, width = 220, 40, 26, 760
    height = top + row * max(len(items), 1) + 20
    peak = max((v for _, v in items if v is not None), default=0.0) or 1.0
    body = [f'<text x="10" y="22" {_FONT} font-weight="bold">{_E(title)}</text>']
    for index, (label, value) in enumerate(items):
        y = top + row * index
        body.append(f'<text x="10" y="{y + 16}" {_FONT}>{_E(label[:32])}</text>')
        if value is None:
            body.append(f'<text x="{left}" y="{y + 16}" {_FONT} fill="#888888">no data</text>')
            continue
        length = (width - left - 120) * value / peak
        if unit == "time":
            shown = format_duration(value)
        elif unit == "percent":
            shown = f"{value:.0f}%"
        else:
            shown = f"{value:g}"
        body.append(
            f'<rect x="{left}" y="{y + 4}" width="{length:.1f}" height="{row - 8}"'
            f' fill="#4c78a8"><title>{_E(label)}: {_E(shown)}</title></rect>'
        )
        body.append(f'<text x="{left + length + 6:.1f}" y="{y + 16}" {_FONT}>{_E(shown)}</text>')
    return _svg(width, height, title, body)


def charts(scenario: Scenario, measurement: Measurement) -> dict[str, str]:
    """Every chart of the report, by file stem."""
    return {
        "timeline": timeline_svg(scenario, measurement),
        "ack-by-participant": bar_svg(
            "Mean time to acknowledge, by participant",
            [(p.name, p.mean_ack) for p in measurement.participants],
        ),
        "ack-by-sector": bar_svg(
            "Mean time to acknowledge, by sector",
            [(s.sector, s.mean_ack) for s in measurement.sectors],
        ),
        "score-by-participant": bar_svg(
            "Score (% of expected actions done in time), by participant",
            [
                (p.name, 100.0 * p.points / p.possible if p.possible else None)
                for p in measurement.participants
            ],
            "percent",
        ),
        "travel-by-inject": bar_svg(
            "How far each inject travelled (% of recipients that acted)",
            [
                (f.inject.id, None if f.released is None else 100.0 * f.travelled)
                for f in measurement.injects
            ],
            "percent",
        ),
    }


def render_report(
    scenario: Scenario,
    run_id: str,
    speed: float,
    started: str,
    measurement: Measurement,
    drawn: Mapping[str, str],
) -> str:
    """The self-contained HTML after-action report (inline SVG, no scripts, no CDN)."""
    earned, possible = measurement.score
    rows = []
    for f in measurement.injects:
        sighting = (
            f"{_E(f.first_sighting[0])} after {_E(format_duration(f.first_sighting[1]))}"
            if f.first_sighting
            else "–"
        )
        acks = ", ".join(
            f"{_E(name)} {_E(format_duration(delay))}" for name, delay in sorted(f.acks.items())
        )
        rows.append(
            "<tr>"
            f"<td>{_E(format_duration(f.released)) if f.released is not None else 'not released'}"
            f"</td><td>{_E(f.inject.id)}</td><td>{_E(f.inject.kind.value)}</td>"
            f"<td>{_E(f.inject.title)}</td><td>{len(f.recipients)}</td>"
            f"<td>{acks or '–'}</td><td>{sighting}</td><td>{f.shares}</td>"
            f"<td>{100 * f.travelled:.0f}%</td></tr>"
        )
    people = "".join(
        f"<tr><td>{_E(p.name)}</td><td>{_E(p.sector)}</td><td>{p.received}</td>"
        f"<td>{p.acknowledged}</td><td>{_E(format_duration(p.mean_ack))}</td>"
        f"<td>{p.sightings}</td><td>{p.shares}</td><td>{p.points} / {p.possible}</td></tr>"
        for p in measurement.participants
    )
    sectors = "".join(
        f"<tr><td>{_E(s.sector)}</td><td>{s.participants}</td>"
        f"<td>{s.acknowledged} / {s.received}</td><td>{_E(format_duration(s.mean_ack))}</td>"
        f"<td>{s.points} / {s.possible}</td></tr>"
        for s in measurement.sectors
    )
    shares = "".join(
        f"<li>{_E(format_duration(r.at))}: {_E(r.participant)} shared about {_E(r.inject)}"
        f"{': ' + _E(r.detail) if r.detail else ''}</li>"
        for r in measurement.responses
        if r.action is Action.SHARE
    )
    stalled = "".join(f"<li>{_E(item)}</li>" for item in measurement.stalled)
    figure = "".join(f'<figure id="{_E(stem)}">{svg}</figure>' for stem, svg in drawn.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>After-action report — {_E(scenario.name)} ({_E(run_id)})</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
.banner {{ background: #b00020; color: #fff; padding: .5em 1em; font-weight: bold; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: .3em .6em; text-align: left; }}
figure {{ margin: 1.5em 0; }}
</style></head><body>
<p class="banner">{_E(EXERCISE_STATEMENT)} — {_E(watermark(run_id))}</p>
<h1>After-action report: {_E(scenario.name)}</h1>
<p>{_E(scenario.description)}</p>
<p>Run {_E(run_id)}, started {_E(started)}, speed ×{speed:g}; planner {_E(scenario.planner)};
{len(scenario.participants)} participants; score {earned} / {possible} points.
Times are scenario time (real time × speed).</p>
<h2>Who learned what, when</h2>
{figure}
<h2>Where information stalled</h2>
<ul id="stalled">{stalled or "<li>nowhere</li>"}</ul>
<h2>Injects</h2>
<table id="injects"><tr><th>released</th><th>inject</th><th>kind</th><th>title</th>
<th>recipients</th><th>acknowledged (time to acknowledge)</th><th>first sighting</th>
<th>shares</th><th>travelled</th></tr>{"".join(rows)}</table>
<h2>Participants</h2>
<table id="participants"><tr><th>participant</th><th>sector</th><th>received</th>
<th>acknowledged</th><th>mean time to acknowledge</th><th>sightings</th><th>shares</th>
<th>points</th></tr>{people}</table>
<h2>Sectors</h2>
<table id="sectors"><tr><th>sector</th><th>participants</th><th>acknowledged</th>
<th>mean time to acknowledge</th><th>points</th></tr>{sectors}</table>
<h2>What participants shared</h2>
<ul id="shares">{shares or "<li>nothing</li>"}</ul>
</body></html>
"""
