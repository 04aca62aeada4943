"""The command line: output contracts (last lines), exit codes, messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_in_process as cli
from conftest import run_in_process as run


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_org_add_prints_identity_alone_on_last_line(database: str) -> None:
    output = cli(
        "org",
        "add",
        "Albion Bank plc",
        "--sector",
        "financial",
        "--country",
        "gb",
        database=database,
    )
    last = output.strip().splitlines()[-1]
    assert re.fullmatch(r"identity--[0-9a-f-]{36}", last)
    listing = cli("org", "list", database=database)
    assert "Albion Bank plc" in listing and "GB" in listing


def test_key_create_prints_key_alone_on_last_line_and_revoke(database: str) -> None:
    cli("org", "add", "Bank", "--sector", "financial", "--country", "US", database=database)
    key = (
        cli("key", "create", "Bank", "--label", "siem", database=database).strip().splitlines()[-1]
    )
    assert re.fullmatch(r"sw_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}", key)
    listing = cli("key", "list", database=database)
    key_id = key.split("_")[1]
    assert key_id in listing and key not in listing  # the secret is never listed
    cli("key", "revoke", key_id, database=database)
    again = run("key", "revoke", key_id, "--database", database)
    assert again.returncode == 3 and "no active key" in again.stderr


def test_groups_and_assets(database: str) -> None:
    for name, sector in (("Bank", "financial"), ("Firm", "legal")):
        cli("org", "add", name, "--sector", sector, "--country", "US", database=database)
    cli("group", "add", "bank-law-alliance", "Bank", "Firm", database=database)
    assert "Bank, Firm" in cli("group", "list", database=database)
    cli("group", "members", "bank-law-alliance", "--remove", "Firm", database=database)
    assert "Firm" not in cli("group", "list", database=database).split("bank-law-alliance")[1]
    output = cli(
        "org",
        "assets",
        "Bank",
        "--domain",
        "Bank.example",
        "--cidr",
        "198.51.100.7/24",
        "--keyword",
        "Project Falcon",
        database=database,
    )
    assert "bank.example" in output and "198.51.100.0/24" in output and "Project Falcon" in output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("org", "add", "X", "--sector", "banking", "--country", "US"), 2, "unknown sector"),
        (("org", "add", "X", "--sector", "financial", "--country", "XX"), 2, "ISO 3166"),
        (
            ("org", "add", "X", "--sector", "financial", "--country", "US", "--role", "king"),
            2,
            "unknown role",
        ),
        (("key", "create", "Nobody"), 3, "no organisation named"),
        (("group", "add", "Bad Name!", "Nobody"), 2, "group name"),
        (("org", "assets", "Nobody", "--domain", "x.example"), 3, "no organisation"),
    ],
)
def test_errors_have_codes_and_messages(
    database: str, args: tuple[str, ...], code: int, message: str
) -> None:
    result = run(*args, "--database", database)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_duplicate_organisation_is_a_conflict(database: str) -> None:
    cli("org", "add", "Bank", "--sector", "financial", "--country", "US", database=database)
    result = run(
        "org", "add", "Bank", "--sector", "financial", "--country", "US", "--database", database
    )
    assert result.returncode == 4 and "already exists" in result.stderr


def test_db_upgrade(database: str) -> None:
    assert "up to date" in cli("db", "upgrade", database=database)


def test_installed_command_runs_as_a_process(database: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shieldwall.cli",
            "org",
            "add",
            "Bank",
            "--sector",
            "financial",
            "--country",
            "US",
            "--database",
            database,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("identity--")
