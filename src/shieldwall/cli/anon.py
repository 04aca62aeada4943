"""``shieldwall anon``: unlinkable submission from a member's side, and the operator's
batch and sealed-table commands."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from shieldwall.cli.common import (
    CountryOption,
    DatabaseOption,
    GroupOption,
    HubOption,
    KeyOption,
    OrgOption,
    SectorOption,
    errors,
    out,
    require_hub,
    run,
)
from shieldwall.cli.member import load_objects, scope_fields, show_findings
from shieldwall.cli.report import analyse_file
from shieldwall.client.hub import HubClient
from shieldwall.client.wallet import Wallet, default_state_dir, fetch_tokens
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.scrub import Assets, scrub_objects, strip_attribution
from shieldwall.services import anonymity

app = typer.Typer(
    help="Anonymous submission (tokens, unlinkable submit, batches).", no_args_is_help=True
)
StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="Where tokens are kept (default: $SHIELDWALL_STATE_DIR,"
        " else ~/.local/share/shieldwall)",
    ),
]
ProxyOption = Annotated[
    str | None,
    typer.Option(
        "--proxy",
        help="Send anonymous requests through this proxy, e.g. socks5://127.0.0.1:9050 for Tor",
    ),
]


@app.command("tokens")
def tokens(
    count: Annotated[int, typer.Option("--count", help="How many tokens to fetch")] = 10,
    hub: HubOption = None,
    key: KeyOption = None,
    state: StateOption = None,
    proxy: ProxyOption = None,
) -> None:
    """Fetch blind tokens and keep them locally; pins the hub's announced keys and refuses
    tokens under any other key."""
    with errors():
        url = require_hub(hub)
        client = HubClient(url, key, proxy=proxy)
        wallet = Wallet(url, state or default_state_dir())
        fetched = fetch_tokens(client, wallet, count)
    out.print(
        f"Fetched {len(fetched)} tokens (epoch {fetched[0].epoch}); the wallet now holds"
        f" {len(wallet.tokens)}.",
        highlight=False,
    )


@app.command("submit")
def submit(
    file: Annotated[
        Path,
        typer.Argument(
            help="A STIX bundle (.json) or a text report (.txt, .md, .adoc, .html) turned into one"
        ),
    ],
    tlp: Annotated[str, typer.Option(help="TLP of the submission")] = "amber",
    sector: SectorOption = None,
    country: CountryOption = None,
    group: GroupOption = None,
    org: OrgOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Send without asking")] = False,
    delay: Annotated[
        float, typer.Option(help="Wait a random 0..DELAY seconds before sending")
    ] = 0.0,
    hub: HubOption = None,
    key: KeyOption = None,
    state: StateOption = None,
    proxy: ProxyOption = None,
) -> None:
    """Submit unlinkably: scrub your own assets and personal data, show what will leave,
    then spend one token over a connection that carries no credentials."""
    with errors():
        url = require_hub(hub)
        client = HubClient(url, None, proxy=proxy)  # nothing authenticated from here on
        wallet = Wallet(url, state or default_state_dir())
        if wallet.assets is None and key:
            out.print(
                "[yellow]Fetching your declared assets now, with your key: the hub sees"
                " that call just before the submission. Run shieldwall anon tokens ahead"
                " of time to avoid it.[/]"
            )
            wallet.assets = HubClient(url, key, proxy=proxy).my_assets()
            wallet.save()
        declared = wallet.assets or {"domains": [], "cidrs": [], "keywords": []}
        assets = Assets.parse(declared["domains"], declared["cidrs"], declared["keywords"])
        if file.suffix.lower() == ".json":
            objects = load_objects(file)
        else:  # a free-text report: extract it here, on the member's machine
            analysis = analyse_file(
                file, input_format=None, redact=True, include_benign=False, assets=assets
            )
            objects = [o for o in analysis.bundle["objects"] if isinstance(o, dict)]  # type: ignore[attr-defined]
        result = scrub_objects(strip_attribution(objects), assets)
        if wallet.assets is None:
            out.print(
                "[yellow]Your declared assets are not in the wallet (run shieldwall anon"
                " tokens first): only personal data was scrubbed.[/]"
            )
        show_findings(result.findings)
        _show_leaving(result.objects, tlp)
        if not result.objects:
            raise InvalidInput("nothing is left to send")
        if not yes and not typer.confirm("Send this anonymously?", default=False):
            raise typer.Exit(1)
        epochs = {k.epoch for k in client.announced_keys()}
        token = wallet.take(epochs)
        if delay > 0:
            time.sleep(random.uniform(0, delay))
        answer = client.submit_unlinkable(
            token.to_wire(), result.objects, tlp, scope_fields(sector, country, group, org)
        )
    out.print(f"Queued {answer['objects']} objects for the next anonymous batch.")
    for line in answer.get("removed", []):
        out.print(f"  hub removed: {line}", highlight=False)
    out.print("Receipt (keep it to check the status; it is the only link to your submission):")
    print(answer["receipt"])


def _show_leaving(objects: list[dict[str, object]], tlp: str) -> None:
    table = Table(title=f"What will leave (TLP:{tlp.upper()})")
    table.add_column("type")
    table.add_column("id", overflow="fold")
    table.add_column("content", overflow="fold")
    for obj in objects:
        content = obj.get("pattern") or obj.get("name") or obj.get("value") or ""
        table.add_row(str(obj.get("type")), str(obj.get("id")), str(content)[:120])
    out.print(table)


@app.command("status")
def status(receipt: str, hub: HubOption = None, proxy: ProxyOption = None) -> None:
    """Check an unlinkable submission's status with its receipt (no key is sent)."""
    with errors():
        answer = HubClient(require_hub(hub), None, proxy=proxy).receipt(receipt)
    out.print(f"Status: {answer['status']}", highlight=False)
    for object_id in answer.get("published", []):
        out.print(f"  published as {object_id}", highlight=False)
    for object_id, reason in answer.get("failed", {}).items():
        out.print(f"  not published {object_id}: {reason}", highlight=False)


@app.command("publish")
def publish(
    force: Annotated[
        bool, typer.Option("--force", help="Publish even below the batch size")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Operators: publish waiting unlinkable submissions when a batch is due."""
    count = run(database, lambda h: anonymity.publish_ready(h, force=force))
    out.print(
        f"Published {count} anonymous submissions."
        if count
        else "No batch is due (use --force to publish fewer than the batch size)."
    )


@app.command("reveal")
def reveal(
    object_id: str,
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail)")],
    database: DatabaseOption = None,
) -> None:
    """Operators: who submitted an object anonymously to members (audited). Unlinkable
    submissions have no submitter on record: nobody can reveal them."""
    names = run(database, lambda h: anonymity.reveal_submitter(h, None, object_id, reason))
    out.print(orjson.dumps({"object": object_id, "submitters": names}).decode(), highlight=False)
