"""MathML spacing: the identifiers, numbers and scripted items of one formula are one word.

The rule (pmc15m.jats.mathml's module doc) is checked on chemical formulas, isotopes, units and
products, on the cases where a space must stay (words, fractions, large operators, two
numbers, a script that would swallow its neighbour), and on generated formulas against an
oracle written independently of the implementation.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pmc15m.jats.captions import render_text
from pmc15m.jats.mathml import linearize

MML = "http://www.w3.org/1998/Math/MathML"


def mi(x: str) -> str:
    return f"<mi>{x}</mi>"


def mn(x: str) -> str:
    return f"<mn>{x}</mn>"


def mo(x: str) -> str:
    return f"<mo>{x}</mo>"


def sub(base: str, script: str) -> str:
    return f"<msub>{base}{script}</msub>"


def sup(base: str, script: str) -> str:
    return f"<msup>{base}{script}</msup>"


def row(*items: str) -> str:
    return f"<mrow>{''.join(items)}</mrow>"


def render(inner: str) -> str:
    return linearize(etree.fromstring(f'<math xmlns="{MML}">{inner}</math>'))


MINUS_ONE = row(mo("−"), mn("1"))


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        # chemical formulas: element letters and their counts are one word
        (mi("C") + sub(mi("O"), mn("2")), "CO_2"),
        (sub(mi("H"), mn("2")) + mi("O"), "H_2O"),
        (mi("H") + sub(mi("O"), mn("2")), "HO_2"),
        (sub(mi("H"), mn("2")) + sub(mi("O"), mn("2")), "H_2O_2"),
        (mi("N") + mi("a") + mi("C") + mi("l"), "NaCl"),
        (mi("N") + sub(mi("a"), mn("2")) + mi("S") + sub(mi("O"), mn("4")), "Na_2SO_4"),
        (mi("C") + mi("a") + mi("C") + sub(mi("O"), mn("3")), "CaCO_3"),
        (sub(mi("H"), mn("2")) + row(mi("S"), sub(mi("O"), mn("4"))), "H_2SO_4"),
        # isotopes: prescripts before the symbol, then the rest of the formula
        ("<mmultiscripts><mi>C</mi><mprescripts/><none/><mn>14</mn></mmultiscripts>" + sub(mi("O"), mn("2")),
         "^14CO_2"),
        (mn("2") + "<mmultiscripts><mi>H</mi><mprescripts/><none/><mn>3</mn></mmultiscripts>", "2^3H"),
        # products and units, as they render: no separator, no space
        (mn("2") + mi("x"), "2x"),
        (mn("2") + sup(mi("x"), mn("2")), "2x^2"),
        (mi("a") + sup(mi("b"), mn("2")), "ab^2"),
        (sup(mi("x"), mn("2")) + mi("y"), "x^2y"),
        (mi("m") + sup(mi("s"), MINUS_ONE), "ms^(−1)"),
        (mi("β") + sup(mi("E"), mo("∗")), "βE^∗"),
        (mn("2") + sup(mi("e"), row(mi("γ"), mi("t"))), "2e^γt"),
        (mn("2") + sup(mi("e"), mi("γ")) + mi("t"), "2e^γ t"),
        # a script running from digits into letters is grouped, so the product above is unambiguous
        (sup(mi("x"), row(mn("2"), mi("y"))), "x^(2y)"),
        (sub(mi("k"), row(mn("1"), mi("a"))), "k_(1a)"),
        # words stay words
        (mi("sin") + mo("\u2061") + mi("x"), "sin x"),
        (mi("a") + mi("sin") + mi("x"), "a sin x"),
        (sup(mi("sin"), mn("2")) + mi("x"), "sin^2 x"),
        (mi("a") + sup(mi("sin"), mn("2")) + mi("x"), "a sin^2 x"),
        (sub(mi("log"), mn("2")) + mi("x"), "log_2 x"),
        (sub(mi("k"), mi("on")) + mi("x"), "k_on x"),
        (mi("a") + row(mi("sin"), mi("x")), "a sin x"),
        (mn("5") + "<mtext>mM</mtext>", "5 mM"),
        (mo("lim") + mi("f"), "lim f"),
        # fractions, large operators and accents stay apart
        (mi("Γ") + "<mfrac><mn>1</mn><mi>β</mi></mfrac>", "Γ 1/β"),
        ("<munderover><mo>∑</mo><mi>i</mi><mi>n</mi></munderover>" + sub(mi("x"), mi("i")), "∑_i^n x_i"),
        (mi("a") + "<mover><mi>x</mi><mo>¯</mo></mover>", "a bar(x)"),
        # two numbers never merge
        (mn("2") + mn("3"), "2 3"),
        (mn("2.5") + sup(mn("10"), mn("3")), "2.5 10^3"),
        (sub(mi("x"), mn("1")) + mn("2"), "x_1 2"),
        # a script that ends in a letter, or is followed by a number, keeps its neighbour apart
        (sub(mi("x"), mi("i")) + mi("y"), "x_i y"),
        (sub(mi("x"), mi("i")) + sub(mi("y"), mi("i")), "x_i y_i"),
        (sub(mi("∂"), mi("t")) + mi("s"), "∂_t s"),
        (row(sub(mi("x"), mi("i"))) + mi("y"), "x_i y"),
        (sub(mi("x"), mi("i")) + mn("2"), "x_i 2"),
        # empty scripts are no scripts
        (sub(mi("x"), "<mrow/>") + mi("y"), "xy"),
        # operators keep their spaces; authored spaces stay
        (mi("a") + mo("+") + mi("b"), "a + b"),
        (mi("C") + sub(mi("O"), mn("2")) + mo("+") + sub(mi("H"), mn("2")) + mi("O"), "CO_2 + H_2O"),
        (mi("m") + '<mspace width="0.2em"/>' + sup(mi("s"), MINUS_ONE), "m s^(−1)"),
        (mi("m") + mo("⋅") + sup(mi("s"), MINUS_ONE), "m⋅s^(−1)"),
    ],
)  # fmt: skip
def test_adjacent_operands(inner: str, expected: str):
    assert render(inner) == expected


def test_formula_in_a_caption_is_one_word():
    xml = (
        f'<p xmlns:mml="{MML}">Rising <inline-formula><mml:math><mml:mi>C</mml:mi><mml:msub>'
        "<mml:mi>O</mml:mi><mml:mn>2</mml:mn></mml:msub></mml:math></inline-formula> levels.</p>"
    )
    assert render_text(etree.fromstring(xml)) == "Rising CO_2 levels."


# --- generated formulas ------------------------------------------------------------------------

_LETTERS = st.sampled_from("abcxyzCHNOSαβΓ")
_NUMBERS = st.sampled_from(["1", "2", "12", "0.5"])


@st.composite
def _atom(draw: st.DrawFn) -> tuple[str, str]:
    """One item of a formula: (MathML, its own rendering)."""
    kind = draw(st.sampled_from(["mi", "mn", "msub", "msup"]))
    if kind == "mi":
        x = draw(_LETTERS)
        return mi(x), x
    if kind == "mn":
        x = draw(_NUMBERS)
        return mn(x), x
    base, script = draw(_LETTERS), draw(_NUMBERS)
    mark, make = ("_", sub) if kind == "msub" else ("^", sup)
    return make(mi(base), mn(script)), f"{base}{mark}{script}"


@settings(max_examples=300, deadline=None)
@given(st.lists(_atom(), min_size=1, max_size=6))
def test_single_letters_numbers_and_numeric_scripts_are_one_word(atoms: list[tuple[str, str]]):
    """Oracle: items joined as they are, with a space only where two numbers would merge."""
    expected = atoms[0][1]
    for _, text in atoms[1:]:
        expected += (" " if expected[-1].isdigit() and text[0].isdigit() else "") + text
    assert render("".join(xml for xml, _ in atoms)) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(_atom(), min_size=2, max_size=6), st.sampled_from(["+", "=", "−"]))
def test_operators_keep_their_spaces_between_formulas(atoms: list[tuple[str, str]], op: str):
    left, right = atoms[: len(atoms) // 2], atoms[len(atoms) // 2 :]
    xml = "".join(x for x, _ in left) + mo(op) + "".join(x for x, _ in right)
    rendered = render(xml)
    assert f" {op} " in rendered
    assert rendered == f"{render(''.join(x for x, _ in left))} {op} {render(''.join(x for x, _ in right))}"
