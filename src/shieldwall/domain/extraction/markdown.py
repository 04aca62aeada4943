"""Markdown (CommonMark + GFM tables) to plain text, enough of it for incident write-ups.

Handles: ATX and setext headings (the first level-1 heading is the title), fenced and
indented code (kept verbatim), inline code, links ``[text](url)``, images, autolinks
``<https://…>``, reference definitions, ``**strong**``/``*em*``/``__strong__``, backslash
escapes of markup characters, GFM pipe tables (the ``---|---`` rule is dropped, outer pipes
trimmed) and HTML comments.  Underscores inside words are left alone (file names).
"""

from __future__ import annotations

import re

from shieldwall.domain.extraction.converted import Converted, link_text

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_REFERENCE = re.compile(r"^\s{0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(\s+.*)?$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:[a-zA-Z][a-zA-Z0-9+.-]*:|mailto:)[^\s<>]+)>")
_CODE = re.compile(r"(`+)(.+?)\1")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*\\])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ESCAPE = re.compile(r"\\([`*_{}\[\]()#+!|<>])")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>")


def convert(source: str) -> Converted:
    links: list[tuple[str, str]] = []
    documents: set[str] = set()
    source = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    title: str | None = None
    fence: str | None = None
    for index, line in enumerate(lines):
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
                out.append("")
            else:
                out.append(line.rstrip())
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
            out.append("")
            continue
        if line.startswith(("    ", "\t")) and (
            not out or not out[-1].strip() or out[-1].startswith(("    ", "\t"))
        ):
            out.append(line.rstrip())  # indented code: verbatim
            continue
        heading = _ATX.match(line)
        if heading:
            text = _inline(heading.group(2), links, documents)
            if heading.group(1) == "#" and title is None:
                title = text
            out.append(text)
            continue
        if _SETEXT.match(line) and out and out[-1].strip() and index > 0:
            if line.strip().startswith("=") and title is None:
                title = out[-1].strip()
            out.append("")
            continue
        if _TABLE_RULE.match(line) and "-" in line and "|" in line:
            continue  # the header rule: dropped so that the header row heads the cells
        reference = _REFERENCE.match(line)
        if reference:
            target = reference.group(2)
            out.append(link_text(target, reference.group(1), links, documents))
            continue
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
            cells = re.split(r"(?<!\\)\|", stripped[1:-1])
            out.append(" | ".join(_inline(cell.strip(), links, documents) for cell in cells))
            continue
        if stripped.startswith(">"):
            line = stripped.lstrip("> ")
        out.append(_inline(line.rstrip(), links, documents))
    return Converted(
        text="\n".join(out), title=title, links=tuple(links), documents=frozenset(documents)
    )


def _inline(text: str, links: list[tuple[str, str]], documents: set[str]) -> str:
    pieces: list[str] = []
    last = 0
    for code in _CODE.finditer(text):  # code spans are literal
        pieces.append(_markup(text[last : code.start()], links, documents))
        pieces.append(code.group(2).strip() if code.group(2).strip() else code.group(2))
        last = code.end()
    pieces.append(_markup(text[last:], links, documents))
    return "".join(pieces)


def _markup(text: str, links: list[tuple[str, str]], documents: set[str]) -> str:
    text = _IMAGE.sub(lambda m: link_text(m.group(2), m.group(1), links, documents), text)
    text = _LINK.sub(lambda m: link_text(m.group(2), _strip(m.group(1)), links, documents), text)
    text = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = _TAG.sub("", text)
    return _strip(text)


def _strip(text: str) -> str:
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\1", text)
    return _ESCAPE.sub(r"\1", text)
