"""``shieldwall attest``: security attestations from the command line
(docs/attestations.md).

Every command but ``remind`` talks to a hub over HTTP with ``--hub``/``--key``; ``remind``
runs one reminder pass on the database (operators).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
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
from shieldwall.client.attestations import AttestationsClient
from shieldwall.domain.errors import InvalidInput

app = typer.Typer(
    help="Security attestations between firms and the organisations that retain them.",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print the hub's JSON answer")]
TemplateOption = Annotated[str, typer.Option("--template", help="Template name")]
DEFAULT_TEMPLATE = "bank-law-firm-baseline"


def _client(hub: str | None, key: str | None) -> AttestationsClient:
    return AttestationsClient(require_hub(hub), key)


def _read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc}") from None


def _expiry(item: dict[str, Any]) -> str:
    if not item.get("valid_until"):
        return "no validity period yet"
    if item.get("expired"):
        return f"EXPIRED on {item['expires_at']}"
    return f"expires {item['expires_at']} ({item['days_left']} days left)"


def _answer(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _show(item: dict[str, Any]) -> None:
    version = item["version"] if item["version"] is not None else "draft"
    out.print(
        f"[bold]{item['firm']}[/] — {item['template']['name']} v{item['template']['version']},"
        f" attestation version {version} ({item['status']})",
        highlight=False,
    )
    if item.get("current_version") not in (None, item["version"]):
        out.print(f"  a newer version is current: {item['current_version']}", highlight=False)
    out.print(f"  {_expiry(item)}", highlight=False)
    if item.get("published"):
        out.print(f"  published {item['published']}", highlight=False)
    signer = item.get("signer") or {}
    if signer.get("name"):
        out.print(f"  signed by {signer['name']}, {signer['title']}", highlight=False)
    if item.get("changed_since") is not None:
        changed = ", ".join(item["changed_since"]) or "nothing"
        out.print(
            f"  changed since version {item.get('last_viewed_version')}: {changed}",
            highlight=False,
        )
    rows: list[tuple[str, ...]] = []
    answers = item.get("answers", {})
    for question in item.get("questions", []):
        value = answers.get(question["id"])
        rows.append((question["text"], "—" if value is None else _answer(value)))
    print_table(("question", "answer"), rows, "Answers")
    for evidence in item.get("evidence", []):
        out.print(
            f"  evidence {evidence['id']}: {evidence['filename']} ({evidence['media_type']},"
            f" {evidence['size']} bytes, sha256 {evidence['sha256']})",
            highlight=False,
        )


@app.command("templates")
def templates(as_json: JsonOption = False, hub: HubOption = None, key: KeyOption = None) -> None:
    """Questionnaire templates and their versions."""
    with errors():
        items = _client(hub, key).templates()
    if as_json:
        print_json(items)
        return
    rows: list[tuple[str, ...]] = []
    for item in items:
        rows.append(
            (item["name"], str(item["version"]), item["title"], str(len(item["questions"])))
        )
    print_table(("name", "version", "title", "questions"), rows, f"Templates ({len(items)})")


@app.command("template-add")
def template_add(
    file: Annotated[Path, typer.Argument(help="JSON: {name, title, questions: [...]}")],
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Operators: add a template, or the next version of one, from a JSON file."""
    with errors():
        body = _read_json(file)
        if not isinstance(body, dict):
            raise InvalidInput(f"{file} must hold an object with name, title and questions")
        made = _client(hub, key).add_template(
            str(body.get("name", "")), str(body.get("title", "")), list(body.get("questions", []))
        )
    out.print(f"Stored template {made['name']} version {made['version']}.", highlight=False)


