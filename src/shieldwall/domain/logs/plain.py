"""Plain lists: one indicator-like value per line (IP, domain, URL, e-mail address, hash).

Contract: blank lines and ``#`` comments have no observables; a `` #`` or ``<tab>#`` starts a
trailing comment.  The rest of the line is first read as one value, leniently (the list says
it is an indicator: any TLD of the public suffix list, defanged forms undone); when it is not
one value, its words are read carefully as free text, so arbitrary text lines work too.
"""

from __future__ import annotations

from collections.abc import Sequence

from shieldwall.domain.logs.classify import value, words
from shieldwall.domain.logs.model import Parsed

__all__ = ["PlainParser"]


class PlainParser:
    """Reads plain lists; stateless."""

    def __init__(self, head: Sequence[str] = ()) -> None:
        del head

    def parse(self, line: str) -> Parsed:
        """See the module."""
        content = line.strip()
        if not content or content[0] == "#":
            return [], None
        if "#" in content:
            for mark in (" #", "\t#"):
                cut = content.find(mark)
                if cut >= 0:
                    content = content[:cut].rstrip()
        found = value(content, careful=False)
        if found:
            return list(found), None
        return words(content), None
