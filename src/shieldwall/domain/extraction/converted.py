"""The output of a format converter: plain text plus what the markup told us.

Contract: ``text`` is what spans refer to.  Tables come out one row per line with cells
joined by ``" | "`` (header row first), so the scanner finds column headers the same way
for every input format.  ``links`` lists hyperlinks whose visible text differs from their
target (``(target, text)``): such targets are reference links, not indicators, unless
written defanged.  ``documents`` lists relative link targets (accompanying files such as
``misp-event.json``), which are never file-name indicators.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Converted:
    text: str
    title: str | None = None
    links: tuple[tuple[str, str], ...] = ()
    documents: frozenset[str] = field(default_factory=frozenset)


def is_absolute_url(target: str) -> bool:
    """True for ``scheme://…`` and ``mailto:`` targets."""
    head, sep, _ = target.partition(":")
    return (
        bool(sep)
        and head.isalpha()
        and (target[len(head) + 1 :].startswith("//") or head.lower() == "mailto")
    )


def link_text(target: str, label: str, links: list[tuple[str, str]], documents: set[str]) -> str:
    """How a hyperlink is rendered: ``label (target)``, or the label alone for relative links."""
    label = " ".join(label.split())
    if not is_absolute_url(target):
        if target:
            documents.add(target.split("#")[0].rsplit("/", 1)[-1])
        return label or target
    if not label or label == target:
        return target
    links.append((target, label))
    return f"{label} ({target})"
