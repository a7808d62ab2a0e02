"""Metadata parsing, the article gate and graphic resolution."""

from __future__ import annotations

import json

import pytest

from pmc15m.core import reasons
from pmc15m.core.config import LICENSE_PRESETS, BuildConfig
from pmc15m.core.record import MediaRef
from pmc15m.sources.metadata import (
    MetadataError,
    gate_article,
    href_filename,
    parse_metadata,
    rendition_rank,
    resolve_graphic,
)

BASE = "s3://pmc-oa-opendata/PMC10009416.1/"


def _doc(**overrides) -> bytes:
    doc = {
        "pmcid": "PMC10009416",
        "version": 1,
        "pmid": 36912345,
        "doi": "10.1/x",
        "title": "A study",
        "citation": "J. 2023",
        "is_pmc_openaccess": True,
        "is_manuscript": False,
        "is_historical_ocr": False,
        "is_retracted": False,
        "license_code": "CC BY",
        "xml_url": BASE + "PMC10009416.1.xml?md5=aa",
        "pdf_url": None,
        "media_urls": [BASE + "f-g001.jpg?md5=bb", BASE + "f-s001.xlsx?md5=cc"],
        "text_url": BASE + "PMC10009416.1.txt?md5=dd",
    }
    doc.update(overrides)
    return json.dumps(doc).encode()


def test_parse_metadata_reads_every_used_field():
    meta = parse_metadata(_doc(), etag="e1")
    assert (meta.pmcid, meta.version, meta.pmid, meta.license_code) == ("PMC10009416", 1, "36912345", "CC BY")
    assert (meta.xml_key, meta.xml_md5) == ("PMC10009416.1/PMC10009416.1.xml", "aa")
    assert [m.filename for m in meta.media] == ["f-g001.jpg", "f-s001.xlsx"]
    assert meta.metadata_etag == "e1"


@pytest.mark.parametrize("data", [b"", b"[1, 2]", b'{"pmcid": "PMC1"}', _doc(media_urls="x")])
def test_parse_metadata_rejects_unusable_json(data):
    with pytest.raises(MetadataError):
        parse_metadata(data)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, None),
        ({"is_pmc_openaccess": False}, reasons.NOT_OPEN_ACCESS),
        ({"license_code": "TDM"}, reasons.LICENSE_EXCLUDED),
        ({"license_code": ""}, reasons.LICENSE_EXCLUDED),
        ({"is_retracted": True}, reasons.RETRACTED),
        ({"title": "RETRACTED ARTICLE: A study"}, reasons.RETRACTED),
        ({"title": "Retraction note"}, reasons.RETRACTED),
        ({"title": "Non-retracted controls"}, None),
    ],
)
def test_gate_article_default(overrides, expected):
    assert gate_article(parse_metadata(_doc(**overrides)), BuildConfig()) == expected


def test_gate_article_presets():
    nc = parse_metadata(_doc(license_code="CC BY-NC"))
    assert gate_article(nc, BuildConfig(licenses=LICENSE_PRESETS["commercial"])) == reasons.LICENSE_EXCLUDED
    assert gate_article(nc, BuildConfig(licenses=LICENSE_PRESETS["noncommercial"])) is None
    tdm = parse_metadata(_doc(license_code="TDM"))
    assert gate_article(tdm, BuildConfig(licenses=LICENSE_PRESETS["all"])) is None
    assert "TDM" not in LICENSE_PRESETS["redistributable"]


def test_resolve_graphic_handles_missing_extensions_and_preferences():
    media = tuple(
        MediaRef(key=f"P/{name}", md5="")
        for name in ("pone.0046493.g001.tif", "pone.0046493.g001.jpg", "fig2.PNG", "fig3.gif", "s1.xlsx")
    )
    assert resolve_graphic("pone.0046493.g001", media).filename == "pone.0046493.g001.jpg"
    assert resolve_graphic("fig2", media).filename == "fig2.PNG"
    assert resolve_graphic("fig3.tif", media).filename == "fig3.gif"  # named format absent: same stem
    assert resolve_graphic("fig3.gif", media).filename == "fig3.gif"
    assert resolve_graphic("s1", media) is None  # supplementary files are not images
    assert resolve_graphic("nothing", media) is None


SCIELO_MEDIA = tuple(
    MediaRef(key=f"P/{name}", md5="")
    for name in ("93646b0c8e1a.jpg", "fig 2.png", "gf3.tif", "f1.jpg", "pdf-only.pdf", "x.jpg?v=2")
)


@pytest.mark.parametrize(
    ("href", "filename"),
    [
        ("https://minio.scielo.br/documentstore/1678-4685/xWz/93646b0c8e1a.jpg", "93646b0c8e1a.jpg"),
        ("http://host/a/93646B0C8E1A.JPG?width=600&v=3#top", "93646b0c8e1a.jpg"),
        ("//cdn.example.org/img/93646b0c8e1a.jpg", "93646b0c8e1a.jpg"),  # scheme-relative
        ("https://host/a/fig%202.png", "fig 2.png"),  # percent-escapes decoded
        ("https://host/a/gf3", "gf3.tif"),  # extension-less, as PMC hrefs: by stem
        ("HTTPS://host/f1.jpeg?x=1", "f1.jpg"),  # named format absent: same stem
        ("figs/f1.jpg", "f1.jpg"),  # relative paths: the last segment, as before
        ("figs/sub/f1", "f1.jpg"),
        ("x.jpg?v=2", "x.jpg?v=2"),  # a relative name is used as written, "?" and all
    ],
)
def test_resolve_graphic_reads_urls_and_paths_by_their_file_name(href: str, filename: str):
    found = resolve_graphic(href, SCIELO_MEDIA)
    assert found is not None and found.filename == filename


@pytest.mark.parametrize(
    "href",
    [
        "",
        "https://host/dir/",
        "https://host",
        "https://host/a/missing.jpg?f1.jpg",
        "data:image/png;base64,AAAA",
    ],
)
def test_resolve_graphic_finds_nothing_for_urls_naming_no_file(href: str):
    assert resolve_graphic(href, SCIELO_MEDIA) is None


def test_href_filename_and_rendition_rank():
    assert href_filename("https://h/p/a.b.jpg?q=1#f") == "a.b.jpg"
    assert href_filename("figs/f1") == "f1"
    ranks = {
        h: rendition_rank(h) for h in ("f1.jpg", "f1", "pone.0046493.g001", "f1.TIF", "https://h/f1.png?x")
    }
    assert set(ranks.values()) == {0}
    ranks = {h: rendition_rank(h) for h in ("f1.pdf", "f1.EPS", "https://h/f1.svg?x", "f1.docx", "m.mov")}
    assert set(ranks.values()) == {1}
