"""Documentation stays true: every setting and command is documented."""

from __future__ import annotations

from pathlib import Path

import typer.main

from shieldwall.cli.main import app
from shieldwall.settings import SETTINGS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    for spec in SETTINGS:
        assert f"SHIELDWALL_{spec.name.upper()}" in text, spec.name


def _commands(group: typer.Typer, prefix: str) -> list[str]:
    click_group = typer.main.get_command(group)
    found: list[str] = []
    for name, command in getattr(click_group, "commands", {}).items():
        sub = getattr(command, "commands", None)
        if sub:
            found.extend(f"{prefix}{name} {child}" for child in sub)
        else:
            found.append(f"{prefix}{name}")
    return found


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    commands = _commands(app, "shieldwall ")
    assert "shieldwall org add" in commands
    for command in commands:
        assert f"`{command}" in text, f"{command} is missing from docs/cli.md"
