"""The front-end assets are ours or pinned copies from a package registry, served by the hub
(docs/web.md): no page refers to another site for a script, style, font or image."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "src" / "shieldwall" / "web" / "ui"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # htmx.org 2.0.11


def test_htmx_is_the_pinned_npm_release() -> None:
    data = (UI / "static" / "htmx.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == HTMX_SHA256
    assert (UI / "static" / "htmx.LICENSE").is_file()
    assert HTMX_SHA256 in (UI.parents[3] / "docs" / "web.md").read_text()


@pytest.mark.parametrize("path", sorted((UI / "templates").rglob("*.html")), ids=lambda p: p.name)
def test_templates_load_nothing_from_elsewhere_and_hold_no_inline_code(path: Path) -> None:
    text = path.read_text()
    for tag in re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", text):
        assert not re.search(r'(?:src|href)="(?:https?:)?//', tag), f"{path.name}: {tag}"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"{path.name}: inline script"
    assert not re.search(r"\sstyle=\"", text), f"{path.name}: inline style (CSP forbids it)"
    assert not re.search(r"\son[a-z]+=\"|hx-on", text), f"{path.name}: inline handler"
