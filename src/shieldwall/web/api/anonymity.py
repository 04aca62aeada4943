"""Anonymous submission over HTTP (architecture.md §4).

The redemption and receipt endpoints read no ``Authorization`` header, set no cookie, and
are left out of request logs and metrics (web/health.py) so that nothing about the
transport (address, user agent, time) is kept.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.domain.tlp import Tlp
from shieldwall.domain.tokens import SUITE
from shieldwall.services import anonymity
from shieldwall.web.api.scope_fields import parse_scope
from shieldwall.web.api.wire import b64, json_response, unb64
from shieldwall.web.deps import current_org, hub_of
from shieldwall.web.media import parse_json, read_body

router = APIRouter(prefix="/api/v1/anon", tags=["Anonymous submission"])
Caller = Annotated[Organisation, Depends(current_org)]
UNLOGGED_PREFIXES = ("/api/v1/anon/submissions", "/api/v1/anon/receipts")


class TokenRequest(BaseModel):
    """Blinded elements (base64) to be evaluated under the announced key of ``epoch``."""

    epoch: int
    blinded: list[str] = Field(min_length=1, max_length=100)


@router.get("/keys", summary="Token keys (stable URL: pin them)")
def keys(request: Request) -> Response:
    """The VOPRF public keys of the current and previous epochs. No key needed; clients
    fetch this anonymously and refuse tokens under any key not announced here."""
    epochs = anonymity.announced_keys(hub_of(request))
    return json_response(
        {
            "suite": SUITE,
            "epochs": [
                {
                    "epoch": e.epoch,
                    "public_key": e.public_key,
                    "not_before": format_timestamp(e.not_before),
                    "not_after": format_timestamp(e.not_after),
                }
                for e in epochs
            ],
        }
    )


@router.post("/tokens", summary="Issue blind tokens to a member (counts against its quota)")
def issue(request: Request, caller: Caller, body: TokenRequest) -> Response:
    """Evaluate the blinded elements; the answer carries one DLEQ proof for the batch."""
    blinded = [unb64(item, "blinded element") for item in body.blinded]
    issued = anonymity.issue_tokens(hub_of(request), caller, body.epoch, blinded)
    return json_response(
        {
            "epoch": issued.epoch,
            "public_key": issued.public_key.hex(),
            "evaluation": b64(issued.evaluation),
            "remaining": issued.remaining,
        }
    )


@router.post(
    "/submissions",
    status_code=202,
    summary="Submit unlinkably with a token (no account, no key)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["token", "objects"],
                        "properties": {
                            "token": {
                                "type": "object",
                                "required": ["epoch", "input", "authenticator"],
                                "properties": {
                                    "epoch": {"type": "integer"},
                                    "input": {"type": "string"},
                                    "authenticator": {"type": "string"},
                                },
                            },
                            "objects": {"type": "array", "items": {"type": "object"}},
                            "tlp": {"type": "string"},
                            "scope": {"type": "object"},
                        },
                    }
                }
            }
        }
    },
)
async def submit(request: Request) -> Response:
    """Spend a token and queue a bundle for batched, anonymised publication."""
    hub = hub_of(request)
    document = parse_json(await read_body(request, hub.config.max_content_length))
    if not isinstance(document, dict) or not isinstance(document.get("token"), dict):
        raise InvalidInput('send {"token": {"epoch", "input", "authenticator"}, "objects": [...]}')
    token = document["token"]
    epoch = token.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool):
        raise InvalidInput("token.epoch must be an integer")
    items = document.get("objects")
    if not isinstance(items, list):
        raise InvalidInput('"objects" must be a list of STIX objects')
    tlp = Tlp.parse(str(document.get("tlp") or "amber"))
    scope = None
    if document.get("scope") is not None:
        scope = parse_scope(document["scope"])
    redeemed = await run_in_threadpool(
        anonymity.redeem,
        hub,
        epoch,
        unb64(token.get("input"), "token.input"),
        unb64(token.get("authenticator"), "token.authenticator"),
        items,
        tlp,
        scope,
    )
    # Publication is left to the periodic task (web/app.py): publishing here would date
    # the batch to this request.
    return json_response(
        {"receipt": redeemed.receipt, "objects": redeemed.objects, "removed": redeemed.removed}, 202
    )


@router.get("/receipts/{receipt}", summary="Status of an unlinkable submission")
def receipt(request: Request, receipt: str) -> Response:
    """Queued or published (with the ids it was published under); no key needed."""
    status = anonymity.receipt_status(hub_of(request), receipt)
    return json_response(
        {"status": status.status, "published": status.published, "failed": status.failed}
    )


class RevealRequest(BaseModel):
    """Why an operator needs to know (recorded in the audit trail)."""

    reason: str = Field(min_length=1, max_length=500)


@router.post("/sealed/{object_id}", summary="Operators: who submitted an object anonymously")
def reveal(request: Request, caller: Caller, object_id: str, body: RevealRequest) -> Response:
    """Read the sealed submitter of an object submitted anonymously to members. Audited."""
    names = anonymity.reveal_submitter(hub_of(request), caller, object_id, body.reason)
    return json_response({"object": object_id, "submitters": names})
