"""Malware and tool names stated in a report.

Contract: a name counts only when the text states it.  ATT&CK software names and aliases
match case-sensitively on word boundaries.  Distinctive names (internal capitals, digits,
several words, all capitals of four or more letters, or ten letters and more) need no
more; names that could be ordinary words (``Carbon``, ``Ramsay``, ``Play``) need context:
an anti-malware detection name (``Win32/Ramsay.A``), a malware word next to them ("the
Ramsay toolkit", "Ramsay backdoor") or the report's title.  Lower-case tool names shorter
than six letters (``at``, ``net``, ``ping``) are never matched.  Names outside ATT&CK count
only as "``CamelCase`` + malware word" (``LightlessCan backdoor``).  Results are ATT&CK's
canonical names, in order of first mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shieldwall.domain.extraction.attack import SoftwareRecord, software

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_'-]*")
_MALWARE_WORDS = (
    r"backdoors?|RATs?|trojans?|downloaders?|droppers?|loaders?|stealers?|infostealers?"
    r"|spyware|ransomware|wipers?|rootkits?|bootkits?|implants?|botnets?|worms?|malware"
    r"|miners?|cryptominers?|keyloggers?|toolkits?|toolset|family|families|variants?|samples?"
    r"|payloads?|webshells?|web shells?|modules?|plugins?|framework"
)
_NEAR_AFTER = re.compile(rf"^[\s'’s]*(?:\w+\s+)?(?:{_MALWARE_WORDS})\b", re.IGNORECASE)
_NEAR_BEFORE = re.compile(
    rf"\b(?:{_MALWARE_WORDS})(?:\s+(?:called|named|dubbed))?\s*$", re.IGNORECASE
)
_DETECTION = re.compile(r"[A-Za-z0-9]+/(?:[A-Za-z]+\.)*$")
_CAMEL = re.compile(
    r"^(?:[a-z]+[A-Z]|[A-Z][a-z]+[A-Z]|[A-Z]+[a-z]*\d|[A-Za-z]+\d+[A-Za-z]*)"
    r"[A-Za-z0-9]*$"
)
_CONTEXT_NAME = re.compile(rf"\b([A-Za-z][A-Za-z0-9]*)\s+(?:{_MALWARE_WORDS})\b")
_NOT_NAMES = frozenset({
    "JavaScript", "TypeScript", "PowerShell", "VBScript", "JScript", "macOS", "MacOS", "iOS",
    "WordPress", "GitHub", "GitLab", "OneDrive", "DropBox", "YouTube", "LinkedIn", "WhatsApp",
    "WeChat", "PyPI", "NuGet", "NodeJS", "DotNet", "VMware", "VirtualBox", "OpenSSH",
    "OpenSSL", "WinRAR", "WinZip", "PuTTY", "TeamViewer", "AnyDesk", "Win32", "Win64",
    "x64", "x86", "ARM64", "MSIL", "WinGo", "IPv4", "IPv6", "SHA1", "SHA256", "MD5", "UEFI",
    "NET", "HTTP", "HTTPS", "iPhone", "iPad", "MacBook", "PyInstaller", "ChatGPT", "OpenAI",
})  # fmt: skip


@dataclass(frozen=True)
class Mention:
    name: str
    stix_type: str  # "malware" or "tool"
    record: SoftwareRecord | None
    start: int
    end: int


def _distinctive(name: str) -> bool:
    letters = name.replace(" ", "")
    return (
        " " in name
        or any(c.isdigit() for c in name)
        or len(letters) >= 10
        or (any(c.isupper() for c in letters[1:]) and not letters.isupper())
        or (letters.isupper() and len(letters) >= 4)
        or not letters.isalnum()
    )


def _has_context(text: str, start: int, end: int, title: str | None, name: str) -> bool:
    if _DETECTION.search(text[max(0, start - 40) : start]) and text[end : end + 1] == ".":
        return True
    if _NEAR_AFTER.match(text[end : end + 30]) or _NEAR_BEFORE.search(
        text[max(0, start - 40) : start]
    ):
        return True
    return bool(title) and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", title or "") is not None


def find(text: str, title: str | None) -> list[Mention]:
    """Malware and tools stated in ``text``, in order of first mention."""
    names = software()
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    found: list[Mention] = []
    seen: set[str] = set()
    index = 0
    while index < len(tokens):
        matched = False
        for width in (4, 3, 2, 1):
            if index + width > len(tokens):
                continue
            start, end = tokens[index][0], tokens[index + width - 1][1]
            phrase = " ".join(text[start:end].split())
            record = names.get(phrase)
            if record is None or "\n" in text[start:end]:
                continue
            if phrase.islower() and len(phrase) < 6:
                continue
            if not _distinctive(phrase) and not _has_context(text, start, end, title, phrase):
                continue
            if record.name not in seen:
                seen.add(record.name)
                found.append(Mention(record.name, record.stix_type, record, start, end))
            index += width
            matched = True
            break
        if not matched:
            index += 1
    for match in _CONTEXT_NAME.finditer(text):
        name = match.group(1)
        if name in seen or name in _NOT_NAMES or name in names or not _CAMEL.match(name):
            continue
        seen.add(name)
        found.append(Mention(name, "malware", None, match.start(1), match.end(1)))
    found.sort(key=lambda mention: mention.start)
    return found
