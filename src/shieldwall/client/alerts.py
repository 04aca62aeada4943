"""``AlertsClient``: government alerts over the hub's REST API (``/api/v1/alerts``).

Errors arrive as the domain errors ``HubClient`` maps; a refused advisory (HTTP 422)
raises ``Unprocessable`` whose ``details`` is the hub's list of leaks.
"""

from __future__ import annotations

from typing import Any

import httpx

from shieldwall.client.hub import HubClient, _raise_for
from shieldwall.domain.errors import Unprocessable


class AlertsClient(HubClient):
    """A member's (or government partner's) alert calls; authenticated with its key."""

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: object | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        with self._call(authenticated=True) as client:
            response = client.request(method, path, json=body, params=params)
        _raise_unprocessable(response)
        _raise_for(response)
        return None if response.status_code == 204 else response.json()

    def notify(self, body: dict[str, object]) -> dict[str, Any]:
        """Send a victim notification (``victim``, ``title``, ``description``,
        ``indicators``, ``actions``)."""
        return dict(self._request("POST", "/api/v1/alerts/notifications", body=body))

    def check_advisory(self, body: dict[str, object]) -> dict[str, Any]:
        """Leaks and reach of an advisory, publishing nothing."""
        return dict(self._request("POST", "/api/v1/alerts/advisories/check", body=body))

    def publish_advisory(self, body: dict[str, object]) -> dict[str, Any]:
        """Publish an advisory (``Unprocessable`` with the leaks when refused)."""
        return dict(self._request("POST", "/api/v1/alerts/advisories", body=body))

    def inbox(
        self, kind: str | None = None, unacknowledged: bool = False, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Alerts the caller may read, newest first."""
        params = {"limit": str(limit), "unacknowledged": str(unacknowledged).lower()}
        if kind:
            params["kind"] = kind
        return list(self._request("GET", "/api/v1/alerts", params=params)["items"])

    def show(self, alert_id: str) -> dict[str, Any]:
        """One alert with the objects the caller may read."""
        return dict(self._request("GET", f"/api/v1/alerts/{alert_id}"))

    def acknowledge(self, alert_id: str, named: bool) -> dict[str, Any]:
        """Acknowledge an alert, named to its sender or not."""
        return dict(self._request("POST", f"/api/v1/alerts/{alert_id}/ack", body={"named": named}))

    def acknowledgements(self, alert_id: str) -> dict[str, Any]:
        """Acknowledgement figures (sender only)."""
        return dict(self._request("GET", f"/api/v1/alerts/{alert_id}/acks"))

    def channels(self, organization: str | None = None) -> list[dict[str, Any]]:
        """Delivery channels (operators may name another organisation)."""
        params = {"organization": organization} if organization else None
        return list(self._request("GET", "/api/v1/alerts/channels", params=params)["items"])

    def add_channel(self, kind: str, target: str, organization: str | None) -> dict[str, Any]:
        """Add a webhook or e-mail channel; a webhook's secret is in the answer, once."""
        body: dict[str, object] = {"kind": kind, "target": target}
        if organization:
            body["organization"] = organization
        return dict(self._request("POST", "/api/v1/alerts/channels", body=body))

    def remove_channel(self, channel_id: str) -> None:
        """Remove a channel."""
        self._request("DELETE", f"/api/v1/alerts/channels/{channel_id}")

    def deliveries(self, limit: int = 100) -> list[dict[str, Any]]:
        """The caller's delivery log."""
        answer = self._request("GET", "/api/v1/alerts/deliveries", params={"limit": str(limit)})
        return list(answer["items"])


def _raise_unprocessable(response: httpx.Response) -> None:
    if response.status_code != 422:
        return
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    details = error.get("details") if isinstance(error, dict) else None
    message = str(error.get("description", response.text)) if isinstance(error, dict) else ""
    raise Unprocessable(message, list(details) if isinstance(details, list) else [])
