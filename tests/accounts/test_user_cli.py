"""``shieldwall user …`` and the demo's printed web sign-ins (in process, CliRunner)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from conftest import cli_in_process as cli
from conftest import make_hub
from conftest import run_in_process as run
from shieldwall.cli import main as cli_main
from shieldwall.domain.errors import Unauthenticated
from shieldwall.services import accounts
from shieldwall.services.context import Hub
from shieldwall.settings import Settings
from shieldwall.storage.database import Database


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    cli("org", "add", "Bank", "--sector", "financial", "--country", "US", database=url)
    return url


@pytest.fixture
def hub(database: str) -> Iterator[Hub]:
    made = make_hub(database)
    yield made
    assert isinstance(made.store, Database)
    made.store.dispose()


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_user_add_prints_the_password_once_on_the_last_line(database: str, hub: Hub) -> None:
    output = cli("user", "add", "Bank", "Ann@Bank.example", "--admin", database=database)
    assert "shown only now" in output
    assert "Added admin ann@bank.example to Bank" in output
    password = last_line(output)
    session = accounts.sign_in(hub, "ann@bank.example", password)[1]
    assert session.account.is_admin and session.account.organisation.name == "Bank"
    listing = cli("user", "list", database=database)
    assert "organisation" in listing and "Bank" in listing and password not in listing
    listed = cli("user", "list", "--json", database=database)
    assert [u["username"] for u in orjson.loads(listed)] == ["ann@bank.example"]
    assert password not in listed
    cli("user", "add", "Bank", "bob.smith", database=database)
    (bob,) = [
        u
        for u in orjson.loads(cli("user", "list", "Bank", "--json", database=database))
        if u["username"] == "bob.smith"
    ]
    assert bob["organisation"] == "Bank" and bob["admin"] is False and bob["disabled"] is False
    assert bob["last_sign_in"] is None and bob["created"].endswith("Z")
    assert set(bob) == {"username", "organisation", "admin", "disabled", "created", "last_sign_in"}


def test_reset_disable_enable_and_admin(database: str, hub: Hub) -> None:
    first = last_line(cli("user", "add", "Bank", "ann", database=database))
    token, _ = accounts.sign_in(hub, "ann", first)
    output = cli("user", "reset-password", "ANN", database=database)
    assert "shown only now" in output
    fresh = last_line(output)
    assert fresh != first and accounts.session(hub, token) is None
    with pytest.raises(Unauthenticated):
        accounts.sign_in(hub, "ann", first)
    token, _ = accounts.sign_in(hub, "ann", fresh)
    assert "disabled" in cli("user", "disable", "ann", database=database)
    assert accounts.session(hub, token) is None
    with pytest.raises(Unauthenticated):
        accounts.sign_in(hub, "ann", fresh)
    (ann,) = orjson.loads(cli("user", "list", "--json", database=database))
    assert ann["disabled"] is True
    assert "enabled" in cli("user", "enable", "ann", database=database)
    assert "now an admin" in cli("user", "admin", "ann", "--on", database=database)
    assert accounts.sign_in(hub, "ann", fresh)[1].account.is_admin
    assert "no longer an admin" in cli("user", "admin", "ann", "--off", database=database)
    assert not accounts.sign_in(hub, "ann", fresh)[1].account.is_admin


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("user", "add", "Nobody", "ann"), 3, "no organisation named"),
        (("user", "add", "Bank", "a b"), 2, "must be 3-64 characters"),
        (("user", "list", "Nobody"), 3, "no organisation named"),
        (("user", "reset-password", "nobody"), 3, "no user named"),
        (("user", "disable", "nobody"), 3, "no user named"),
        (("user", "enable", "nobody"), 3, "no user named"),
        (("user", "admin", "nobody", "--on"), 3, "no user named"),
    ],
)
def test_user_errors_have_codes_and_messages(
    database: str, args: tuple[str, ...], code: int, message: str
) -> None:
    result = run(*args, "--database", database)
    assert result.returncode == code, result.stderr
    assert message in result.stderr


def test_duplicate_user_is_a_conflict(database: str) -> None:
    admin_org = ("org", "add", "Other", "--sector", "legal", "--country", "GB")
    cli(*admin_org, database=database)
    cli("user", "add", "Bank", "ann", database=database)
    result = run("user", "add", "Other", "ANN", "--database", database)
    assert result.returncode == 4 and "is taken" in result.stderr


def test_admin_needs_on_or_off(database: str) -> None:
    cli("user", "add", "Bank", "ann", database=database)
    assert run("user", "admin", "ann", "--database", database).returncode == 2


def test_serve_demo_prints_keys_and_web_sign_ins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = make_hub(f"sqlite:///{tmp_path / 'demo.db'}")
    empty = tmp_path / "no-bundles"
    empty.mkdir()
    settings = Settings(demo_data_dir=empty)
    try:
        cli_main._demo(hub, settings)
        printed = capsys.readouterr().out
        assert "Carter & Lowe LLP" in printed and "admin@carter-lowe-llp" in printed
        lines = printed.splitlines()
        index = next(i for i, line in enumerate(lines) if "admin@first-federal-bank" in line)
        assert lines[index - 1].split()[:2] == ["API", "key"]
        password = lines[index + 1].split()[-1]
        assert lines[index + 1].split()[0] == "password"
        session = accounts.sign_in(hub, "admin@first-federal-bank", password)[1]
        assert session.account.organisation.name == "First Federal Bank"
        cli_main._demo(hub, settings)  # again, on the demo database: fresh credentials
        again = capsys.readouterr().out
        assert "already holds data" in again and "admin@first-federal-bank" in again
        with pytest.raises(Unauthenticated):
            accounts.sign_in(hub, "admin@first-federal-bank", password)
        lines = again.splitlines()
        index = next(i for i, line in enumerate(lines) if "admin@first-federal-bank" in line)
        accounts.sign_in(hub, "admin@first-federal-bank", lines[index + 1].split()[-1])
    finally:
        assert isinstance(hub.store, Database)
        hub.store.dispose()
