"""AsciiDoc to plain text, enough of it for incident write-ups.

Handles: document title and section titles, attribute entries, block attributes and
titles (``.Title`` becomes a line of its own: it labels what follows), delimited blocks
(listing/literal contents are kept verbatim), comments, PSV tables (``|===``; cells that
span lines are regrouped into rows by the column count from ``cols=`` or the first row),
and the inline forms ``++x++``, ``+x+``, `` `x` ``, ``*x*``, ``_x_``, ``\\https://…``,
``https://x[text]``, ``link:target[text]``, ``mailto:x[text]``, ``<<ref,text>>``.
"""

from __future__ import annotations

import re

from shieldwall.domain.extraction.converted import Converted, link_text

_DELIMITER = re.compile(r"^(-{4,}|\.{4,}|_{4,}|\*{4,}|={4,}|\+{4,}|/{4,}|-{2})\s*$")
_VERBATIM = ("-", ".", "+")
_ATTRIBUTE_ENTRY = re.compile(r"^:!?[\w-]+!?:(\s.*)?$")
_BLOCK_ATTRIBUTES = re.compile(r"^\[[^\]]*\]\s*$")
_BLOCK_TITLE = re.compile(r"^\.([^.\s].*)$")
_SECTION = re.compile(r"^(=+)\s+(.+?)\s*=*\s*$")
_DIRECTIVE = re.compile(r"^(ifdef|ifndef|ifeval|endif|include|image|toc)::.*$")
_TABLE = re.compile(r"^[|!,:]===\s*$")
_COLS = re.compile(r"""cols\s*=\s*["']?([^"'\]]+)""")
_PIPE = re.compile(r"(?<!\\)\|")
_SPEC_TAIL = re.compile(r"(?:^|(?<=\s))(?:\d+(?:\.\d+)?[+*][<^>]?|[<^>])(?:\.[<^>])?[adehlmsv]?$")

_PASS_TICK = re.compile(r"`\+{1,3}(.+?)\+{1,3}`")
_PASS = re.compile(r"\+\+\+(.+?)\+\+\+|\+\+(.+?)\+\+")
_PASS_ONE = re.compile(r"(?<![\w+])\+([^\s+](?:[^+\n]*[^\s+])?)\+(?![\w+])")
_MONO = re.compile(r"``(.+?)``|(?<![\w`])`([^`\n]+?)`(?![\w`])")
_STRONG = re.compile(r"\*\*(.+?)\*\*|(?<![\w*])\*([^\s*](?:[^*\n]*[^\s*])?)\*(?![\w*])")
_EMPHASIS = re.compile(r"__(.+?)__|(?<![\w_])_([^\s_](?:[^_\n]*[^\s_])?)_(?![\w_])")
_XREF = re.compile(r"<<([^,>]+)(?:,\s*([^>]*))?>>")
_NOT_DEFANG = r"(?!\s?(?:\.|dot|:|://|at|@|/)\s?\])"
_LINK_MACRO = re.compile(rf"\blink:([^\s\[]+)\[{_NOT_DEFANG}([^\]]*)\](?!\w)")
_MAILTO_MACRO = re.compile(rf"\bmailto:([^\s\[]+)\[{_NOT_DEFANG}([^\]]*)\](?!\w)")
_URL_MACRO = re.compile(
    rf"(?<![\\\w])((?:https?|ftp|irc|file)://[^\s\[\]<>]+)\[{_NOT_DEFANG}([^\]]*)\](?!\w)"
)
_ESCAPED_URL = re.compile(r"\\((?:https?|ftp|hxxps?)(?:://|\[:\]//))", re.IGNORECASE)
_FOOTNOTE = re.compile(r"\bfootnote:[\w-]*\[([^\]]*)\]")
_PASS_MACRO = re.compile(r"\bpass:[a-z,]*\[([^\]]*)\]")


