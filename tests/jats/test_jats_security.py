"""Hostile and broken input: each case is refused (or parsed safely) quickly and without I/O."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest
from lxml import etree

from pmc15m.core import reasons
from pmc15m.core.record import ArticleMeta, Sample
from pmc15m.jats.parse import JatsError, ParseConfig, find_figures, parse_article
from pmc15m.jats.secure import strip_namespaces
from pmc15m.sources.local import LocalSource
from pmc15m.stages import read_article

BODY = (
    '<front><article-meta><article-id pub-id-type="pmc">PMC9</article-id></article-meta></front>'
    '<body><fig id="F1"><caption><p>Secret: &xxe;</p></caption><graphic xlink:href="g1"/></fig></body>'
)
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'


def refused(data: bytes, config: ParseConfig = ParseConfig()) -> JatsError:  # noqa: B008
    """The JatsError ``parse_article`` raises, after checking that it came fast."""
    start = time.perf_counter()
    with pytest.raises(JatsError) as err:
        parse_article(data, config)
    assert time.perf_counter() - start < 2.0
    assert err.value.reason == reasons.XML_UNPARSEABLE
    assert err.value.detail
    return err.value


def test_xxe_external_entity_is_refused():
    data = (
        '<?xml version="1.0"?><!DOCTYPE article [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f"<article {XLINK}>{BODY}</article>"
    ).encode()
    err = refused(data)
    assert "ENTITY" in err.detail
    assert "root:" not in str(err)


def test_parameter_entity_is_refused():
    data = (
        '<!DOCTYPE article [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;]>'
        f"<article {XLINK}>{BODY.replace('&xxe;', '')}</article>"
    ).encode()
    refused(data)


def test_billion_laughs_is_refused():
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    data = (
        f"<!DOCTYPE article [{''.join(entities)}]>"
        f"<article {XLINK}>{BODY.replace('&xxe;', '&lol9;')}</article>"
    ).encode()
    refused(data)


def test_entity_declaration_in_utf16_is_refused():
    data = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE article [<!ENTITY xxe "boom">]>'
        f"<article {XLINK}>{BODY}</article>"
    ).encode("utf-16")
    refused(data)


def test_entity_declaration_hidden_from_the_byte_check_is_refused_after_parsing():
    """UTF-16 without a BOM slips past the byte scan; the parsed DTD check still refuses it."""
    data = (
        '<?xml version="1.0" encoding="UTF-16BE"?><!DOCTYPE article [<!ENTITY xxe "boom">]>'
        f"<article {XLINK}>{BODY}</article>"
    ).encode("utf-16-be")
    assert b"<!ENTITY" not in data
    assert "entities" in refused(data).detail


@pytest.fixture
def dtd_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request (none must arrive)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY xxe "fetched">')

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/JATS-archivearticle1.dtd", hits
    finally:
        server.shutdown()
        server.server_close()


def test_external_dtd_is_not_fetched_and_parses(dtd_server):
    url, hits = dtd_server
    body = BODY.replace("&xxe;", "ok")
    data = (
        '<?xml version="1.0"?><!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving '
        f'and Interchange DTD v1.2 20190208//EN" "{url}"><article {XLINK}>{body}</article>'
    ).encode()
    art = parse_article(data)
    assert [f.caption for f in art.figures] == ["Secret: ok"]
    assert hits == []


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Publishing DTD v1.3 20210610//EN" '
        '"JATS-journalpublishing1-3.dtd">',
        '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.0 '
        '20120330//EN" "JATS-archivearticle1.dtd">',
        '<!DOCTYPE article PUBLIC "-//NLM//DTD Journal Publishing DTD v3.0 20080202//EN" '
        '"http://dtd.nlm.nih.gov/publishing/3.0/journalpublishing3.dtd">',
        '<!DOCTYPE article SYSTEM "file:///nonexistent/archivearticle.dtd">',
    ],
)
def test_standard_doctypes_parse(doctype: str):
    data = f'<?xml version="1.0"?>{doctype}<article {XLINK}>{BODY.replace("&xxe;", "x")}</article>'
    assert parse_article(data.encode()).pmcid == "PMC9"


def test_too_large_is_refused_before_parsing():
    data = f"<article {XLINK}>{BODY.replace('&xxe;', 'x' * 5000)}</article>".encode()
    err = refused(data, ParseConfig(max_bytes=1000))
    assert "max_bytes" in err.detail


@pytest.mark.parametrize("data", [b"", b"   \n", b"not xml at all", b"\x89PNG\r\n\x1a\n\x00\x00", b"<"])
def test_empty_or_non_xml_is_refused(data: bytes):
    refused(data)


GOOD = (
    f'<article {XLINK}><front><article-meta><article-id pub-id-type="pmc">5</article-id>'
    '</article-meta></front><body><fig id="F1"><caption><p>Fine caption.</p></caption>'
    '<graphic xlink:href="g1"/></fig><p>Closing <italic>markup</italic>.</p></body></article>'
)


def test_well_formed_control_parses():
    assert [f.caption for f in parse_article(GOOD.encode()).figures] == ["Fine caption."]


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (GOOD.replace("markup</italic>", "markup"), "mismatched tag late in the body"),
        (GOOD[: len(GOOD) * 3 // 5], "truncated download"),
        (GOOD.replace("<front>", "<front><article-meta><p>x</front>", 1), "broken front"),
        ("<article><body><p>unclosed <italic>text</p></body>", "no front at all"),
    ],
)
def test_malformed_is_refused_never_recovered(broken: str, why: str):
    """Documented choice: strict parsing only; a recovered tree can re-pair captions."""
    assert "malformed" in refused(broken.encode()).detail, why


def test_html_named_entities_are_repaired_not_fatal():
    data = GOOD.replace("Fine caption.", "A&nbsp;B&mdash;C &amp; D&hellip;").encode()
    (fig,) = parse_article(data).figures
    assert fig.caption == "A B—C & D…"


def test_unknown_named_entity_stays_visible_and_is_never_resolved():
    """Documented choice (pmc15m.jats.secure): a name outside the built-in table is kept as
    literal text, neither refused (the article's other figures survive) nor dropped."""
    (fig,) = parse_article(GOOD.replace("Fine caption.", "A &notAnEntity; B").encode()).figures
    assert fig.caption == "A &notAnEntity; B"


def test_undeclared_entity_with_a_remote_dtd_is_neither_fetched_nor_resolved(dtd_server):
    """The DTD the server offers would define ``&xxe;``; it is never read, the name stays text."""
    url, hits = dtd_server
    data = (
        '<?xml version="1.0"?><!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving '
        f'and Interchange DTD v1.2 20190208//EN" "{url}"><article {XLINK}>{BODY}</article>'
    ).encode()
    assert [f.caption for f in parse_article(data).figures] == ["Secret: &xxe;"]
    assert hits == []


def test_deep_nesting_is_refused_quickly():
    """The parser's nesting limit (256) refuses the document; nothing is retried leniently."""
    depth = 5000
    data = (f"<article><front/><body>{'<p>' * depth}x{'</p>' * depth}</body></article>").encode()
    assert "depth" in refused(data).detail


def test_huge_text_node_is_refused():
    data = b"<article><front/><body><p>" + b"x" * 11_000_000 + b"</p></body></article>"
    refused(data)


def test_deep_but_legal_math_renders():
    """Nesting just under the parser's limit of 256 renders without a RecursionError."""
    depth = 120
    inner = "<m:mrow><m:msub>" * depth + "<m:mi>x</m:mi>" + "<m:mi>i</m:mi></m:msub></m:mrow>" * depth
    data = (
        '<article><front/><body><fig id="F1"><caption><p>'
        f'<m:math xmlns:m="http://www.w3.org/1998/Math/MathML">{inner}</m:math>'
        "</p></caption></fig></body></article>"
    ).encode()
    (fig,) = parse_article(data).figures
    assert fig.caption.startswith("x_i_i")


# --- refusals end as recorded rejections ---------------------------------------------------------

HOSTILE = {
    "xxe": (
        f'<!DOCTYPE article [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><article {XLINK}>{BODY}</article>'
    ).encode(),
    "billion_laughs": (
        "<!DOCTYPE article ["
        + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
        + f"]><article {XLINK}>{BODY.replace('&xxe;', '&l9;')}</article>"
    ).encode(),
    "malformed": GOOD.replace("</italic>", "").encode(),
    "truncated": GOOD[:150].encode(),
    "too_deep": b"<article><front/><body>" + b"<p>" * 300 + b"x" + b"</p>" * 300 + b"</body></article>",
    "oversize": GOOD.replace("Fine caption.", "word " * 50_000).encode(),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_article_is_a_recorded_rejection(tmp_path, case: str):
    """Through the stage the pipeline runs: a reject row with reason and detail, no exception."""
    key = "PMC9.1/PMC9.1.xml"
    (tmp_path / "PMC9.1").mkdir()
    (tmp_path / key).write_bytes(HOSTILE[case])
    meta = ArticleMeta(pmcid="PMC9", version=1, xml_key=key)
    start = time.perf_counter()
    result = read_article(LocalSource(tmp_path), meta, ParseConfig(max_bytes=100_000))
    assert time.perf_counter() - start < 2.0
    assert isinstance(result, Sample)
    assert (result.pmcid, result.reject_reason) == ("PMC9", reasons.XML_UNPARSEABLE)
    assert result.reject_detail and "root:" not in result.reject_detail


# --- why recover mode is off: what lxml's recovering parser makes of broken articles -------------

_TWO_FIGS = (
    f"<article {XLINK}><body>"
    '<fig id="F1"><caption><p>First caption.</p></caption><graphic xlink:href="g1"/></fig>'
    '<fig id="F2"><caption><p>Second caption.</p></caption><graphic xlink:href="g2"/></fig>'
    "</body></article>"
)
_INTENDED = [("F1", "First caption.", "g1"), ("F2", "Second caption.", "g2")]


@pytest.mark.parametrize(
    "broken",
    [
        _TWO_FIGS.replace("First caption.", "First <italic>caption."),  # unclosed inline markup
        _TWO_FIGS.replace("First caption.</p></caption>", "First caption.</p>"),  # unclosed caption
        _TWO_FIGS[: _TWO_FIGS.index("Second") + 3],  # truncated download
    ],
)
def test_recover_mode_would_mispair_so_strict_parsing_refuses(broken: str):
    """The documented decision (pmc15m.jats.secure): each of these, recovered, reads wrongly."""
    assert [(f.fig_id, f.caption, f.graphic) for f in parse_article(_TWO_FIGS.encode()).figures] == _INTENDED
    lenient = etree.XMLParser(recover=True, resolve_entities=False, load_dtd=False, no_network=True)
    root = etree.fromstring(broken.encode(), lenient)
    strip_namespaces(root)
    recovered = [(f.fig_id, f.caption, f.graphic) for f in find_figures(root)]
    assert recovered != _INTENDED  # a lost graphic or a truncated caption that looks real
    assert "malformed" in refused(broken.encode()).detail


@pytest.mark.parametrize("opener", [b"<!--", b"<![CDATA[", b"&aaaaaaaa"])
def test_entity_pass_stays_linear_on_unclosed_spans(opener: bytes):
    """The named-entity pass runs before the parser: megabytes of unclosed comment or CDATA
    openers (or of name characters) after a named reference must not make it quadratic."""
    refused(b"<article><p>&mdash;" + opener * 400_000)
