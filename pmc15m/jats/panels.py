"""Panel sub-captions: "(A) … (B) …" split into ``{panel, text}`` items, and how often that works.

About half of PMC's figures are composites, and their captions describe each panel after
a marker. Kept as a list beside the full caption (which stays the training text), the
panels let later work pair crops with their own text. The splitter is conservative by
design: a wrong split is worse than none, so markers must form a clean A, B, C… chain that
starts at a sentence start with panel A; postfix markers ("males (A) and females (B)")
and stray letters ("phosphorylated (P) form") never split. Three styles are tried in
order: parenthesised ``(A)``/``(a)``/``(A–C)``; bare letters ``A.``/``A,`` at sentence
starts; positions ``Left:``/``Top:``/``(right)``. The label some publishers repeat at the
caption's start is removed here too (:func:`strip_label_copy`): it has its own field.

:func:`split_rate` measures the splitter against :func:`mentions_panels`, a deliberately
broader detector, so the rate says how many panel-describing captions it leaves whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pmc15m.core.record import SubCaption
from pmc15m.core.text import normalize_space

_LABEL = r"[A-Za-z](?:\d{1,2})?['′]?"
_SEP = r"(?:,\s*and\b|,|\band\b|&|–|—|-)"
_LABELS = rf"{_LABEL}(?:\s*{_SEP}\s*{_LABEL})*"
# "(A)", "(A–C)", "(A, B)", and runs of them: "(A)–(C)", "(A) and (D)".
_PAREN_MARKER = re.compile(rf"\((?:{_LABELS})\)(?:\s*{_SEP}\s*\((?:{_LABELS})\))*")
_LETTER_MARKER = re.compile(rf"(?:^|(?<=[.;!?]\s))(?P<lab>{_LABEL}(?:\s*[–—-]\s*{_LABEL})?)[.,:)](?=\s)")
_POSITIONS = (
    r"(?:(?:top|bottom|upper|lower|middle|center|centre)(?:[ -](?:left|right|middle|center|centre))?"
    r"|left|right)(?:\s+panels?)?"
)
_WORD_MARKER = re.compile(
    rf"(?:^|(?<=[.;!?]\s))(?:(?P<lab>{_POSITIONS}):|\((?P<plab>{_POSITIONS})\))(?=\s)", re.I
)
_SPLIT_LABELS = re.compile(rf"\s*({_SEP})\s*")
# A stop and a space, after which a sentence-start marker may begin: see _sentence_starts.
_AFTER_STOP = re.compile(r"[.;!?]\s")
_NON_DIGITS = re.compile(r"\D")

Key = tuple[int, int]


def _label_key(label: str) -> Key:
    """Sort key of one panel label: ``C2`` -> (2, 2); case-folded."""
    digits = _NON_DIGITS.sub("", label)
    return ord(label[0].lower()) - ord("a"), int(digits) if digits else 0


def _marker_label(m: re.Match[str]) -> str:
    """The label text of a marker: ``(A)–(C)`` reads as ``A–C``, ``(A) and (D)`` as ``A and D``."""
    if "lab" in m.re.groupindex and (lab := m.group("lab")) is not None:
        return lab
    return m.group(0).replace("(", "").replace(")", "")


@lru_cache(maxsize=4096)
def _label_set(text: str) -> tuple[tuple[Key, ...], str] | None:
    """Panels a marker covers, in order (ranges expanded), and its name (``A-C``, ``A,D``).

    Cached: captions repeat the same few labels ("A", "B", "A–C").
    """
    parts = _SPLIT_LABELS.split(text.strip())
    labels, seps = parts[0::2], parts[1::2]
    if not all(labels):
        return None
    keys = [_label_key(labels[0])]
    name = labels[0]
    for sep, label in zip(seps, labels[1:], strict=True):
        key = _label_key(label)
        is_range = sep in "–—-"
        if is_range and keys[-1][1] == 0 and key[1] == 0:
            keys.extend((i, 0) for i in range(keys[-1][0] + 1, key[0] + 1))
        else:
            keys.append(key)
        name += ("-" if is_range else ",") + label
    return tuple(keys), name


def _follows(prev: Key, start: Key) -> bool:
    """True when ``start`` is the panel right after ``prev`` (B after A, C2 after C1, D after C2)."""
    letter, number = prev
    return start in ((letter, number + 1), (letter + 1, 0), (letter + 1, 1)) and start != (letter, 1)


def _at_sentence_start(text: str, pos: int) -> bool:
    """True when ``pos`` starts the text or follows sentence-ending punctuation (and spaces).

    Reads back from ``pos`` (``text[:pos].rstrip().rstrip('"”’)]')``'s last character,
    without copying the text before it).
    """
    while pos and text[pos - 1].isspace():
        pos -= 1
    while pos and text[pos - 1] in '"”’)]':
        pos -= 1
    return not pos or text[pos - 1] in ".;:!?"


def _is_prefix(caption: str, m: re.Match[str]) -> bool:
    """A marker introduces a panel when a word follows it, not punctuation ("wild type (B).").

    ``(A). Text`` and ``(A): text`` count too, but only where the marker opens a sentence,
    which is what tells them from a postfix marker ending one.
    """
    rest = caption[m.end() : m.end() + 3]
    if len(rest) >= 2 and rest[0] == " " and rest[1] not in ".,;:)]":
        return True
    return (
        len(rest) == 3
        and rest[0] in ".:"
        and rest[1] == " "
        and rest[2].isalnum()
        and _at_sentence_start(caption, m.start())
    )


def _chain(caption: str, markers: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    """The clean A, B, C… chain of markers: ``(start, end, panel)`` per panel.

    The chain starts with panel A at a sentence start; every next marker starts with a
    panel right after one of the previous marker's panels (``(A) and (D)`` may be followed
    by ``(B) and (E)``) that no earlier marker covered, in the same case. Markers that do
    not fit (``phosphorylated (P) form``, ``wild type (F)`` inside ``(F–I)``) stay in the text.
    """
    chain: list[tuple[int, int, str]] = []
    covered: set[Key] = set()
    prev: tuple[Key, ...] = ()
    upper = True
    for m in markers:
        label = _marker_label(m)
        parsed = _label_set(label)
        if parsed is None:
            continue
        keys, name = parsed
        if not chain:
            if keys[0][0] != 0 or not _at_sentence_start(caption, m.start()):
                continue
            upper = label[0].isupper()
        elif keys[0] in covered or label[0].isupper() != upper or not any(_follows(k, keys[0]) for k in prev):
            continue
        chain.append((m.start(), m.end(), name))
        covered.update(keys)
        prev = keys
    return chain


def _panels(caption: str, chain: list[tuple[int, int, str]], panel_case: bool = True) -> list[SubCaption]:
    if len(chain) < 2:  # one panel is no split
        return []
    out: list[SubCaption] = []
    for i, (_, end, name) in enumerate(chain):
        stop = chain[i + 1][0] if i + 1 < len(chain) else len(caption)
        text = caption[end:stop].strip().lstrip(".:").strip()
        if not text:
            return []
        out.append(SubCaption(panel=name if panel_case else name.lower(), text=text))
    return out if len(out) >= 2 else []


def _sentence_starts(caption: str) -> list[int]:
    """Where a sentence-start marker may begin: the caption's start, and after a stop and a space."""
    return [0, *(m.end() for m in _AFTER_STOP.finditer(caption))]


