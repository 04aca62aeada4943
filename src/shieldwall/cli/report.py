"""``shieldwall report extract``: free text in, STIX out, on the analyst's machine."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from shieldwall.cli.common import HubOption, KeyOption, errors, out, print_json
from shieldwall.client.hub import HubClient
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.extraction import detect_format
from shieldwall.domain.intake import Analysis, analyse, analysis_body
from shieldwall.domain.scrub import Assets

app = typer.Typer(help="Report intake: turn free-text reports into STIX.", no_args_is_help=True)


def analyse_file(
    path: Path,
    *,
    input_format: str | None,
    redact: bool,
    include_benign: bool,
    assets: Assets,
    name: str | None = None,
) -> Analysis:
    """Read and analyse a report file (plain text, Markdown, AsciiDoc or HTML)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    fmt = input_format or detect_format(path.name, text)
    return analyse(
        text,
        fmt,
        assets,
        name=name or path.stem.replace("_", " "),
        created=time.time_ns() // 1000,
        new_id=lambda t: f"{t}--{uuid.uuid4()}",
        redact=redact,
        include_benign=include_benign,
    )


def fetch_assets(hub: str | None, key: str | None) -> Assets:
    """The caller's declared assets from its hub, or none without a hub and key."""
    if not (hub and key):
        return Assets()
    declared = HubClient(hub, key).my_assets()
    return Assets.parse(declared["domains"], declared["cidrs"], declared["keywords"])


def render_table(analysis: Analysis) -> None:
    """Indicators, techniques, names and victim flags as tables."""
    extraction = analysis.extraction
    table = Table(title=f"Indicators ({len(extraction.indicators)})")
    for column in ("kind", "value", "in bundle"):
        table.add_column(column, overflow="fold")
    for indicator in extraction.indicators:
        kept = "no (victim's own)" if indicator.value in analysis.dropped_indicators else "yes"
        table.add_row(indicator.kind, indicator.value, kept)
    out.print(table)
    if extraction.techniques:
        techniques = Table(title="ATT&CK techniques")
        techniques.add_column("id")
        techniques.add_column("name")
        for technique in extraction.techniques:
            techniques.add_row(technique.id, technique.name)
        out.print(techniques)
    for label, names in (
        ("Malware", extraction.malware),
        ("Tools", extraction.tools),
        ("Vulnerabilities", extraction.vulnerabilities),
    ):
        if names:
            out.print(f"{label}: {', '.join(names)}", highlight=False)
    if analysis.flags:
        flags = Table(title="Victim details flagged")
        for column in ("where", "at", "value", "rule"):
            flags.add_column(column, overflow="fold")
        for flag in analysis.flags:
            flags.add_row(flag.where, f"{flag.start}-{flag.end}", flag.value, flag.rule)
        out.print(flags)
    if extraction.skipped:
        out.print(
            f"Not made indicators: {len(extraction.skipped)} values (benign, reference or"
            " private; --include-benign keeps them)."
        )


@app.command("extract")
def extract(
    file: Annotated[Path, typer.Argument(help="The report: .txt, .md, .adoc or .html")],
    output: Annotated[str, typer.Option("--format", help="stix, json or table")] = "table",
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format", help="text, markdown, asciidoc or html (default: from the file)"
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact", help="Redact victim details and leave out the victim's own indicators"
        ),
    ] = False,
    include_benign: Annotated[
        bool,
        typer.Option(
            "--include-benign", help="Keep private, documentation and well-known benign values"
        ),
    ] = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Extract indicators, ATT&CK techniques and names; flag the victim's details (your
    declared assets are fetched from the hub when --hub and --key are given)."""
    if output not in ("stix", "json", "table"):
        raise typer.BadParameter("--format must be stix, json or table")
    with errors():
        analysis = analyse_file(
            file,
            input_format=input_format,
            redact=redact,
            include_benign=include_benign,
            assets=fetch_assets(hub, key),
        )
    if output == "stix":
        print_json(analysis.bundle)
    elif output == "json":
        print_json(analysis_body(analysis))
    else:
        render_table(analysis)