@app.command("new")
def new(
    answers: Annotated[Path, typer.Option(help="JSON file of answers by question id")],
    valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    valid_until: Annotated[str, typer.Option(help="YYYY-MM-DD (first day no longer valid)")],
    signer_name: Annotated[str, typer.Option(help="Who signs")],
    signer_title: Annotated[str, typer.Option(help="The signer's title")],
    template: TemplateOption = DEFAULT_TEMPLATE,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Start a draft attestation; prints its id on the last line."""
    with errors():
        made = _client(hub, key).create(
            {
                "template": template,
                "answers": _read_json(answers),
                "valid_from": valid_from,
                "valid_until": valid_until,
                "signer_name": signer_name,
                "signer_title": signer_title,
            }
        )
    out.print("Draft saved; attach evidence, then publish it.", highlight=False)
    print(made["id"])


@app.command("evidence")
def evidence(
    attestation_id: Annotated[str, typer.Argument(help="A draft's id")],
    file: Annotated[Path, typer.Argument(help="PDF, PNG, JPEG or plain text")],
    name: Annotated[str | None, typer.Option(help="Name to show (default: the file's)")] = None,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Attach an evidence file to a draft."""
    with errors():
        try:
            content = file.read_bytes()
        except FileNotFoundError:
            raise InvalidInput(f"{file}: no such file") from None
        made = _client(hub, key).upload(attestation_id, name or file.name, content)
    out.print(
        f"Attached {made['filename']} ({made['media_type']}, {made['size']} bytes).",
        highlight=False,
    )
    print(made["id"])


@app.command("download")
def download(
    evidence_id: Annotated[str, typer.Argument(help="An evidence file's id")],
    output: Annotated[Path, typer.Option("--out", help="Where to write it")],
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Download an evidence file of an attestation you may see."""
    with errors():
        digest, content = _client(hub, key).download(evidence_id)
    output.write_bytes(content)
    out.print(f"Wrote {len(content)} bytes to {output} (sha256 {digest}).", highlight=False)


@app.command("publish")
def publish(
    attestation_id: Annotated[str, typer.Argument(help="A draft's id")],
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Publish a draft: it becomes the current version; grantees see it at once."""
    with errors():
        item = _client(hub, key).publish(attestation_id)
    out.print(f"Published version {item['version']}; {_expiry(item)}.", highlight=False)
    print(item["id"])


@app.command("list")
def list_(as_json: JsonOption = False, hub: HubOption = None, key: KeyOption = None) -> None:
    """Your attestations and those firms granted you."""
    with errors():
        items = _client(hub, key).visible()
    if as_json:
        print_json(items)
        return
    rows: list[tuple[str, ...]] = []
    for item in items:
        rows.append(
            (
                item["id"],
                item["firm"],
                item["template"]["name"],
                str(item["version"] or "draft"),
                item["status"],
                _expiry(item),
            )
        )
    print_table(
        ("id", "firm", "template", "version", "status", "expiry"),
        rows,
        f"Attestations ({len(items)})",
    )


@app.command("show")
def show(
    attestation_id: Annotated[str, typer.Argument(help="An attestation version's id")],
    as_json: JsonOption = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """One attestation: answers, evidence, expiry, and what changed since you last looked."""
    with errors():
        item = _client(hub, key).show(attestation_id)
    if as_json:
        print_json(item)
        return
    _show(item)


@app.command("history")
def history(
    attestation_id: Annotated[str, typer.Argument(help="An attestation version's id")],
    as_json: JsonOption = False,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Every published version of the same firm and template, newest first."""
    with errors():
        items = _client(hub, key).history(attestation_id)
    if as_json:
        print_json(items)
        return
    rows: list[tuple[str, ...]] = []
    for item in items:
        changed = item.get("changed_since")
        rows.append(
            (
                str(item["version"]),
                item["id"],
                item["status"],
                item.get("published") or "",
                _expiry(item),
                "(first)" if changed is None else ", ".join(changed) or "none",
            )
        )
    print_table(
        ("version", "id", "status", "published", "expiry", "changed answers"),
        rows,
        f"Versions ({len(items)})",
    )


@app.command("request")
def request(
    firm: Annotated[str, typer.Argument(help="The firm's organisation name")],
    template: TemplateOption = DEFAULT_TEMPLATE,
    message: Annotated[str, typer.Option(help="A note to the firm")] = "",
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Ask a firm for its attestation; prints the request's id on the last line."""
    with errors():
        made = _client(hub, key).request(firm, template, message)
    out.print(f"Request to {made['firm']}: {made['status']}.", highlight=False)
    print(made["id"])


@app.command("requests")
def requests(as_json: JsonOption = False, hub: HubOption = None, key: KeyOption = None) -> None:
    """Requests you made or received."""
    with errors():
        items = _client(hub, key).requests()
    if as_json:
        print_json(items)
        return
    rows: list[tuple[str, ...]] = []
    for item in items:
        rows.append(
            (
                item["id"],
                item["requester"],
                item["firm"],
                item["template"],
                item["status"],
                item["created"],
                item["message"],
            )
        )
    print_table(
        ("id", "from", "to", "template", "status", "created", "message"),
        rows,
        f"Requests ({len(items)})",
    )


@app.command("grant")
def grant(
    request_id: Annotated[str, typer.Argument(help="A pending request's id")],
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Firms: grant a request (the requester sees your published attestation)."""
    with errors():
        item = _client(hub, key).respond(request_id, True)
    out.print(f"Granted {item['requester']} ({item['template']}).", highlight=False)


@app.command("decline")
def decline(
    request_id: Annotated[str, typer.Argument(help="A pending request's id")],
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Firms: decline a request."""
    with errors():
        item = _client(hub, key).respond(request_id, False)
    out.print(f"Declined {item['requester']} ({item['template']}).", highlight=False)


@app.command("revoke")
def revoke(
    grantee: Annotated[str, typer.Argument(help="The organisation's name")],
    template: Annotated[str | None, typer.Option(help="Only this template")] = None,
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Firms: revoke grants; the organisation's next request is refused."""
    with errors():
        answer = _client(hub, key).revoke(grantee, template)
    out.print(f"Revoked {grantee}: {', '.join(answer['revoked'])}.", highlight=False)


@app.command("grants")
def grants(as_json: JsonOption = False, hub: HubOption = None, key: KeyOption = None) -> None:
    """Grants you gave or hold."""
    with errors():
        items = _client(hub, key).grants()
    if as_json:
        print_json(items)
        return
    rows: list[tuple[str, ...]] = []
    for item in items:
        rows.append(
            (
                item["firm"],
                item["grantee"],
                item["template"],
                "yes" if item["active"] else "no",
                item["granted"],
                item["revoked"] or "",
            )
        )
    print_table(
        ("firm", "grantee", "template", "active", "granted", "revoked"),
        rows,
        f"Grants ({len(items)})",
    )


@app.command("remind")
def remind(database: DatabaseOption = None) -> None:
    """Operators: run one expiry-reminder pass now (the server runs one every hour)."""
    from shieldwall.services import attestations

    done = run(database, attestations.remind)
    out.print(
        f"{done.reminders} reminders: {done.sent} messages sent, {done.failed} failed.",
        highlight=False,
    )
