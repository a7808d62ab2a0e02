"""MathML formulas as readable linear text (TeX is in :mod:`pmc15m.jats.texmath`).

A CLIP caption is plain text, so a formula must become something a tokenizer can read
(``E_k − E_1``, ``(a + b)/(c + d)``, ``sqrt(x)``) rather than vanish, which is what most
caption extractors do with ``<mml:math>``. The output is meant for reading, not for
round-tripping: it is close to the linear notation people type, with parentheses only
where a sub- or superscript, fraction part or root spans more than one token.

Adjacent operands of a row are one word, as a renderer sets them side by side: the
identifiers, numbers and scripted items of one formula are not separate words. So
``<mi>C</mi><msub><mi>O</mi><mn>2</mn></msub>`` reads "CO_2", ``<msub><mi>H</mi><mn>2</mn>
</msub><mi>O</mi>`` "H_2O", ``<mn>2</mn><mi>x</mi>`` "2x", an isotope "^14CO_2", a product
"x^2y", and a unit ``<mi>m</mi><msup><mi>s</mi>…`` "ms^(−1)", as it renders (juxtaposition is
a product in MathML; an author who means a space writes one). A space stays only where
joining would change what the text says: a word stays a word (a multi-letter identifier or
function name: "sin x", "sin^2 x", "k_on x"; ``<mtext>``: "5 mM"); fractions and under/over
constructs (large operators, accents) stay apart ("Γ 1/(2β)", "∑_(i = 1)^n x_i"); two numbers
never merge ("2.5 10^3", "x_1 2"); and after a sub- or superscript only a letter may follow
a numeric script ("H_2O", but "x_i y", "∂_t s"), since a bare script would swallow its
neighbour. A script running from digits into letters is parenthesised ("x^(2y)"), so "x^2y"
is x^2 times y. Operators keep their spaces ("a + b"), authored spaces stay spaces.

Elements are matched by local name, so MathML works with the MathML namespace, with a
prefix, or with none at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

_WS = re.compile(r"\s+")
_SINGLE_TOKEN = re.compile(r"^(?:[\w.′″'∞∂]+|.)$")
_INVISIBLE = dict.fromkeys(map(ord, "\u2061\u2062\u2063\u2064\u200b"), None)
_HAS_INVISIBLE = re.compile("[\u2061-\u2064\u200b]")
# Operators written with a space on each side when they stand between two operands.
_SPACED_OPS = frozenset("=<>+−-×±∓≤≥≈≠≡∼~∝→←↔⇒⇐⇔∈∉⊂⊃⊆⊇∪∩∧∨≪≫≅≃⊥∥÷") | {"<=", ">=", "!=", "=="}
# Items kept apart from a neighbouring operand by a space: "Γ 1/(2β)", "∑_(i = 1)^n x_i", "5 mM".
_SPACED_ITEMS = frozenset({"munder", "mover", "munderover", "mfrac", "mtext"})
# Items that end in a sub- or superscript when one is written (see _ends_in_script).
_SCRIPTS = frozenset({"msub", "msup", "msubsup", "mmultiscripts"})
_LAST_WORD = re.compile(r"[A-Za-z]{2,}$")
# A script running from a digit into a letter ("2y"): parenthesised, "x^2y" being x^2 times y.
_DIGIT_LETTER = re.compile(r"\d[^\W\d_]")
# Script elements that leave an operator an operator when their scripts are empty.
_EMBELLISHERS = frozenset({"msub", "msup", "msubsup", "munder", "mover", "munderover", "mrow", "mstyle"})
# Operators after which the next operator is binary again (a closed group, a factorial, a prime).
_POSTFIX = frozenset(")]}⟩⌋⌉!′″'")
_TRAILING_SPACE_OPS = frozenset(",;")
_ACCENTS = {
    "^": "hat", "ˆ": "hat", "\u0302": "hat", "~": "tilde", "˜": "tilde", "\u0303": "tilde",
    "¯": "bar", "‾": "bar", "_": "bar", "\u0304": "bar", "→": "vec", "⃗": "vec",
    "˙": "dot", "\u0307": "dot", "¨": "ddot",
}  # fmt: skip


def localname(el: etree._Element) -> str:
    """The element's tag without namespace ("" for comments and processing instructions)."""
    tag = el.tag
    if tag.__class__ is not str:
        return ""
    return tag[tag.rfind("}") + 1 :]


def _children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def _visible(el: etree._Element) -> str:
    """``el``'s text without invisible operators (a leaf's own text needs no join)."""
    text = (el.text or "") if not len(el) else "".join(el.itertext())
    return text.translate(_INVISIBLE) if _HAS_INVISIBLE.search(text) else text


def _token(el: etree._Element) -> str:
    return " ".join(_visible(el).split())


def _group(text: str) -> str:
    """``text`` as one operand: bare when a single token, else parenthesised."""
    text = text.strip()
    if not text or _SINGLE_TOKEN.match(text):
        return text
    if text[0] in "([{" and _balanced_wrap(text):
        return text
    return f"({text})"


