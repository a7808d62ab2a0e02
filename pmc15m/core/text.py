"""Plain-text hygiene every layer shares: single spaces, and no invisible characters.

Every text field that reaches a shard (captions, but also titles and citations from the
metadata, which never pass the caption renderer) goes through ``strip_controls``; the
renderers normalise whitespace with ``normalize_space``. One definition of "invisible", so
a caption and a title cannot disagree about a character.
"""

from __future__ import annotations

import re

# Characters no caption shows, deleted from every text field (``strip_controls``): zero-width
# marks, C0 controls that are not whitespace, DEL, the C1 controls (U+0085, "next line", is a
# line break: a space) and the bidirectional embeddings, overrides and isolates, which can
# reorder what a reader sees without changing what a model reads.
_C0 = [c for c in range(0x20) if not chr(c).isspace()]
_INVISIBLE = {
    **dict.fromkeys([*_C0, 0x7F, *range(0x80, 0xA0)], None),
    **dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"), None),
    **dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], None),
    0x85: " ",
}
# A regex search finds the rare text that needs ``translate`` (a dict lookup per character).
INVISIBLE_CLASS = "".join(re.escape(chr(c)) for c in sorted(_INVISIBLE))  # inside a [...] class
HAS_INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]")


def normalize_space(text: str) -> str:
    """Single spaces, no invisible characters, stripped.

    ``str.split()`` splits on exactly the characters ``str.isspace()`` accepts (``re``'s
    ``\\s``, no-break spaces included), several times faster than a regex. Invisible
    characters are unprintable and not whitespace (but U+0085, a space either way), so a
    joined result that ``isprintable()`` had none to delete: no regex search at all.
    """
    joined = " ".join(text.split())
    return joined if joined.isprintable() else " ".join(strip_controls(text).split())


def strip_controls(text: str) -> str:
    """``text`` without control, zero-width and bidirectional-override characters.

    For every text field that reaches a shard, whitespace kept as it is (a URL, a DOI).
    """
    return text.translate(_INVISIBLE) if HAS_INVISIBLE.search(text) else text