def convert(source: str) -> Converted:
    links: list[tuple[str, str]] = []
    documents: set[str] = set()
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    title: str | None = None
    pending_cols: int | None = None
    verbatim: str | None = None
    comment = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        i += 1
        if comment:
            if stripped.startswith("////"):
                comment = False
            out.append("")
            continue
        if verbatim is not None:
            if stripped == verbatim:
                verbatim = None
                out.append("")
            else:
                out.append(line.rstrip())
            continue
        if stripped.startswith("////") and set(stripped) == {"/"}:
            comment = True
            out.append("")
            continue
        if stripped.startswith("//") and not stripped.startswith("///"):
            out.append("")
            continue
        if _TABLE.match(stripped):
            end = i
            while end < len(lines) and not _TABLE.match(lines[end].strip()):
                end += 1
            out.extend(_table(lines[i:end], pending_cols, links, documents))
            out.append("")
            i = end + 1
            pending_cols = None
            continue
        delimiter = _DELIMITER.match(stripped)
        if delimiter:
            if stripped[0] in _VERBATIM and stripped != "--":
                verbatim = stripped
            out.append("")
            continue
        section = _SECTION.match(line)
        if section:
            heading = _inline(section.group(2), links, documents)
            if len(section.group(1)) == 1 and title is None:
                title = heading
            out.append(heading)
            continue
        if _ATTRIBUTE_ENTRY.match(stripped) or _DIRECTIVE.match(stripped):
            out.append("")
            continue
        if _BLOCK_ATTRIBUTES.match(stripped):
            cols = _COLS.search(stripped)
            if cols:
                pending_cols = _count_cols(cols.group(1))
            out.append("")
            continue
        block_title = _BLOCK_TITLE.match(stripped)
        if block_title:
            out.append(_inline(block_title.group(1), links, documents))
            continue
        out.append(_inline(line.rstrip(), links, documents))
    text = "\n".join(out)
    return Converted(text=text, title=title, links=tuple(links), documents=frozenset(documents))


def _count_cols(spec: str) -> int | None:
    spec = spec.strip()
    star = re.fullmatch(r"(\d+)\*.*", spec)
    if star:
        return int(star.group(1))
    if spec.isdigit():
        return int(spec)
    parts = [p for p in spec.split(",") if p.strip()]
    return len(parts) or None


def _table(
    rows: list[str], cols: int | None, links: list[tuple[str, str]], documents: set[str]
) -> list[str]:
    cells: list[str] = []
    first_line_cells = 0
    for raw in rows:
        line = raw.strip()
        if not line:
            continue
        parts = _PIPE.split(line)
        for index in range(len(parts) - 1):
            parts[index] = _SPEC_TAIL.sub("", parts[index])
        lead, parts = parts[0].strip(), parts[1:]
        if lead:
            if cells:
                cells[-1] = f"{cells[-1]} {lead}".strip()
            else:
                parts.insert(0, lead)
        if not first_line_cells:
            first_line_cells = len(parts)
        cells.extend(part.strip().replace("\\|", "|") for part in parts)
    width = cols or first_line_cells or 1
    out: list[str] = []
    for start in range(0, len(cells), width):
        row = [_inline(cell, links, documents) for cell in cells[start : start + width]]
        out.append(" | ".join(row))
    return out


def _inline(text: str, links: list[tuple[str, str]], documents: set[str]) -> str:
    text = _ESCAPED_URL.sub(r"\1", text)
    text = _PASS_MACRO.sub(r"\1", text)
    text = _PASS_TICK.sub(r"\1", text)
    text = _PASS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _MONO.sub(lambda m: m.group(1) or m.group(2), text)
    text = _PASS_ONE.sub(r"\1", text)
    text = _LINK_MACRO.sub(lambda m: link_text(m.group(1), m.group(2), links, documents), text)
    text = _MAILTO_MACRO.sub(
        lambda m: link_text("mailto:" + m.group(1), m.group(2) or m.group(1), links, documents),
        text,
    )
    text = _URL_MACRO.sub(lambda m: link_text(m.group(1), m.group(2), links, documents), text)
    text = _XREF.sub(lambda m: (m.group(2) or m.group(1)).strip(), text)
    text = _FOOTNOTE.sub(r"(\1)", text)
    text = _STRONG.sub(lambda m: m.group(1) or m.group(2), text)
    return _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
