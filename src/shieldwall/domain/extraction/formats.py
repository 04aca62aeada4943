"""Input formats: naming them, guessing them, and converting them to plain text.

Contract: ``FORMATS`` are the accepted ``fmt`` values; :func:`convert` raises
:class:`~shieldwall.domain.errors.InvalidInput` for any other.  :func:`detect_format` looks
at the file name's extension first, then at the text, and falls back to ``"text"``.
"""

from __future__ import annotations

import re

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.extraction import asciidoc, html, markdown
from shieldwall.domain.extraction.converted import Converted

FORMATS = ("text", "markdown", "asciidoc", "html")

_EXTENSIONS = {
    "txt": "text", "text": "text", "log": "text",
    "md": "markdown", "markdown": "markdown", "mdown": "markdown", "mkd": "markdown",
    "adoc": "asciidoc", "asciidoc": "asciidoc", "asc": "asciidoc",
    "html": "html", "htm": "html", "xhtml": "html",
}  # fmt: skip
_HTML_SNIFF = re.compile(r"^\s*(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>])", re.IGNORECASE)
_HTML_TAGS = re.compile(r"</(p|div|td|li|h[1-6]|table|a|span)>", re.IGNORECASE)
_ADOC_SNIFF = re.compile(r"^(= \S|:[\w-]+:|\|===\s*$|----\s*$|={2,} \S.*$)", re.MULTILINE)
_MD_SNIFF = re.compile(r"^(#{1,6} \S|```|\|\s*:?-{3,})|\]\([^)\s]+\)", re.MULTILINE)


def detect_format(filename: str | None, text: str) -> str:
    """The ``fmt`` to pass to :func:`~shieldwall.domain.extraction.extract` for this file."""
    if filename:
        name = filename.replace("\\", "/").rsplit("/", 1)[-1]
        if "." in name:
            found = _EXTENSIONS.get(name.rsplit(".", 1)[1].lower())
            if found:
                return found
    head = text[:20000]
    if _HTML_SNIFF.search(head) or len(_HTML_TAGS.findall(head)) >= 3:
        return "html"
    adoc = len(_ADOC_SNIFF.findall(head))
    md = len(_MD_SNIFF.findall(head))
    if adoc and adoc >= md:
        return "asciidoc"
    if md:
        return "markdown"
    return "text"


def convert(text: str, fmt: str) -> Converted:
    """Plain text (and link metadata) for ``text`` written in ``fmt``."""
    if fmt == "text":
        plain = text.replace("\r\n", "\n").replace("\r", "\n")
        first = next((line.strip() for line in plain.split("\n") if line.strip()), None)
        title = first if first is not None and len(first) <= 200 else None
        return Converted(text=plain, title=title)
    if fmt == "markdown":
        return markdown.convert(text)
    if fmt == "asciidoc":
        return asciidoc.convert(text)
    if fmt == "html":
        return html.convert(text)
    raise InvalidInput(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}")
