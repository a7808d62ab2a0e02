"""Named character entities resolve from the built-in table, with or without a DOCTYPE.

With the DOCTYPE line of real PMC files, libxml2 (no DTD loaded) keeps each unresolved
reference and it renders as nothing: "IL&mdash;6 at 5&nbsp;&micro;M" read "IL6 at 5M".
"""

from __future__ import annotations

import unicodedata

import pytest

from pmc15m.jats.entities import ENTITIES, XML_BUILTINS
from pmc15m.jats.parse import parse_article
from pmc15m.jats.secure import load_article_root, resolve_named_entities

NS = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
DOCTYPES = {
    "none": "",
    "jats-1.3": (
        '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD '
        'v1.3 20210610//EN" "JATS-archivearticle1-3.dtd">'
    ),
    "nlm-2.3": (
        '<!DOCTYPE article PUBLIC "-//NLM//DTD Journal Archiving and Interchange DTD v2.3 20070202//EN" '
        '"archivearticle.dtd">'
    ),
    "system-only": '<!DOCTYPE article SYSTEM "http://dtd.nlm.nih.gov/publishing/3.0/journalpublishing3.dtd">',
}


def article(caption: str, *, doctype: str = "jats-1.3", href: str = "g1", encoding: str = "UTF-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>{DOCTYPES[doctype]}<article {NS}><front/><body>'
        f'<fig id="F1"><caption><p>{caption}</p></caption><graphic xlink:href="{href}"/></fig>'
        "</body></article>"
    )


def caption_of(data: bytes) -> str:
    (fig,) = parse_article(data).figures
    return fig.caption


@pytest.mark.parametrize("doctype", sorted(DOCTYPES))
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("IL&mdash;6 at 5&nbsp;&micro;M", "IL\u20146 at 5\u00a0\u00b5M"),
        ("p &le; 0.05 &plusmn; 2&deg;C, 3&times;10", "p \u2264 0.05 \u00b1 2\u00b0C, 3\u00d710"),
        ("&alpha;-&beta; &Delta;G &ndash; &hellip;", "\u03b1-\u03b2 \u0394G \u2013 \u2026"),
        ("MathML f&ApplyFunction;x, a&InvisibleTimes;b, f&af;x, a&it;b, i&ic;j", "MathML fx, ab, fx, ab, ij"),
        (
            "ISO Greek &agr;&bgr;&Ggr;, bold &b.alpha;&b.Gamma;",
            "ISO Greek \u03b1\u03b2\u0393, bold \U0001d6c2\U0001d6aa",
        ),
        ("two chars &NotEqualTilde; and &nvlt;", "two chars \u2242\u0338 and <\u20d2"),
        ("numeric &#8212; &#x2014; stay", "numeric \u2014 \u2014 stay"),
    ],
)
def test_named_entities_resolve_whatever_the_doctype(doctype: str, source: str, expected: str):
    assert caption_of(article(source, doctype=doctype).encode()) == expected.replace("\u00a0", " ")


@pytest.mark.parametrize("doctype", sorted(DOCTYPES))
def test_xml_builtins_and_escaped_references_stay_literal(doctype: str):
    source = "&amp;mdash; &lt;i&gt; &quot;q&quot; &apos;a&apos; &amp;amp;"
    assert caption_of(article(source, doctype=doctype).encode()) == "&mdash; <i> \"q\" 'a' &amp;"


@pytest.mark.parametrize("doctype", sorted(DOCTYPES))
def test_unknown_names_stay_visible_as_text(doctype: str):
    source = "a &foo; b &z.tilde; c &x-y_1:2; d &mdash;"
    assert caption_of(article(source, doctype=doctype).encode()) == "a &foo; b &z.tilde; c &x-y_1:2; d \u2014"


def test_cdata_and_comments_are_not_rewritten():
    source = "<![CDATA[a &mdash; b]]> <!-- &nbsp; &foo; --> c&mdash;d <![CDATA[&foo;]]>"
    assert caption_of(article(source).encode()) == "a &mdash; b c\u2014d &foo;"


def test_references_in_attribute_values_resolve():
    """With a DOCTYPE, libxml2 would silently drop an unresolved reference in an attribute."""
    (fig,) = parse_article(article("Cap.", href="fig&ndash;1&foo;.jpg").encode()).figures
    assert fig.graphic == "fig\u20131&foo;.jpg"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_wide_encodings_are_rewritten_in_their_own_encoding(codec: str):
    xml = article("IL&mdash;6 &foo; <![CDATA[&nbsp;]]>", encoding=codec.upper(), href="g&ndash;1")
    (fig,) = parse_article(xml.encode(codec)).figures
    assert (fig.caption, fig.graphic) == ("IL\u20146 &foo; &nbsp;", "g\u20131")


def test_latin1_document_with_non_ascii_entity_name():
    xml = article("caf\u00e9 &eacute; &\u00e9t\u00e9;", encoding="ISO-8859-1")
    assert caption_of(xml.encode("latin-1")) == "caf\u00e9 \u00e9 &\u00e9t\u00e9;"


def test_nothing_to_resolve_returns_the_same_bytes():
    for data in (article("a &amp; b &#8212; c").encode(), article("plain").encode("utf-16")):
        assert resolve_named_entities(data)[0] is data
        assert resolve_named_entities(data)[1] is True


def test_entity_declarations_are_refused_even_beside_table_names():
    from pmc15m.jats.parse import JatsError

    data = f'<!DOCTYPE article [<!ENTITY mdash "EVIL">]><article {NS}><p>&mdash;</p></article>'.encode()
    with pytest.raises(JatsError, match="ENTITY"):
        load_article_root(data)


def test_unreadable_encoding_with_an_unresolved_reference_is_refused():
    """EBCDIC bytes cannot be scanned; a reference left in the tree must not vanish silently."""
    from pmc15m.jats.parse import JatsError

    data = article("x&mdash;y").encode("cp500")
    with pytest.raises(JatsError):
        load_article_root(data)


# --- the table ---------------------------------------------------------------------------------


def test_table_has_every_html5_name_and_no_xml_builtin():
    assert not XML_BUILTINS & ENTITIES.keys()
    assert ENTITIES["mdash"] == "\u2014" and ENTITIES["InvisibleTimes"] == "\u2062"
    assert ENTITIES["ApplyFunction"] == ENTITIES["af"] == "\u2061"
    assert ENTITIES["it"] == "\u2062" and ENTITIES["ic"] == "\u2063"
    assert len(ENTITIES) > 2200


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("agr", "\u03b1"),
        ("OHgr", "\u03a9"),
        ("sfgr", "\u03c2"),
        ("udiagr", "\u03b0"),
        ("b.alpha", "\U0001d6c2"),
    ],
)
def test_iso_greek_names_missing_from_html5(name: str, expected: str):
    assert ENTITIES[name] == expected


def test_bold_greek_is_mathematical_bold():
    bold = {name: chars for name, chars in ENTITIES.items() if name.startswith("b.")}
    assert len(bold) == 43
    assert all(unicodedata.name(chars).startswith("MATHEMATICAL BOLD") for chars in bold.values())
