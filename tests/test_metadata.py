"""Metadata parsing, the article gate and graphic resolution."""

from __future__ import annotations

import json

import pytest

from pmc15m import reasons
from pmc15m.config import LICENSE_PRESETS, BuildConfig
from pmc15m.metadata import MetadataError, gate_article, parse_metadata, resolve_graphic
from pmc15m.record import MediaRef

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
