"""Member-side commands that talk to a hub over HTTP: ``shieldwall submit``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from shieldwall.cli.common import (
    AnonymousOption,
    CountryOption,
    GroupOption,
    HubOption,
    KeyOption,
    OrgOption,
    SectorOption,
    errors,
    out,
    require_hub,
)
from shieldwall.client.hub import HubClient
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.scrub import Finding


def load_objects(path: Path) -> list[dict[str, object]]:
    """The objects of a STIX bundle file (or an envelope); ``InvalidInput`` otherwise."""
    try:
        document = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not JSON ({exc}); give a STIX bundle") from None
    objects = document.get("objects") if isinstance(document, dict) else None
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise InvalidInput(f"{path} is not a STIX bundle: it has no list of objects")
    return objects


def scope_fields(
    sectors: list[str] | None,
    countries: list[str] | None,
    groups: list[str] | None,
    orgs: list[str] | None,
) -> dict[str, list[str]] | None:
    """The REST ``scope`` field, or ``None`` for the whole community."""
    scope = {
        k: v
        for k, v in (
            ("sectors", sectors),
            ("countries", countries),
            ("groups", groups),
            ("organizations", orgs),
        )
        if v
    }
    return scope or None


def show_findings(findings: list[Finding]) -> None:
    """A table of what scrubbing found, or a line saying nothing was found."""
    if not findings:
        out.print("Nothing identifying found in the submission.")
        return
    table = Table(title="Removed or redacted before sending")
    for column in ("object", "where", "value", "why", "done"):
        table.add_column(column, overflow="fold")
    for f in findings:
        table.add_row(f.object_id, f.path, f.value, f.rule, f.action)
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the member-side commands to the top-level command."""

    @app.command("submit")
    def submit(
        file: Annotated[Path, typer.Argument(help="A STIX bundle (JSON)")],
        tlp: Annotated[str | None, typer.Option(help="TLP for every object")] = None,
        sector: SectorOption = None,
        country: CountryOption = None,
        group: GroupOption = None,
        org: OrgOption = None,
        anonymous: AnonymousOption = False,
        hub: HubOption = None,
        key: KeyOption = None,
    ) -> None:
        """Submit a STIX bundle to a hub, attributed or anonymous to members."""
        with errors():
            objects = load_objects(file)
            status = HubClient(require_hub(hub), key).submit(
                list(objects),
                tlp=tlp,
                scope=scope_fields(sector, country, group, org),
                attribution="anonymous" if anonymous else "attributed",
            )
        out.print(
            f"{status['success_count']} stored, {status['failure_count']} refused.", highlight=False
        )
        for failure in status.get("failures", []):
            out.print(f"  {failure['id']}: {failure.get('message', '')}", highlight=False)
        if status["failure_count"]:
            raise typer.Exit(2)
