"""Typing a hexadecimal string found in a report as a file hash, by length and context.

Contract: :func:`classify` returns ``(kind, None)`` for a file hash, ``(None, reason)`` when
the context says the hex string is something else (certificate thumbprint, imphash, key,
password hash, wallet, …) or the length fits no algorithm.  Length decides the algorithm:
32 MD5, 40 SHA-1, 64 SHA-256, 128 SHA-512; a context naming SHA3-256/SHA3-512 with the
matching length types it so.  A context naming an algorithm of another length does not
override the length (reports mislabel columns more often than they mistype hashes).
Context is the column header, the text just before the value on its line, and the nearest
heading-like label above it; a label vetoes only with unambiguous words (thumbprint,
imphash, serial…), since headings such as "PASSWORDS modules" describe what files do.
"""

from __future__ import annotations

import re

_BY_LENGTH = {
    32: "file:hashes.MD5",
    40: "file:hashes.SHA-1",
    64: "file:hashes.SHA-256",
    128: "file:hashes.SHA-512",
}
_SHA3 = re.compile(r"sha-?3[-_ ]?(256|512)", re.IGNORECASE)
# what the hex string is, when the context says so; strong words also count in labels above
_STRONG = (
    r"imphash|import hash|authentihash|thumbprint|serial(?: number)?|fingerprint|ssdeep"
    r"|tlsh|pehash|rich[ -]?header|telfhash|\bja3s?\b|\bjarm\b|\bntlm\b|\bnt hash"
)
_WEAK = (
    r"certificat|\bcert\b|password|passwd|\b(?:rc4|aes|xor|des|encryption|decryption|rsa"
    r"|api|public|private|session|license|secret)\s+key|\btoken\b|\bguid\b|\buuid\b"
    r"|\bbtih\b|infohash|torrent|\bcommit\b|transaction|wallet|\bmutex|\bpdb\b|\bcookie"
)
_VETO_STRONG = re.compile(rf"(?P<what>{_STRONG})", re.IGNORECASE)
_VETO_ANY = re.compile(rf"(?P<what>{_STRONG}|{_WEAK})", re.IGNORECASE)


def classify(
    hex_value: str, header: str | None, prefix: str, labels: list[str]
) -> tuple[str | None, str | None]:
    """The indicator kind for ``hex_value``, or why it is not a file hash."""
    length = len(hex_value)
    kind = _BY_LENGTH.get(length)
    contexts = [(_VETO_ANY, header or ""), (_VETO_ANY, prefix[-40:])]
    if not header:
        contexts.extend((_VETO_STRONG, label) for label in labels[:1])
    for veto_words, context in contexts:
        veto = veto_words.search(context)
        if veto:
            return (
                None,
                f"hex value labelled {veto.group('what').strip().lower()!r}, not a file hash",
            )
    for context in (header or "", prefix, *labels):
        sha3 = _SHA3.search(context)
        if sha3 and int(sha3.group(1)) // 4 == length:
            return f"file:hashes.SHA3-{sha3.group(1)}", None
    if kind is None:
        return None, f"hex value of length {length} matches no supported hash algorithm"
    return kind, None
