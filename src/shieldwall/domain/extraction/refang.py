"""Undo the usual defanging of indicators while remembering where every character came from.

Forms undone (case-insensitive): ``hxxp``/``hXXp``/``h**p`` → ``http`` (and ``fxp`` →
``ftp``) before ``://``; ``[.]``, ``(.)``, ``{.}``, ``[dot]``, ``(dot)``, ``{dot}`` (spaces
allowed inside and around the brackets) → ``.``; ``[:]`` → ``:``; ``[://]`` → ``://``;
``[/]`` → ``/``; ``[at]``, ``(at)``, ``{at}``, ``[@]``, ``(@)`` → ``@``.

Contract: ``RefangedView.text`` is the refanged text; :meth:`RefangedView.span` maps a
range of it back to the range of the original text it was made from, and
:meth:`RefangedView.defanged` says whether a range touches an undone form.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

_FORMS = re.compile(
    r"(?P<scheme>\b(?:h(?:xx|\*\*|__)p(?P<s>s?)|fxp)(?=\[?:\]?//|\[://\]))"
    r"|(?P<dot>\.?\s?[\[({]\s?(?:\.|dot)\s?[\])}]\s?)"
    r"|(?P<colon>\[:\](?://)?|\[://\])"
    r"|(?P<slash>\[/\])"
    r"|(?P<at>\s?[\[({]\s?(?:at|@)\s?[\])}]\s?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RefangedView:
    text: str
    _starts: tuple[int, ...]  # original offset of each character of ``text``
    _ends: tuple[int, ...]  # original end offset of each character of ``text``
    _changed: tuple[tuple[int, int], ...]  # ranges of ``text`` produced by an undone form

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The range of the original text that produced ``text[start:end]``."""
        if end <= start:
            origin = self._starts[start] if start < len(self._starts) else self._end_of_text()
            return origin, origin
        return self._starts[start], self._ends[end - 1]

    def defanged(self, start: int, end: int) -> bool:
        """True when ``text[start:end]`` overlaps a refanged form."""
        index = bisect_left(self._changed, (start, -1))
        for candidate in self._changed[max(0, index - 1) : index + 1]:
            if candidate[0] < end and start < candidate[1]:
                return True
        return False

    def _end_of_text(self) -> int:
        return self._ends[-1] if self._ends else 0


def _replacement(match: re.Match[str]) -> str:
    if match.group("scheme"):
        word = match.group("scheme").lower()
        return "ftp" if word == "fxp" else "http" + (match.group("s") or "")
    if match.group("dot"):
        return "."
    if match.group("colon"):
        return "://" if "/" in match.group("colon") else ":"
    if match.group("slash"):
        return "/"
    return "@"


def refang(text: str) -> RefangedView:
    """The refanged view of ``text``."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    changed: list[tuple[int, int]] = []
    last = 0
    for match in _FORMS.finditer(text):
        replacement = _replacement(match)
        if match.group("dot") or match.group("at"):
            # keep the surrounding spaces when the form sits between words of prose
            before = text[match.start() - 1 : match.start()]
            after = text[match.end() : match.end() + 1]
            spaced = match.group(0)[0].isspace() or match.group(0)[-1].isspace()
            if spaced and (not before.strip() or not after.strip()):
                continue
        for index in range(last, match.start()):
            out.append(text[index])
            starts.append(index)
            ends.append(index + 1)
        begin = len(out)
        for char in replacement:
            out.append(char)
            starts.append(match.start())
            ends.append(match.end())
        changed.append((begin, len(out)))
        last = match.end()
    for index in range(last, len(text)):
        out.append(text[index])
        starts.append(index)
        ends.append(index + 1)
    return RefangedView("".join(out), tuple(starts), tuple(ends), tuple(changed))


def refang_value(value: str) -> str:
    """``value`` with every defanged form undone."""
    return refang(value).text
