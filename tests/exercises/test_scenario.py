"""Scenario validation: clear errors naming the line and the field."""

from __future__ import annotations

import pytest

from shieldwall.domain.exercises import ScenarioError, parse_offset, parse_scenario
from shieldwall.services import demo, exercises
from shieldwall.services.context import Hub

from .support import shipped_scenario

GOOD = """\
name: Small
planner: Shieldwall ISAC Operations
participants:
  - First Federal Bank
  - Hudson Valley Trust
injects:
  - id: one
    at: +0m
    kind: advisory
    title: Advisory
expected:
  - inject: one
    action: acknowledge
    within: +15m
"""


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    return caught.value.message


def test_shipped_scenario_is_valid() -> None:
    scenario = parse_scenario(shipped_scenario())
    assert scenario.injects[0].id == "gov-advisory"
    assert parse_scenario(GOOD).expectations[0].within == 900


def test_bad_yaml_names_the_line() -> None:
    assert _error("name: [unclosed\nplanner: x\n").startswith("line ")


def test_bad_offset() -> None:
    message = _error(GOOD.replace("at: +0m", "at: soon"))
    assert message.startswith("line 8: injects[0].at:") and "'soon'" in message
    assert parse_offset("+2h") == 7200 and parse_offset("+30s") == 30


def test_unknown_inject_kind() -> None:
    message = _error(GOOD.replace("kind: advisory", "kind: phishing"))
    assert message.startswith("line 9: injects[0].kind: unknown inject kind 'phishing'")


def test_expected_action_for_unknown_inject() -> None:
    message = _error(GOOD.replace("  - inject: one", "  - inject: two"))
    assert message.startswith("line 12: expected[0].inject: 'two' is no inject")


def test_unknown_field_and_unknown_recipient() -> None:
    assert _error(GOOD.replace("    title: Advisory", "    titel: Advisory")).startswith(
        "line 10: injects[0].titel: unknown field"
    )
    message = _error(GOOD.replace("    title: Advisory", "    title: A\n    to: [Nobody]"))
    assert "injects[0].to[0]: 'Nobody' is no participant" in message


def test_unknown_participant_on_the_hub(sqlite_hub: Hub) -> None:
    demo.create_demo(sqlite_hub, [])
    with pytest.raises(ScenarioError) as caught:
        exercises.validate(sqlite_hub, GOOD.replace("Hudson Valley Trust", "Hudson Valley Bank"))
    assert caught.value.message.startswith(
        "line 5: participants[1]: unknown participant 'Hudson Valley Bank'"
    )
