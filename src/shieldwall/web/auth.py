"""Credentials from the request: ``Authorization: Bearer KEY``, or HTTP Basic with the key
as the password (any user name), as many TAXII clients only do Basic."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

from shieldwall.domain.errors import Unauthenticated


def api_key_from(request: Request) -> str:
    """The API key the request carries; raise ``Unauthenticated`` when there is none."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return value
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("the Basic credentials are not valid base64") from None
        _, sep, password = decoded.partition(":")
        if sep and password:
            return password
    raise Unauthenticated(
        "send an API key as 'Authorization: Bearer KEY' or as the password of HTTP Basic"
    )