def _balanced_wrap(text: str) -> bool:
    """True when the first bracket of ``text`` closes at its last character."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0


def _row(el: etree._Element) -> str:
    """Children in sequence; operators spaced as binary only where they follow an operand."""
    out: list[str] = []
    prev_operand = False
    prev: etree._Element | None = None
    for child in _children(el):
        op = _operator_of(child)
        text = op if op is not None else linearize_node(child)
        if op is not None and not op and _is_space(child):
            if out and not out[-1].endswith(" "):
                out.append(" ")
            continue
        if not text:
            continue
        if op is not None:
            out.append(_operator(text, prev_operand))
            prev_operand = text in _POSTFIX
        else:
            if out and prev is not None and _needs_space(out[-1], prev, text, child):
                out.append(" ")
            out.append(text)
            prev_operand = True
        prev = child
    return "".join(out)


def _operator_of(el: etree._Element) -> str | None:
    """The operator ``el`` stands for: an ``<mo>``, or one "embellished" by empty scripts.

    Converters write ``<msub><mo>=</mo><mo> </mo></msub>`` for a plain "="; read as an
    operand it would print "=_". None when ``el`` is not an operator.
    """
    name = localname(el)
    if name == "mo":
        return _token(el)
    if name in _EMBELLISHERS:
        kids = _children(el)
        if kids and localname(kids[0]) == "mo" and all(_is_blank(k) for k in kids[1:]):
            return _token(kids[0])
    return None


def _is_blank(el: etree._Element) -> bool:
    """No visible text at all (a text scan, not a render, so nested rows stay linear)."""
    return not _visible(el).strip()


def _is_space(el: etree._Element) -> bool:
    """An ``<mo>`` holding only visible whitespace (an em space): a space between operands."""
    if localname(el) != "mo":
        return False
    raw = _visible(el)
    return bool(raw) and raw.isspace()


def _operator(text: str, prev_operand: bool) -> str:
    if text in _TRAILING_SPACE_OPS:
        return text + " "
    if text in _SPACED_OPS and prev_operand:
        return f" {text} "
    return text


def _needs_space(before: str, prev: etree._Element, text: str, el: etree._Element) -> bool:
    """Whether an operand is a separate word from what precedes it (rule: module doc).

    ``prev`` is the previous item, an operand or an operator written as letters
    (``<mo>lim</mo>``), and ``before`` its text.
    """
    if before.endswith(" ") or not before[-1:].isalnum() or not text[:1].isalnum():
        return False
    if localname(el) in _SPACED_ITEMS or localname(prev) in _SPACED_ITEMS:
        return True
    if _is_word(el, first=True) or _is_word(prev, first=False) or _LAST_WORD.search(before):
        return True
    if before[-1].isdigit() and text[0].isdigit():
        return True
    return _ends_in_script(prev) and not (before[-1].isdigit() and text[0].isalpha())


def _is_word(el: etree._Element, first: bool) -> bool:
    """A multi-letter identifier (a function name: "sin") at the item's start or end: a
    scripted item counts by its base ("sin^2", "log_2"), a row by its first or last child."""
    name = localname(el)
    if name == "mi":
        text = _token(el)
        return len(text) > 1 and text.isalpha()
    kids = _children(el)
    if not kids:
        return False
    if name in _SCRIPTS:
        return _is_word(kids[0], first)
    if name not in _HANDLERS or name == "mtd":
        return _is_word(kids[0] if first else kids[-1], first)
    return False


def _ends_in_script(el: etree._Element) -> bool:
    """True when ``el`` renders with a sub- or superscript at its end (empty scripts do not count)."""
    name = localname(el)
    kids = _children(el)
    if name in ("msub", "msup", "msubsup"):
        return any(not _is_blank(k) for k in kids[1:3])
    if name == "mmultiscripts":
        post = [localname(k) for k in kids[1:]]
        cut = post.index("mprescripts") if "mprescripts" in post else len(post)
        return any(not _is_blank(k) for k in kids[1 : cut + 1])
    if kids and (name not in _HANDLERS or name == "mtd"):
        return _ends_in_script(kids[-1])
    return False


def _script(el: etree._Element) -> str:
    kids = [linearize_node(c) for c in _children(el)]
    name = localname(el)
    if not kids:
        return ""
    base = _group(kids[0]) if " " in kids[0].strip() else kids[0]
    if name == "msub" and len(kids) >= 2:
        return base + _attach("_", kids[1])
    if name == "msup" and len(kids) >= 2:
        return base + _attach("^", kids[1])
    if name == "msubsup" and len(kids) >= 3:
        return base + _attach("_", kids[1]) + _attach("^", kids[2])
    return "".join(kids)


def _attach(mark: str, script: str) -> str:
    """``_x`` / ``^(a + b)`` / ``^(2y)``; nothing for an empty script (never a dangling ``_``)."""
    script = _group(script)
    if _SINGLE_TOKEN.match(script) and _DIGIT_LETTER.search(script):
        script = f"({script})"
    return f"{mark}{script}" if script else ""


def _under_over(el: etree._Element) -> str:
    kids = _children(el)
    if not kids:
        return ""
    base = linearize_node(kids[0])
    name = localname(el)
    if name in ("mover", "munder") and len(kids) >= 2:
        mark = _token(kids[1])
        if mark in _ACCENTS:
            return f"{_ACCENTS[mark]}({base})"
        return base + _attach("^" if name == "mover" else "_", linearize_node(kids[1]))
    if name == "munderover" and len(kids) >= 3:
        return base + _attach("_", linearize_node(kids[1])) + _attach("^", linearize_node(kids[2]))
    return base


def _frac(el: etree._Element) -> str:
    kids = [linearize_node(c) for c in _children(el)]
    if len(kids) < 2:
        return "".join(kids)
    return f"{_group(kids[0])}/{_group(kids[1])}"


def _root(el: etree._Element) -> str:
    kids = [linearize_node(c) for c in _children(el)]
    if len(kids) < 2:
        return f"sqrt({''.join(kids)})"
    return f"sqrt[{kids[1]}]({kids[0]})"


def _fenced(el: etree._Element) -> str:
    open_, close = el.get("open", "("), el.get("close", ")")
    seps = (el.get("separators", ",") or "").replace(" ", "")
    parts = [linearize_node(c) for c in _children(el)]
    out = ""
    for i, part in enumerate(parts):
        if i:
            sep = seps[min(i - 1, len(seps) - 1)] if seps else ""
            out += sep + (" " if sep in ",;" else "")
        out += part
    return f"{open_}{out}{close}"


def _table(el: etree._Element) -> str:
    """A matrix as ``[a, b; c, d]``: rows by semicolons, cells by commas."""
    rows = []
    for row in _children(el):
        cells = _children(row)
        if localname(row) == "mlabeledtr" and cells:
            cells = cells[1:]  # the first cell is the equation label
        rows.append(", ".join(linearize_node(c) for c in cells))
    return "[" + "; ".join(rows) + "]"


def _multiscripts(el: etree._Element) -> str:
    kids = _children(el)
    if not kids:
        return ""
    out = linearize_node(kids[0])
    pre = ""
    scripts = kids[1:]
    names = [localname(k) for k in scripts]
    if "mprescripts" in names:
        cut = names.index("mprescripts")
        pre = _pairs(scripts[cut + 1 :])
        scripts = scripts[:cut]
    return pre + out + _pairs(scripts)


def _pairs(scripts: list[etree._Element]) -> str:
    out = ""
    for i in range(0, len(scripts) - 1, 2):
        sub, sup = linearize_node(scripts[i]), linearize_node(scripts[i + 1])
        out += _attach("_", sub) + _attach("^", sup)
    return out


def _semantics(el: etree._Element, skip: str = "annotation") -> str:
    """The first child that is not an annotation (``<semantics>``), or the first (``<maction>``)."""
    kids = [c for c in _children(el) if not (skip and localname(c).startswith(skip))]
    return linearize_node(kids[0]) if kids else ""


# TeX macros a TeX-to-MathML converter could not translate; it leaves them in <merror>.
_TEX_MACROS = {"\\degree": "°", "\\textdegree": "°", "\\circ": "°", "\\micro": "µ", "\\textmu": "µ"}


def _merror(el: etree._Element) -> str:
    """Converter errors (LaTeXML's ``<merror>``): a known macro as its symbol, else the text."""
    text = _row(el).strip()
    return _TEX_MACROS.get(text, text)


_EMPTY: Callable[[etree._Element], str] = lambda el: ""  # noqa: E731

_HANDLERS: dict[str, Callable[[etree._Element], str]] = {
    "mi": _token, "mn": _token, "mo": _token, "ms": lambda el: f'"{_token(el)}"',
    "mtext": lambda el: _WS.sub(" ", _visible(el)), "mspace": lambda el: " ",
    "mglyph": lambda el: el.get("alt", ""), "mphantom": _EMPTY, "none": _EMPTY,
    "mprescripts": _EMPTY, "annotation": _EMPTY, "annotation-xml": _EMPTY,
    "msub": _script, "msup": _script, "msubsup": _script, "mmultiscripts": _multiscripts,
    "munder": _under_over, "mover": _under_over, "munderover": _under_over, "mfrac": _frac,
    "msqrt": lambda el: f"sqrt({_row(el)})", "mroot": _root, "mfenced": _fenced, "mtable": _table,
    "mtd": _row, "semantics": _semantics, "maction": lambda el: _semantics(el, ""), "merror": _merror,
}  # fmt: skip


def linearize_node(el: etree._Element) -> str:
    """One MathML element as linear text; unknown containers read as a row."""
    handler = _HANDLERS.get(localname(el), _row)
    return handler(el)


def linearize(math: etree._Element) -> str:
    """A ``<math>`` element as one line of readable text, whitespace normalised."""
    return _WS.sub(" ", linearize_node(math)).strip()
