"""``AttestationsClient``: security attestations over the hub's REST API
(``/api/v1/attestations``). Errors arrive as the domain errors ``HubClient`` maps (an
attestation the caller may not see is ``NotFound``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shieldwall.client.hub import HubClient, _raise_for

_BASE = "/api/v1/attestations"


class AttestationsClient(HubClient):
    """An organisation's attestation calls; authenticated with its key."""

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: object | None = None,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> Any:
        with self._call(authenticated=True) as client:
            if content is not None:
                response = client.request(
                    method,
                    path,
                    content=content,
                    params=params,
                    headers={"Content-Type": "application/octet-stream"},
                )
            else:
                response = client.request(method, path, json=body, params=params)
        _raise_for(response)
        return None if response.status_code == 204 else response.json()

    def templates(self) -> list[dict[str, Any]]:
        """Every template version."""
        return list(self._request("GET", f"{_BASE}/templates")["items"])

    def template(self, name: str, version: int | None = None) -> dict[str, Any]:
        """One template (latest version unless ``version``)."""
        params = {"version": str(version)} if version else None
        return dict(self._request("GET", f"{_BASE}/templates/{quote(name)}", params=params))

    def add_template(self, name: str, title: str, questions: list[Any]) -> dict[str, Any]:
        """Operators: store the next version of a template."""
        body = {"name": name, "title": title, "questions": questions}
        return dict(self._request("POST", f"{_BASE}/templates", body=body))

    def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Start a draft (``template``, ``answers``, ``valid_from``, ``valid_until``,
        ``signer_name``, ``signer_title``)."""
        return dict(self._request("POST", _BASE, body=fields))

    def update(self, attestation_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Change a draft."""
        return dict(self._request("PATCH", f"{_BASE}/{quote(attestation_id)}", body=fields))

    def upload(self, attestation_id: str, filename: str, content: bytes) -> dict[str, Any]:
        """Attach an evidence file to a draft."""
        return dict(
            self._request(
                "POST",
                f"{_BASE}/{quote(attestation_id)}/evidence",
                params={"filename": filename},
                content=content,
            )
        )

    def publish(self, attestation_id: str) -> dict[str, Any]:
        """Publish a draft."""
        return dict(self._request("POST", f"{_BASE}/{quote(attestation_id)}/publish"))

    def visible(self) -> list[dict[str, Any]]:
        """Attestations the caller may see."""
        return list(self._request("GET", _BASE)["items"])

    def show(self, attestation_id: str) -> dict[str, Any]:
        """One attestation version."""
        return dict(self._request("GET", f"{_BASE}/{quote(attestation_id)}"))

    def history(self, attestation_id: str) -> list[dict[str, Any]]:
        """Published versions, newest first."""
        return list(self._request("GET", f"{_BASE}/{quote(attestation_id)}/history")["items"])

    def download(self, evidence_id: str) -> tuple[str, bytes]:
        """An evidence file: (its display name's header, its bytes)."""
        with self._call(authenticated=True) as client:
            response = client.get(f"{_BASE}/evidence/{quote(evidence_id)}")
        _raise_for(response)
        return response.headers.get("X-Shieldwall-SHA256", ""), response.content

    def request(self, firm: str, template: str, message: str) -> dict[str, Any]:
        """Ask a firm for its attestation."""
        body = {"firm": firm, "template": template, "message": message}
        return dict(self._request("POST", f"{_BASE}/requests", body=body))

    def requests(self) -> list[dict[str, Any]]:
        """Requests made or received."""
        return list(self._request("GET", f"{_BASE}/requests")["items"])

    def respond(self, request_id: str, grant: bool) -> dict[str, Any]:
        """Grant or decline a request."""
        action = "grant" if grant else "decline"
        return dict(self._request("POST", f"{_BASE}/requests/{quote(request_id)}/{action}"))

    def grants(self) -> list[dict[str, Any]]:
        """Grants given or held."""
        return list(self._request("GET", f"{_BASE}/grants")["items"])

    def revoke(self, grantee: str, template: str | None) -> dict[str, Any]:
        """Revoke grants to an organisation."""
        body: dict[str, Any] = {"grantee": grantee}
        if template:
            body["template"] = template
        return dict(self._request("POST", f"{_BASE}/grants/revoke", body=body))
