"""The one TAXII 2.1 client every peer is measured with (``httpx``, persistent session).

Nothing here knows which server it talks to: it finds the collection through the
collections endpoint, posts envelopes as ``application/taxii+json;version=2.1`` and walks
pages by following ``next``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import orjson

TAXII = "application/taxii+json;version=2.1"
STATUS_POLLS = 100
STATUS_POLL_SLEEP_S = 0.05


class BenchError(RuntimeError):
    """A request failed (non-2xx answer or an unusable body)."""


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page of a GET objects request, as the client saw it."""

    seconds: float
    count: int
    more: bool
    next_token: str | None
    date_added_last: str | None


class TaxiiClient:
    """A persistent HTTP session to one TAXII API root."""

    def __init__(self, api_root: str, auth: tuple[str, str], *, timeout: float) -> None:
        self.api_root = api_root
        self.http = httpx.Client(
            auth=auth,
            headers={"Accept": TAXII},
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
        )

    def close(self) -> None:
        """Close the session."""
        self.http.close()

    def __enter__(self) -> TaxiiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _json(self, response: httpx.Response) -> dict[str, object]:
        if response.status_code >= 300:
            raise BenchError(
                f"HTTP {response.status_code} from {response.url}: {response.text[:300]}"
            )
        body = orjson.loads(response.content) if response.content else {}
        if not isinstance(body, dict):
            raise BenchError(f"{response.url} did not answer a JSON object")
        return body

    def objects_url(self, alias: str | None) -> str:
        """The objects endpoint of the collection called ``alias`` (else the first writable)."""
        body = self._json(self.http.get(f"{self.api_root}collections/"))
        found = body.get("collections")
        if not isinstance(found, list) or not found:
            raise BenchError("the API root lists no collections")
        chosen = next((c for c in found if alias is not None and c.get("alias") == alias), None)
        chosen = chosen or next((c for c in found if c.get("can_write")), found[0])
        return f"{self.api_root}collections/{chosen['id']}/objects/"

    def post(self, objects_url: str, body: bytes) -> dict[str, object]:
        """POST an envelope; the status resource the server answers."""
        response = self.http.post(objects_url, content=body, headers={"Content-Type": TAXII})
        return self._json(response)

    def status(self, status_id: str) -> dict[str, object]:
        """GET a status resource."""
        return self._json(self.http.get(f"{self.api_root}status/{status_id}/"))

    def wait_complete(self, status_id: str, deadline: float) -> dict[str, object]:
        """GET the status until it is complete (bounded in polls and by ``deadline``)."""
        for _ in range(STATUS_POLLS):
            status = self.status(status_id)
            if status.get("status") == "complete" or time.monotonic() > deadline:
                return status
            time.sleep(STATUS_POLL_SLEEP_S)
        return status

    def page(
        self,
        objects_url: str,
        *,
        limit: int,
        next_token: str | None = None,
        added_after: str | None = None,
    ) -> PageResult:
        """GET one page of objects; time it from request to parsed body."""
        params: dict[str, str] = {"limit": str(limit)}
        if added_after is not None:
            params["added_after"] = added_after
        if next_token is not None:
            params["next"] = next_token
        started = time.perf_counter()
        response = self.http.get(objects_url, params=params)
        body = self._json(response)
        seconds = time.perf_counter() - started
        objects = body.get("objects")
        more = bool(body.get("more"))
        token = body.get("next")
        return PageResult(
            seconds,
            len(objects) if isinstance(objects, list) else 0,
            more,
            str(token) if more and token is not None else None,
            response.headers.get("X-TAXII-Date-Added-Last"),
        )
