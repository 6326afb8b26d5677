"""Typed text as the bot may see it: control characters out, leading slashes out.

One definition for both sides of the seam: the public gateway (api/routes/chat.py)
cleans what the browser sends, and the guarded Rasa channel (nlu/channel.py)
cleans it again, so Rasa reached directly on its private port is no easier to
fool with "/intent{...}" (security review, finding 7). Standard library only
(imported by Python 3.10 and 3.11).
"""

from __future__ import annotations

import unicodedata

# Bidirectional overrides and isolates: they can make text display differently
# from what it says (a coordinator reads these answers later).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")


def strip_controls(text: str) -> str:
    """Line breaks and tabs become spaces; other control characters, lone
    surrogates and bidi controls are dropped. Emoji (including joiners) stay."""
    out: list[str] = []
    for char in text:
        if char in _SPACE_CONTROLS:
            out.append(" ")
        elif char in _BIDI_CONTROLS:
            continue
        elif unicodedata.category(char) in ("Cc", "Cs"):
            continue
        else:
            out.append(char)
    return "".join(out)


def _is_leading_junk(char: str) -> bool:
    return char == "/" or char.isspace() or unicodedata.category(char) == "Cf"


def neutralise_text(text: str) -> str:
    """Typed text as the bot may see it: no control characters, and no leading
    "/" (even behind spaces or invisible characters), so it is never parsed as
    `/intent{...}`."""
    cleaned = strip_controls(text)
    start = 0
    while start < len(cleaned) and _is_leading_junk(cleaned[start]):
        start += 1
    return cleaned[start:].rstrip()
