"""File names: which extensions make a token a file name, and reading names from cells.

Contract: ``EXTENSIONS`` is a general list of executable, script, document, archive, data
and web extensions.  Some are also top-level domains (``.zip``, ``.mov``, ``.py``, ``.sh``,
``.md``…): the scanner treats such tokens as file names unless they are written defanged or
their context is about the network.  :func:`cell_names` reads a table cell under a file
column: comma-separated names, paths reduced to their base name, "N/A" and template tokens
(``%random%``) dropped.
"""

from __future__ import annotations

import re

_EXTENSION_LIST = """
exe dll sys drv ocx cpl scr pif msi msp msu lnk bat cmd ps1 psm1 psd1 vbs vbe js jse wsf
wsh hta jar class war apk ipa dex aab elf so ko dylib app pkg dmg iso img vhd vhdx zip rar
7z gz tgz tar bz2 xz cab arj lzh ace zst whl egg gem nupkg deb rpm vsix crx xpi doc docx
docm dot dotm xls xlsx xlsm xlsb xll xlam ppt pptx pptm pps ppsx rtf pdf one chm hlp inf
reg ini cfg conf config json xml yml yaml toml txt log dat db sqlite tmp bin dmp py pyc pyw
pl rb php phtml asp aspx ashx asmx jsp jspx cgi sh bash zsh html htm svg eml msg ics plist
efi mof sct iqy slk lua go rs c cpp cs vb au3 a3x ahk nsi bak old csv sqlite3 pem crt cer
key pfx p12 gpg asc url library-ms settingcontent-ms appref-ms application diagcab mdb
accdb mov mp4 mp3 avi mkv wav jpg jpeg png gif bmp webp ico tif tiff ttf woff
"""
EXTENSIONS = frozenset(_EXTENSION_LIST.split())

FILE_HEADER = re.compile(
    r"file\s*-?name|^files?$|file\s*path|^path$|^paths$|^samples?$|^package$|^executable$"
    r"|attachment|^module$|^binary$|^artifact$|^artefact$",
    re.IGNORECASE,
)
_NOTHING = frozenset({"", "n/a", "na", "-", "—", "–", "none", "unknown", "?", "/"})
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?Z?)?$")
_HEXISH = re.compile(r"^[0-9a-fA-F]{32,}$")


def extension(name: str) -> str | None:
    """The lower-case extension of ``name`` when it is in ``EXTENSIONS``."""
    if "." not in name:
        return None
    ext = name.rsplit(".", 1)[1].lower()
    return ext if ext in EXTENSIONS else None


def cell_names(cell: str, header: str) -> list[tuple[int, int]]:
    """(start, end) ranges within ``cell`` holding the file names it lists."""
    ranges: list[tuple[int, int]] = []
    parts: list[tuple[int, int]] = []
    stripped = cell.strip()
    offset = cell.find(stripped) if stripped else 0
    if "," in stripped and all(" " not in piece.strip() for piece in stripped.split(",")):
        position = offset
        for piece in stripped.split(","):
            lead = len(piece) - len(piece.lstrip())
            parts.append((position + lead, position + len(piece.rstrip())))
            position += len(piece) + 1
    else:
        parts.append((offset, offset + len(stripped)))
    for start, end in parts:
        value = cell[start:end].strip("\"'")
        if value.lower() in _NOTHING:
            continue
        start += cell[start:end].find(value)
        end = start + len(value)
        base = max(value.rfind("\\"), value.rfind("/")) + 1
        start += base
        value = value[base:]
        if _TIMESTAMP.match(value):
            continue
        if value.lower() in _NOTHING or "%" in value or "*" in value or _HEXISH.match(value):
            continue
        if "://" in value or "@" in value:
            continue
        if extension(value) is None and not re.search(r"file", header, re.IGNORECASE):
            continue
        if len(value) > 255 or "|" in value:
            continue
        ranges.append((start, end))
    return ranges
