"""HTML to plain text with the standard library's tokenizer.

Contract: tags are dropped, entities decoded, ``<script>``, ``<style>``, ``<template>``,
``<noscript>`` and ``<head>`` contents are dropped (the ``<title>`` is kept as the title),
block elements and ``<br>`` end lines, whitespace is collapsed outside ``<pre>``,
``<a href>`` renders as ``text (href)`` when the text differs from the target, and
tables come out one row per line with cells joined by ``" | "``.
"""

from __future__ import annotations

from html.parser import HTMLParser

from shieldwall.domain.extraction.converted import Converted, link_text

_DROP = frozenset({"script", "style", "template", "noscript", "head", "svg", "iframe"})
_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
    "tbody", "thead", "tfoot", "ul", "caption", "body", "html",
})  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base"})


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.drop = 0
        self.pre = 0
        self.title: str | None = None
        self.h1: str | None = None
        self.in_title = False
        self.in_h1 = False
        self.title_text: list[str] = []
        self.h1_text: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.anchors: list[tuple[str, int]] = []
        self.links: list[tuple[str, str]] = []
        self.documents: set[str] = set()

    # -- structure
    def _sink(self) -> list[str]:
        return self.cell if self.cell is not None else self.current

    def _break(self) -> None:
        if self.cell is not None:
            self.cell.append(" ")
            return
        text = "".join(self.current)
        for piece in text.split("\n"):
            self.lines.append(piece if self.pre else " ".join(piece.split()))
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
            return
        if tag in _DROP:
            self.drop += 1
            return
        if self.drop:
            return
        if tag == "h1" and self.h1 is None:
            self.in_h1 = True
        if tag == "pre":
            self._break()
            self.pre += 1
        elif tag == "tr":
            self._break()
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "br":
            if self.cell is not None:
                self.cell.append(" ")
            else:
                self.current.append("\n")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.anchors.append((href, len(self._sink())))
        elif tag in _BLOCK:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
            self.title = " ".join("".join(self.title_text).split()) or None
            return
        if tag in _DROP:
            self.drop = max(0, self.drop - 1)
            return
        if self.drop:
            return
        if tag == "h1" and self.in_h1:
            self.in_h1 = False
            self.h1 = " ".join("".join(self.h1_text).split()) or None
        if tag == "pre":
            self._break()
            self.pre = max(0, self.pre - 1)
        elif tag in ("td", "th") and self.cell is not None:
            if self.row is None:
                self.row = []
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.cell is not None:
                self.handle_endtag("td")
            self.lines.append(" | ".join(self.row))
            self.row = None
        elif tag == "a" and self.anchors:
            href, start = self.anchors.pop()
            sink = self._sink()
            label = "".join(sink[start:])
            del sink[start:]
            sink.append(link_text(href, label, self.links, self.documents) if href else label)
        elif tag in _BLOCK:
            self._break()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_text.append(data)
            return
        if self.drop:
            return
        if self.in_h1:
            self.h1_text.append(data)
        self._sink().append(data)

    def finish(self) -> Converted:
        self.close()
        self._break()
        lines: list[str] = []
        for line in self.lines:
            if line.strip() or (lines and lines[-1].strip()):
                lines.append(line.rstrip())
        return Converted(
            text="\n".join(lines).strip("\n"),
            title=self.title or self.h1,
            links=tuple(self.links),
            documents=frozenset(self.documents),
        )


def convert(source: str) -> Converted:
    parser = _Parser()
    parser.feed(source)
    return parser.finish()
