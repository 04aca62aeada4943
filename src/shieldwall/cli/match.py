"""``shieldwall match``, ``shieldwall lookup`` and ``shieldwall export-filter``: a member
checks its logs and values against the hub's indicators (docs/matching.md)."""

from __future__ import annotations

import csv
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

import orjson
import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from shieldwall.cli.common import HubOption, KeyOption, err, errors, out, require_hub
from shieldwall.client.hub import HubClient
from shieldwall.client.indicators import IndicatorCache
from shieldwall.client.lookup import fetch_filter, offline_check, private_check
from shieldwall.client.matching import (
    LogHit,
    match_local,
    match_offline,
    match_private,
    match_server,
    sightings,
)
from shieldwall.client.wallet import default_state_dir
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.logs import FORMATS, LogRecord, read_records
from shieldwall.domain.lookup import LookupFilter, guess
from shieldwall.domain.timestamps import format_timestamp

StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state", help="Where the indicator cache lives (default: $SHIELDWALL_STATE_DIR)"
    ),
]


class Output(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _micros() -> int:
    return time.time_ns() // 1000


def _lines(handle: IO[str]) -> Iterator[str]:
    for line in handle:
        yield line.rstrip("\r\n")


def _records(files: list[Path], fmt: str, stack: ExitStack) -> Iterator[LogRecord]:
    """All records of all files in order (files are opened now, so a missing one fails
    before anything is matched)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown log format {fmt!r}; choose one of {', '.join(FORMATS)}")
    sources: list[tuple[str, IO[str]]] = []
    for path in files:
        if str(path) == "-":
            sources.append(("-", sys.stdin))
            continue
        try:
            handle = stack.enter_context(path.open(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            raise InvalidInput(f"{path}: no such file") from None
        except IsADirectoryError:
            raise InvalidInput(f"{path} is a directory; give log files") from None
        sources.append((str(path), handle))

    def chained() -> Iterator[LogRecord]:
        for name, handle in sources:
            yield from read_records(_lines(handle), fmt, name)

    return chained()


def _progress(stack: ExitStack, label: str) -> Callable[[int], None] | None:
    """A progress bar over input lines on a terminal (stderr); None when not interactive."""
    if not err.is_terminal:
        return None
    progress = stack.enter_context(
        Progress(
            TextColumn(label),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed:,} lines"),
            console=err,
            transient=True,
        )
    )
    task = progress.add_task(label, total=None)
    return lambda n: progress.advance(task, n)


def _render(hits: list[LogHit], output: Output, private: bool) -> None:
    rows = [
        {
            "source": h.source,
            "line": h.line_no,
            "kind": h.kind,
            "value": h.value,
            "indicator": h.indicator_id if h.indicator_id else "(known value)",
            "tlp": h.tlp,
            "score": h.score,
            "time": format_timestamp(h.timestamp) if h.timestamp is not None else None,
            "log_line": h.line,
        }
        for h in hits
    ]
    if output is Output.json:
        for row in rows:
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
        return
    if output is Output.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["source"])
        writer.writeheader()
        writer.writerows(rows)
        return
    if not rows:
        out.print("No matches.")
        return
    table = Table(title=f"{len(rows)} matches" + (" (private lookup)" if private else ""))
    columns = ("source", "line", "value", "indicator", "tlp", "score", "log_line")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the matching commands to the top-level command."""

    @app.command("match")
    def match(
        files: Annotated[list[Path], typer.Argument(help="Log files ('-' for standard input)")],
        log_format: Annotated[
            str, typer.Option("--format", help=f"Log format: {', '.join(FORMATS)}")
        ] = "auto",
        output: Annotated[Output, typer.Option(help="How hits are printed")] = Output.table,
        private: Annotated[
            bool,
            typer.Option(
                "--private", help="Private lookup: the hub learns how many values, never which"
            ),
        ] = False,
        server: Annotated[
            bool, typer.Option("--server", help="Let the hub match (it sees the values)")
        ] = False,
        filter_file: Annotated[
            Path | None,
            typer.Option("--filter", help="Match offline against an exported filter file"),
        ] = None,
        refresh: Annotated[
            bool, typer.Option(help="Refresh the local indicator cache first")
        ] = True,
        report_sightings: Annotated[
            bool,
            typer.Option(
                "--report-sightings", help="Send a sighting per matched indicator to the hub"
            ),
        ] = False,
        anonymous: Annotated[
            bool,
            typer.Option(
                "--anonymous", help="Report sightings anonymous to members (counted, not named)"
            ),
        ] = False,
        sighting_tlp: Annotated[str, typer.Option(help="TLP of reported sightings")] = "amber",
        hub: HubOption = None,
        key: KeyOption = None,
        state: StateOption = None,
    ) -> None:
        """Match log files against the indicators you may read; print the hits.

        By default indicators are downloaded into a local cache (refreshed incrementally)
        and matched here: nothing about your logs leaves the machine.
        """
        if sum((private, server, filter_file is not None)) > 1:
            with errors():
                raise InvalidInput("choose one of --private, --server and --filter")
        if report_sightings and (private or filter_file is not None):
            with errors():
                raise InvalidInput(
                    "--report-sightings needs the matching indicators; private and offline"
                    " matching only tell that a value is known"
                )
        with errors(), ExitStack() as stack:
            records = _records(files, log_format, stack)
            progress = _progress(stack, "matching")
            client: HubClient | None = None
            if filter_file is not None:
                found = match_offline(records, _read_filter(filter_file), progress)
            else:
                client = HubClient(require_hub(hub), key)
                if private:
                    found = match_private(records, client, fetch_filter(client), progress)
                elif server:
                    found = match_server(records, client, progress)
                else:
                    cache = IndicatorCache(client.url, key or "", state or default_state_dir())
                    if refresh:
                        added, removed = cache.refresh(client)
                        cache.save()
                        err.print(
                            f"{len(cache.indicators):,} indicators cached"
                            f" ({added:,} new or changed, {removed:,} removed).",
                            highlight=False,
                        )
                    found = match_local(records, cache.live(_micros()), progress)
            hits = list(found)
        _render(hits, output, private or filter_file is not None)
        if report_sightings and client is not None and hits:
            with errors():
                identity = None if anonymous else str(client.me()["identity_id"])
                objects = sightings(hits, _micros(), lambda: str(uuid.uuid4()), identity)
                status = client.submit(
                    list(objects),
                    tlp=sighting_tlp,
                    scope=None,
                    attribution="anonymous" if anonymous else "attributed",
                )
            err.print(
                f"Reported {status['success_count']} sightings"
                f" ({'anonymous to members' if anonymous else 'attributed'}).",
                highlight=False,
            )

    @app.command("lookup")
    def lookup(
        values: Annotated[list[str], typer.Argument(help="IPs, domains, URLs, hashes, e-mails")],
        private: Annotated[
            bool,
            typer.Option(
                "--private", help="Private lookup: the hub learns how many values, never which"
            ),
        ] = False,
        filter_file: Annotated[
            Path | None, typer.Option("--filter", help="Look up offline in an exported filter")
        ] = None,
        hub: HubOption = None,
        key: KeyOption = None,
    ) -> None:
        """Has anyone reported these values? One line per value: known or unknown.

        Without --private or --filter the hub matches the values itself (it sees them).
        """
        with errors():
            items = {value: guess(value) for value in values}
            unusable = [v for v, item in items.items() if item is None]
            if unusable:
                raise InvalidInput(
                    f"not an IP, domain, URL, e-mail address or hash: {', '.join(unusable)}"
                )
            wanted = [item for item in items.values() if item is not None]
            details: dict[str, list[str]] = {}
            if filter_file is not None or private:
                if filter_file is not None:
                    known_items = offline_check(_read_filter(filter_file), wanted)
                else:
                    client = HubClient(require_hub(hub), key)
                    known_items = private_check(client, fetch_filter(client), wanted)
                known = {v for v, item in items.items() if item in known_items}
            else:
                client = HubClient(require_hub(hub), key)
                answer = client.bulk_match([{"value": v} for v in values])
                for hit in answer["hits"]:
                    value = values[int(hit["position"])]
                    details.setdefault(value, []).append(
                        f"{hit['indicator_id']} {hit['tlp']}"
                        + (f" confidence {hit['confidence']}" if hit.get("confidence") else "")
                    )
                known = set(details)
        for value in values:
            if value in known:
                extra = "; ".join(details.get(value, []))
                out.print(f"known    {value}" + (f"  {extra}" if extra else ""), highlight=False)
            else:
                out.print(f"unknown  {value}", highlight=False)

    @app.command("export-filter")
    def export_filter(
        output: Annotated[Path, typer.Option("--out", "-o", help="Where to write the filter")],
        hub: HubOption = None,
        key: KeyOption = None,
    ) -> None:
        """Download an offline filter of the indicators you may read, for air-gapped
        matching (``shieldwall match --filter FILE``). Anyone holding the file can test
        values against it: keep it under the TLP its header names. The hub audits exports."""
        with errors():
            data = HubClient(require_hub(hub), key).lookup_export()
            exported = LookupFilter.from_bytes(data)
            output.write_bytes(data)
            output.chmod(0o600)
        header = exported.header
        out.print(
            f"Wrote {output}: {header.get('items')} values from {header.get('indicators')}"
            f" indicators, {header.get('tlp')}.",
            highlight=False,
        )


def _read_filter(path: Path) -> LookupFilter:
    try:
        return LookupFilter.from_bytes(path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