def _at_sentence_starts(pattern: re.Pattern[str], caption: str, starts: list[int]) -> list[re.Match[str]]:
    """``pattern.finditer(caption)`` for a marker that starts with ``(?:^|(?<=[.;!?]\\s))``.

    Such a marker can only begin at one of ``starts`` (:func:`_sentence_starts`), so it is
    tried there alone (``match`` at a position still sees the lookbehind), skipping starts
    inside the previous match as ``finditer`` does: the same matches, without running the
    lookbehind at every character (a third of the parse's panel time).
    """
    found: list[re.Match[str]] = []
    end = 0
    for pos in starts:
        if pos >= end and (m := pattern.match(caption, pos)) is not None:
            found.append(m)
            end = m.end()
    return found


def split_subcaptions(caption: str) -> list[SubCaption]:
    """Panels of a composite figure's caption, or ``[]`` when there is no clean split.

    Tried in order: ``(A) … (B) …`` / ``(a) …``; ``A. … B. …`` / ``A, … B, …`` at sentence
    starts; ``Left: … Right: …`` and the other positions. Text before the first panel
    (the title, a general sentence) belongs to no panel; the full caption keeps it.
    """
    paren = [m for m in _PAREN_MARKER.finditer(caption) if _is_prefix(caption, m)]
    panels = _panels(caption, _chain(caption, paren))
    if panels:
        return panels
    starts = _sentence_starts(caption)
    panels = _panels(caption, _chain(caption, _at_sentence_starts(_LETTER_MARKER, caption, starts)))
    if panels:
        return panels
    return _position_panels(caption, starts)


