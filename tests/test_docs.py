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


def test_every_promise_names_tests_that_exist() -> None:
    """docs/promises.md: each referenced test module and test function exists."""
    import re

    root = DOCS.parent
    text = (DOCS / "promises.md").read_text()
    references = re.findall(r"`(tests/[\w/]+\.py)((?:::\w+)?)`", text)
    assert len(references) >= 20
    module = None
    for path, function in references:
        module = root / path
        assert module.exists(), path
        if function:
            assert f"def {function[2:]}(" in module.read_text(), f"{path}{function}"
    # "::name" shorthand continues the previous module: check those too
    for line in text.splitlines():
        current = None
        for match in re.finditer(r"`(tests/[\w/]+\.py)?(::\w+)?`", line):
            if match.group(1):
                current = root / match.group(1)
            elif match.group(2) and current is not None:
                assert f"def {match.group(2)[2:]}(" in current.read_text(), match.group(2)
