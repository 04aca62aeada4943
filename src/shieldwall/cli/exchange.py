"""``shieldwall import`` (STIX, MISP, CSV and plain lists into a hub) and ``shieldwall export``
(the hub's exports for defences, fetched with the member's key)."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from shieldwall.cli.common import (
    AnonymousOption,
    CountryOption,
    GroupOption,
    HubOption,
    KeyOption,
    OrgOption,
    SectorOption,
    err,
    errors,
    out,
    require_hub,
)
from shieldwall.cli.member import scope_fields
from shieldwall.client.exports import ExportsClient, Submitted, export_path, submit_batches
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.imports import Prepared, prepare

SHOWN_SKIPS = 20


def _read(path: Path, now: int, importer: str | None) -> Prepared:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read it: {exc.strerror or exc}") from None
    return prepare(data, path.name, now, importer)


def _summary(path: Path, prepared: Prepared, result: Submitted) -> None:
    out.print(
        f"{path}: {prepared.format.value}, {result.sent} objects sent, {result.stored} stored,"
        f" {len(result.refused)} refused, {len(prepared.skipped)} skipped.",
        highlight=False,
        soft_wrap=True,
    )
    for line in result.refused[:SHOWN_SKIPS]:
        out.print(f"  refused {line}", highlight=False, soft_wrap=True)
    for line in result.warnings[:SHOWN_SKIPS]:
        out.print(f"  {line}", highlight=False, soft_wrap=True)
    for line in prepared.skipped[:SHOWN_SKIPS]:
        out.print(f"  skipped {line}", highlight=False, soft_wrap=True)
    more = len(prepared.skipped) - SHOWN_SKIPS
    if more > 0:
        out.print(f"  … and {more} more skipped", highlight=False)


def _failure(path: Path, error: InvalidInput) -> None:
    err.print(f"[bold red]error:[/] {path}: {error.message}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``export`` to the top-level command."""

    @app.command("import")
    def import_files(
        files: Annotated[
            list[Path], typer.Argument(help="STIX bundles, MISP events, CSV or lists")
        ],
        tlp: Annotated[str | None, typer.Option(help="TLP for every object")] = None,
        sector: SectorOption = None,
        country: CountryOption = None,
        group: GroupOption = None,
        org: OrgOption = None,
        anonymous: AnonymousOption = False,
        hub: HubOption = None,
        key: KeyOption = None,
    ) -> None:
        """Import files into a hub, detecting each one's format (STIX bundle, MISP event,
        CSV with a value column, or a plain list of values); a file that cannot be read is
        reported and the others are still imported (exit code 2 then, or when objects were
        refused)."""
        failed = False
        with errors():
            client = ExportsClient(require_hub(hub), key)
            importer = None if anonymous else str(client.me()["identity_id"])
            now = time.time_ns() // 1000
            with ExitStack() as stack:
                progress = None
                if err.is_terminal:
                    progress = stack.enter_context(
                        Progress(
                            TextColumn("{task.description}"),
                            BarColumn(),
                            MofNCompleteColumn(),
                            console=err,
                            transient=True,
                        )
                    )
                for path in files:
                    try:
                        prepared = _read(path, now, importer)
                    except InvalidInput as exc:
                        err.print(
                            f"[bold red]error:[/] {path}: {exc.message}",
                            highlight=False,
                            soft_wrap=True,
                        )
                        failed = True
                        continue
                    advance = None
                    if progress is not None:
                        task = progress.add_task(path.name, total=len(prepared.objects))
                        advance = lambda n, task=task: progress.advance(task, n)  # noqa: E731
                    try:
                        result = submit_batches(
                            client,
                            prepared.objects,
                            tlp=tlp,
                            scope=scope_fields(sector, country, group, org),
                            attribution="anonymous" if anonymous else "attributed",
                            progress=advance,
                        )
                    except InvalidInput as exc:
                        err.print(
                            f"[bold red]error:[/] {path}: {exc.message}",
                            highlight=False,
                            soft_wrap=True,
                        )
                        failed = True
                        continue
                    _summary(path, prepared, result)
                    failed |= bool(result.refused)
        if failed:
            raise typer.Exit(2)

    @app.command("export")
    def export(
        kind: Annotated[
            str,
            typer.Argument(
                help="csv, bundle, suricata, snort, a list (ipv4, ipv6, domain, url, email,"
                " md5, sha1, sha256, sha512), misp (a feed directory), misp-manifest"
            ),
        ],
        out_path: Annotated[
            Path | None,
            typer.Option("--out", help="Write here (a directory for misp); default: stdout"),
        ] = None,
        include_expired: Annotated[
            bool, typer.Option("--include-expired", help="Include expired indicators")
        ] = False,
        min_score: Annotated[float | None, typer.Option(help="Minimum score (0-100)")] = None,
        type_: Annotated[
            list[str] | None, typer.Option("--type", help="Only values of this kind")
        ] = None,
        hub: HubOption = None,
        key: KeyOption = None,
    ) -> None:
        """Fetch an export of the indicators you may read (live ones unless
        --include-expired), as a firewall or IDS would poll it."""
        params: dict[str, str] = {}
        if include_expired:
            params["include_expired"] = "true"
        if min_score is not None:
            params["min_score"] = str(min_score)
        if type_:
            params["type"] = ",".join(type_)
        with errors():
            client = ExportsClient(require_hub(hub), key)
            if kind == "misp":
                _export_feed(client, out_path, params)
                return
            body = client.export(export_path(kind), params)
        if out_path is None:
            typer.echo(body.decode("utf-8"), nl=False)
        else:
            out_path.write_bytes(body)
            err.print(f"Wrote {len(body):,} bytes to {out_path}.", highlight=False)


def _export_feed(client: ExportsClient, directory: Path | None, params: dict[str, str]) -> None:
    if directory is None:
        raise InvalidInput("a MISP feed is a directory: give --out DIR")
    directory.mkdir(parents=True, exist_ok=True)
    manifest = client.export(export_path("misp-manifest"), params)
    (directory / "manifest.json").write_bytes(manifest)
    events = orjson.loads(manifest)
    for event_uuid in events:
        body = client.export(f"/api/v1/exports/misp/{event_uuid}.json", params)
        (directory / f"{event_uuid}.json").write_bytes(body)
    hashes = client.export(export_path("misp-hashes"), params)
    (directory / "hashes.csv").write_bytes(hashes)
    err.print(f"Wrote a MISP feed of {len(events)} events to {directory}.", highlight=False)