def _position_panels(caption: str, starts: list[int]) -> list[SubCaption]:
    chain: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for m in _at_sentence_starts(_WORD_MARKER, caption, starts):
        name = normalize_space(m.group("lab") or m.group("plab")).lower()
        if name in seen:
            return []
        seen.add(name)
        chain.append((m.start(), m.end(), name))
    return _panels(caption, chain, panel_case=False)


# --- the label's copy at the start of a caption ---------------------------------------------

# What may follow a label repeated at the start of a caption: "Figure 1. ", "Figure 1: ", "Fig. 2 | ".
_AFTER_LABEL = re.compile(r"\s*[.:|—–]\s+|\s*[.:|]?$")


def strip_label_copy(text: str, label: str) -> str:
    """``text`` without a leading copy of ``label`` ("Figure 1. Cells" -> "Cells").

    Some publishers repeat the label inside ``<caption>``; the label has its own field
    (and ``include_label`` puts it back once). Only a copy followed by punctuation counts,
    so prose such as "Figure 1 shows the map" keeps its subject.
    """
    core = label.rstrip(" .:|—–")
    if not core or not text.startswith(core):
        return text
    after = _AFTER_LABEL.match(text, len(core))
    return text[after.end() :] if after is not None else text


# --- how often panels are split -------------------------------------------------------------

_PANEL_WORDS = re.compile(
    rf"\bpanels?\s+{_LABEL}\b|\b(?:{_POSITIONS})\s*(?::|panels?\b)|\((?:{_POSITIONS})\)", re.I
)


@dataclass(slots=True, frozen=True)
class SplitStats:
    """How well :func:`split_subcaptions` covers captions that talk about panels."""

    figures: int  # captions measured
    with_panels: int  # captions that mention panels (see mentions_panels)
    split: int  # of those, captions split into two or more panels
    split_any: int  # captions split, whether or not mentions_panels saw panels

    @property
    def rate(self) -> float:
        """Fraction of panel-mentioning captions that were split (0.0 when there are none)."""
        return self.split / self.with_panels if self.with_panels else 0.0


def mentions_panels(caption: str) -> bool:
    """True when a caption refers to two or more panels in any of the usual ways.

    Deliberately broader than the splitter (postfix markers such as "wild type (F)" count
    too), so that the split rate measures what the splitter misses.
    """
    letters: set[str] = set()
    for m in _PAREN_MARKER.finditer(caption):
        parsed = _label_set(_marker_label(m))
        letters.update(str(key[0]) for key in (parsed[0] if parsed else ()))
    for m in _at_sentence_starts(_LETTER_MARKER, caption, _sentence_starts(caption)):
        letters.add(str(_label_key(m.group("lab"))[0]))
    return len(letters) >= 2 or len(_PANEL_WORDS.findall(caption)) >= 2


def split_rate(captions: Iterable[str]) -> SplitStats:
    """Measure sub-caption splitting over ``captions``."""
    figures = with_panels = split = split_any = 0
    for caption in captions:
        figures += 1
        has_split = bool(split_subcaptions(caption))
        split_any += has_split
        if mentions_panels(caption):
            with_panels += 1
            split += has_split
    return SplitStats(figures=figures, with_panels=with_panels, split=split, split_any=split_any)
