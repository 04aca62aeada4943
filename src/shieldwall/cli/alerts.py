"""``shieldwall alerts``: government alerts from the command line (docs/alerts.md).

Every command but ``deliver`` talks to a hub over HTTP with ``--hub``/``--key``;
``deliver`` runs one delivery pass on the database (operators).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shieldwall.cli.common import (
    DatabaseOption,
    HubOption,
    KeyOption,
    errors,
    out,
    print_json,
    print_table,
    require_hub,
    run,
)
from shieldwall.client.alerts import AlertsClient
from shieldwall.domain.errors import InvalidInput, Unprocessable

app = typer.Typer(
    help="Government alerts: victim notifications, advisories, acknowledgements, delivery.",
    no_args_is_help=True,
)
channels_app = typer.Typer(help="Delivery channels (webhooks, e-mail).", no_args_is_help=True)
app.add_typer(channels_app, name="channels")

JsonOption = Annotated[bool, typer.Option("--json", help="Print the hub's JSON answer")]
IndicatorOption = Annotated[
    list[str] | None,
    typer.Option(
        "--indicator",
        help="A STIX pattern or a value (IP, range, domain, URL, e-mail, hash); repeatable",
    ),
]
ActionOption = Annotated[
    list[str] | None, typer.Option("--action", help="A recommended action; repeatable")
]
DescriptionOption = Annotated[str, typer.Option(help="The description")]
DescriptionFileOption = Annotated[
    Path | None, typer.Option(help="Read the description from this file")
]


def _client(hub: str | None, key: str | None) -> AlertsClient:
    return AlertsClient(require_hub(hub), key)


def _description(text: str, path: Path | None) -> str:
    if path is None:
        return text
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None


def _content(
    title: str,
    description: str,
    indicators: list[str] | None,
    actions: list[str] | None,
) -> dict[str, object]:
    return {
        "title": title,
        "description": description,
        "indicators": list(indicators or []),
        "actions": list(actions or []),
    }


def _reach(reach: dict[str, Any]) -> None:
    out.print(f"Releasability: {reach['summary']}.", highlight=False)
    if reach.get("by_country"):
        countries = ", ".join(f"{c} {n}" for c, n in reach["by_country"].items())
        out.print(f"  by country: {countries}", highlight=False)
    if reach.get("by_sector"):
        sectors = ", ".join(f"{s} {n}" for s, n in reach["by_sector"].items())
        out.print(f"  by sector: {sectors}", highlight=False)
    leaves = reach.get("leaves_hub", {})
    where = [k.replace("_", " ") for k, v in leaves.items() if v]
    out.print(f"  leaves the hub: {', '.join(where) if where else 'never'}", highlight=False)


def _leaks(leaks: list[dict[str, Any]]) -> None:
    rows: list[tuple[str, ...]] = []
    for leak in leaks:
        rows.append(
            (
                str(leak.get("object", "")),
                str(leak.get("field", "")),
                str(leak.get("value", "")),
                str(leak.get("rule", "")),
                str(leak.get("victim") or ""),
            )
        )
    print_table(
        ("object", "field", "value", "rule", "victim"),
        rows,
        f"Leaks ({len(leaks)}): remove them before publishing",
    )


@app.command("notify")
def notify(
    victim: Annotated[str, typer.Argument(help="The organisation: its name or identity id")],
    title: Annotated[str, typer.Option(help="What happened, in one line")],
    description: DescriptionOption = "",
    description_file: DescriptionFileOption = None,
    indicator: IndicatorOption = None,
    action: ActionOption = None,
    as_json: JsonOption = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Send a TLP:RED notification to one organisation (government organisations only);
    print its id alone on the last line."""
    with errors():
        body = _content(title, _description(description, description_file), indicator, action)
        answer = _client(hub, key).notify({**body, "victim": victim})
    if as_json:
        print_json(answer)
        return
    out.print(
        f"Sent a {answer['tlp']} victim notification to {victim};"
        f" {answer['deliveries_queued']} deliveries queued.",
        highlight=False,
    )
    print(answer["id"])


