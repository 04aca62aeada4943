"""``HubClient``: the hub's REST API from a member's side.

Authenticated calls carry the member's key. Anonymous calls (token keys, unlinkable
submission, receipts) go through a *separate* connection pool that never sees the key,
sends no cookies and identifies no client (a generic user agent), optionally through a
proxy (e.g. ``socks5://127.0.0.1:9050`` for Tor).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from shieldwall.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    ShieldwallError,
    Unauthenticated,
)

ANONYMOUS_USER_AGENT = "shieldwall-client"
TAXII_ROOT = "/taxii2/hub/"
TAXII_MEDIA = "application/taxii+json;version=2.1"


class HubUnavailable(ShieldwallError):
    """The hub could not be reached or answered with a server error."""


@dataclass(frozen=True, slots=True)
class AnnouncedKey:
    """An epoch public key as the hub announces it."""

    epoch: int
    public_key: str


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        error = response.json().get("error", {})
        message = str(error.get("description") or response.text)
    except ValueError:
        message = response.text or response.reason_phrase
    status = response.status_code
    kinds: dict[int, type[ShieldwallError]] = {
        400: InvalidInput,
        401: Unauthenticated,
        403: Forbidden,
        404: NotFound,
        409: Conflict,
        413: InvalidInput,
        415: InvalidInput,
        429: RateLimited,
    }
    raise kinds.get(status, HubUnavailable)(f"the hub answered {status}: {message}")


class HubClient:
    """A member's connection to one hub."""

    def __init__(
        self,
        url: str,
        key: str | None,
        *,
        proxy: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._key = key
        self._proxy = proxy
        self._timeout = timeout
        self._transport = transport

    def _client(self, *, authenticated: bool) -> httpx.Client:
        headers = {"User-Agent": ANONYMOUS_USER_AGENT, "Accept": "application/json"}
        if authenticated:
            if not self._key:
                raise Unauthenticated("this needs an API key: --key or $SHIELDWALL_KEY")
            headers["Authorization"] = f"Bearer {self._key}"
        return httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=self._timeout,
            proxy=self._proxy,
            transport=self._transport,
            follow_redirects=False,
        )

    @contextmanager
    def _call(self, *, authenticated: bool) -> Iterator[httpx.Client]:
        try:
            with self._client(authenticated=authenticated) as client:
                yield client
        except httpx.HTTPError as exc:
            raise HubUnavailable(f"cannot reach the hub at {self.url}: {exc}") from exc

    def _fetch(
        self,
        path: str,
        *,
        authenticated: bool,
        accept: str | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A GET that succeeded (errors raised as ``_raise_for`` maps them)."""
        headers = {"Accept": accept} if accept is not None else None
        with self._call(authenticated=authenticated) as client:
            response = client.get(path, params=params, headers=headers)
        _raise_for(response)
        return response

    def _get(self, path: str, *, authenticated: bool) -> Any:
        return self._fetch(path, authenticated=authenticated).json()

    def _post(self, path: str, body: object, *, authenticated: bool) -> Any:
        with self._call(authenticated=authenticated) as client:
            response = client.post(path, json=body)
        _raise_for(response)
        return response.json()

    # --- authenticated ---------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The calling organisation."""
        return dict(self._get("/api/v1/me", authenticated=True))

    def my_assets(self) -> dict[str, list[str]]:
        """The calling organisation's declared assets."""
        return dict(self._get("/api/v1/me/assets", authenticated=True))

    def submit(
        self,
        objects: list[object],
        *,
        tlp: str | None,
        scope: dict[str, list[str]] | None,
        attribution: str,
    ) -> dict[str, Any]:
        """Submit objects, attributed or anonymous to members; returns the TAXII status."""
        body: dict[str, object] = {"objects": objects, "attribution": attribution}
        if tlp:
            body["tlp"] = tlp
        if scope:
            body["scope"] = scope
        return dict(self._post("/api/v1/objects", body, authenticated=True))

    def issue_tokens(self, epoch: int, blinded: list[bytes]) -> dict[str, Any]:
        """Ask the hub to evaluate blinded elements (counts against the quota)."""
        body = {"epoch": epoch, "blinded": [base64.b64encode(b).decode() for b in blinded]}
        return dict(self._post("/api/v1/anon/tokens", body, authenticated=True))

    # --- anonymous -------------------------------------------------------------------

    def announced_keys(self) -> list[AnnouncedKey]:
        """The token keys at the hub's stable URL, fetched without credentials."""
        body = self._get("/api/v1/anon/keys", authenticated=False)
        return [AnnouncedKey(int(e["epoch"]), str(e["public_key"])) for e in body["epochs"]]

    def submit_unlinkable(
        self,
        token: dict[str, object],
        objects: list[dict[str, object]],
        tlp: str,
        scope: dict[str, list[str]] | None,
    ) -> dict[str, Any]:
        """Spend a token on a submission, over a connection that carries no credentials."""
        body: dict[str, object] = {"token": token, "objects": objects, "tlp": tlp}
        if scope:
            body["scope"] = scope
        return dict(self._post("/api/v1/anon/submissions", body, authenticated=False))

    def receipt(self, receipt: str) -> dict[str, Any]:
        """The status of an unlinkable submission."""
        return dict(self._get(f"/api/v1/anon/receipts/{receipt}", authenticated=False))

    # --- matching and private lookup -------------------------------------------------

    def lookup_filter(self) -> bytes:
        """The member's private-lookup filter file (OPRF outputs)."""
        return self._fetch("/api/v1/lookup/filter", authenticated=True, accept="*/*").content

    def lookup_export(self) -> bytes:
        """An offline filter file (HMAC, key inside) for air-gapped matching."""
        return self._fetch("/api/v1/lookup/export", authenticated=True, accept="*/*").content

    def lookup_evaluate(self, blinded: list[bytes]) -> dict[str, Any]:
        """Blind evaluation of up to 1,000 items under the hub's lookup key."""
        body = {"blinded": [base64.b64encode(b).decode() for b in blinded]}
        return dict(self._post("/api/v1/lookup/evaluate", body, authenticated=True))

    def bulk_match(self, observables: list[dict[str, str]]) -> dict[str, Any]:
        """Server-side matching of ``{"value", "kind"?}`` observables (the hub sees them)."""
        return dict(self._post("/api/v1/match", {"observables": observables}, authenticated=True))

    # --- sightings, scores and correlation --------------------------------------------

    def report_sighting(self, body: dict[str, object]) -> dict[str, Any]:
        """Report a sighting (``POST /api/v1/sightings``, fields in docs/sightings.md)."""
        return dict(self._post("/api/v1/sightings", body, authenticated=True))

    def indicator(self, indicator_id: str) -> dict[str, Any]:
        """An indicator assessed: score, sightings, warnings, related objects and reports."""
        return dict(self._get(f"/api/v1/indicators/{quote(indicator_id)}", authenticated=True))

    def confirm_indicator(self, indicator_id: str) -> dict[str, Any]:
        """Confirm a warning-listed indicator so that it is matched."""
        path = f"/api/v1/indicators/{quote(indicator_id)}/confirm"
        return dict(self._post(path, {}, authenticated=True))

    def related(self, object_id: str) -> dict[str, Any]:
        """Objects sharing observables with ``object_id``, and the reports holding them."""
        return dict(self._get(f"/api/v1/objects/{quote(object_id)}/related", authenticated=True))

    def clusters(self) -> list[dict[str, Any]]:
        """Clusters of reports linked by shared observables."""
        return list(self._get("/api/v1/correlation/clusters", authenticated=True)["clusters"])

    def excluded_indicators(self) -> list[str]:
        """Ids of the indicators the hub's matching leaves out for this key (decayed,
        warning-listed, expired, revoked)."""
        return list(self._get("/api/v1/match/excluded", authenticated=True)["excluded"])

    def collections(self) -> list[dict[str, Any]]:
        """The TAXII collections of the hub's API root that the member can read."""
        response = self._fetch(f"{TAXII_ROOT}collections/", authenticated=True, accept=TAXII_MEDIA)
        found = response.json().get("collections", [])
        return [c for c in found if c.get("can_read")]

    def indicators_page(
        self, collection_id: str, added_after: str | None, next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None, str | None]:
        """One TAXII page of indicators (newest readable versions) added after
        ``added_after``: ``(objects, next token or None, X-TAXII-Date-Added-Last or None)``."""
        params = {"match[type]": "indicator", "limit": "5000"}
        if added_after is not None:
            params["added_after"] = added_after
        if next_token is not None:
            params["next"] = next_token
        response = self._fetch(
            f"{TAXII_ROOT}collections/{collection_id}/objects/",
            authenticated=True,
            accept=TAXII_MEDIA,
            params=params,
        )
        envelope = response.json()
        following = envelope.get("next") if envelope.get("more") else None
        return (
            list(envelope.get("objects", [])),
            following,
            response.headers.get("X-TAXII-Date-Added-Last"),
        )