@app.command("advisory")
def advisory(
    title: Annotated[str, typer.Option(help="What happened, in one line")],
    description: DescriptionOption = "",
    description_file: DescriptionFileOption = None,
    indicator: IndicatorOption = None,
    action: ActionOption = None,
    label: Annotated[list[str] | None, typer.Option(help="A label; repeatable")] = None,
    tlp: Annotated[str, typer.Option(help="clear, green, amber or amber+strict")] = "amber",
    sector: Annotated[list[str] | None, typer.Option(help="Sector in scope; repeatable")] = None,
    country: Annotated[list[str] | None, typer.Option(help="Country in scope; repeatable")] = None,
    group: Annotated[list[str] | None, typer.Option(help="Group in scope; repeatable")] = None,
    org: Annotated[
        list[str] | None, typer.Option(help="Organisation (identity id) in scope; repeatable")
    ] = None,
    notification: Annotated[
        list[str] | None,
        typer.Option(help="A notification this advisory comes from (kept private); repeatable"),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only check: show leaks and reach, publish nothing")
    ] = False,
    as_json: JsonOption = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Publish an advisory to a scope (government organisations only). The hub refuses it,
    listing every leak, while it points at a victim of the linked notifications or holds
    personal data. Prints its id alone on the last line."""
    scope = {
        k: v
        for k, v in (
            ("sectors", sector),
            ("countries", country),
            ("groups", group),
            ("organizations", org),
        )
        if v
    }
    with errors():
        body: dict[str, object] = {
            **_content(title, _description(description, description_file), indicator, action),
            "labels": list(label or []),
            "tlp": tlp,
            "scope": scope,
            "notifications": list(notification or []),
        }
        client = _client(hub, key)
        if check:
            answer = client.check_advisory(body)
            if as_json:
                print_json(answer)
            else:
                _reach(answer["reach"])
                if answer["leaks"]:
                    _leaks(answer["leaks"])
                else:
                    out.print("No leaks found: the advisory may be published.")
            if answer["leaks"]:
                raise typer.Exit(2)
            return
        try:
            answer = client.publish_advisory(body)
        except Unprocessable as refused:
            if as_json:
                print_json({"error": refused.message, "leaks": refused.details})
            else:
                _leaks([d for d in refused.details if isinstance(d, dict)])
            raise
    if as_json:
        print_json(answer)
        return
    out.print(
        f"Published a {answer['tlp']} advisory; {answer['deliveries_queued']} deliveries queued.",
        highlight=False,
    )
    _reach(answer["reach"])
    print(answer["id"])


@app.command("inbox")
def inbox(
    kind: Annotated[str | None, typer.Option(help="notification or advisory")] = None,
    unacknowledged: Annotated[
        bool, typer.Option("--unacknowledged", help="Only alerts not yet acknowledged")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    as_json: JsonOption = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Alerts your organisation may read (sent to it or by it), newest first."""
    with errors():
        items = _client(hub, key).inbox(kind, unacknowledged, limit)
    if as_json:
        print_json(items)
        return
    rows: list[tuple[str, ...]] = []
    for item in items:
        ack = item.get("acknowledged")
        state = "sent by you" if item.get("sent_by_you") else ("yes" if ack else "no")
        if ack and ack.get("named"):
            state += " (named)"
        rows.append(
            (
                item["id"],
                item["kind"],
                item["tlp"],
                str(item["title"]),
                item["sender"],
                item["created"][:19],
                state,
            )
        )
    print_table(
        ("id", "kind", "tlp", "title", "from", "created", "acknowledged"),
        rows,
        f"Alerts ({len(items)})",
    )


@app.command("show")
def show(
    alert_id: Annotated[str, typer.Argument(help="The alert's id (report--…)")],
    as_json: JsonOption = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """One alert: its text, indicators and recommended actions."""
    with errors():
        alert = _client(hub, key).show(alert_id)
    if as_json:
        print_json(alert)
        return
    objects: list[dict[str, Any]] = alert["objects"]
    report = objects[0] if objects else {}
    out.print(
        f"[bold]{alert['title']}[/] ({alert['tlp']} {alert['kind']} from {alert['sender']},"
        f" {alert['created'][:19]})"
    )
    if alert.get("victim"):
        out.print(f"Victim (you alone see this): {alert['victim']}", highlight=False)
    if alert.get("linked_notifications"):
        linked = ", ".join(alert["linked_notifications"])
        out.print(f"Written from notifications (kept private): {linked}", highlight=False)
    if report.get("description"):
        out.print(str(report["description"]), highlight=False)
    patterns = [o["pattern"] for o in objects if o.get("type") == "indicator"]
    if patterns:
        out.print("Indicators:")
        for pattern in patterns:
            out.print(f"  {pattern}", highlight=False)
    actions = [o.get("description", "") for o in objects if o.get("type") == "course-of-action"]
    if actions:
        out.print("Recommended actions:")
        for text in actions:
            out.print(f"  - {text}", highlight=False)
    ack = alert.get("acknowledged")
    if not alert.get("sent_by_you"):
        out.print(
            f"Acknowledged: {ack['at'][:19] if ack else 'no'}"
            + (" (named)" if ack and ack.get("named") else ""),
            highlight=False,
        )


@app.command("ack")
def ack(
    alert_id: Annotated[str, typer.Argument(help="The alert's id")],
    named: Annotated[
        bool, typer.Option("--named", help="Let the sender see your organisation's name")
    ] = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Acknowledge an alert (anonymously in the sender's figures unless --named)."""
    with errors():
        answer = _client(hub, key).acknowledge(alert_id, named)
    state = answer["acknowledged"]
    out.print(
        f"Acknowledged {alert_id} ({'named' if state['named'] else 'not named'} to the sender).",
        highlight=False,
    )


@app.command("acks")
def acks(
    alert_id: Annotated[str, typer.Argument(help="An alert you sent")],
    as_json: JsonOption = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Acknowledgement figures of an alert you sent."""
    with errors():
        figures = _client(hub, key).acknowledgements(alert_id)
    if as_json:
        print_json(figures)
        return
    out.print(
        f"Acknowledged by {figures['acknowledged']} of {figures['recipients']} recipients.",
        highlight=False,
    )
    for title, key_name in (("by sector", "by_sector"), ("by country", "by_country")):
        counts: dict[str, int] = figures[key_name]
        if counts:
            out.print(
                f"  {title}: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
                highlight=False,
            )
    named = figures["named"]
    out.print(f"  named: {', '.join(named) if named else '(none chose to be named)'}")


@app.command("deliveries")
def deliveries(
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    as_json: JsonOption = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Your organisation's delivery log: each delivery and its attempts."""
    with errors():
        items = _client(hub, key).deliveries(limit)
    if as_json:
        print_json(items)
        return
    rows: list[tuple[str, ...]] = []
    for item in items:
        attempts = item["attempts"]
        last = attempts[-1] if attempts else None
        rows.append(
            (
                item["alert"],
                f"{item['kind']} {item['target']}",
                item["status"],
                str(len(attempts)),
                f"{last['at'][:19]} {last['detail']}" if last else "",
            )
        )
    print_table(
        ("alert", "channel", "status", "attempts", "last"), rows, f"Deliveries ({len(items)})"
    )


@app.command("deliver")
def deliver(
    limit: Annotated[int, typer.Option(help="At most this many deliveries")] = 200,
    database: DatabaseOption = None,
) -> None:
    """Operators: run one delivery pass now (the server also runs one every few seconds)."""
    from shieldwall.services import delivery

    done = run(database, lambda hub: delivery.deliver_due(hub, limit))
    recovered = f"; {done.recovered} alerts recovered" if done.recovered else ""
    out.print(
        f"{done.delivered} delivered, {done.retrying} to retry, {done.failed} failed,"
        f" {done.skipped} skipped{recovered}.",
        highlight=False,
    )


@channels_app.command("list")
def channels_list(
    org: Annotated[str | None, typer.Option(help="Operators: another organisation")] = None,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Your delivery channels (secrets are never shown again)."""
    with errors():
        items = _client(hub, key).channels(org)
    rows: list[tuple[str, ...]] = []
    for item in items:
        rows.append((item["id"], item["kind"], item["target"], item["created"][:19]))
    print_table(("id", "kind", "target", "created"), rows, f"Delivery channels ({len(items)})")


@channels_app.command("add")
def channels_add(
    webhook: Annotated[str | None, typer.Option(help="An https URL to POST alerts to")] = None,
    email: Annotated[str | None, typer.Option(help="An e-mail address")] = None,
    org: Annotated[str | None, typer.Option(help="Operators: another organisation")] = None,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Add a webhook or an e-mail channel; a webhook's signing secret is printed once,
    alone on the last line."""
    with errors():
        if (webhook is None) == (email is None):
            raise InvalidInput("give exactly one of --webhook URL or --email ADDRESS")
        kind, target = ("webhook", webhook) if webhook is not None else ("email", email)
        assert target is not None
        answer = _client(hub, key).add_channel(kind, target, org)
    out.print(f"Added {kind} channel {answer['id']} ({answer['target']}).", highlight=False)
    if answer.get("secret"):
        out.print("Signing secret (store it now; it cannot be shown again):")
        print(answer["secret"])


@channels_app.command("remove")
def channels_remove(
    channel_id: Annotated[str, typer.Argument(help="The channel's id")],
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Remove a delivery channel."""
    with errors():
        _client(hub, key).remove_channel(channel_id)
    out.print(f"Removed channel {channel_id}.", highlight=False)
