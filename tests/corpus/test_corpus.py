"""The synthetic corpus: deterministic, laid out like the bucket, and true to its ground truth.

Builds are tested against ``ground-truth.json``, so these tests check that file against
the objects themselves: the XML, the metadata URLs, the inventory and the image bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from PIL import Image, ImageOps

from pmc15m.core import reasons
from pmc15m.corpus.features import FEATURES
from pmc15m.corpus.generator import GROUND_TRUTH, generate_corpus, main
from pmc15m.corpus.imagefiles import KINDS
from pmc15m.corpus.model import ArticlePlan, FigurePlan, GroupPlan, Translation
from pmc15m.sources.inventory import INVENTORY_PREFIX, parse_inventory_part
from pmc15m.sources.local import LocalSource
from pmc15m.sources.metadata import parse_metadata, parse_object_url, resolve_graphic

XLINK = "{http://www.w3.org/1999/xlink}href"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
METADATA_FIELDS = (
    "pmcid", "version", "pmid", "doi", "title", "citation", "is_pmc_openaccess", "is_manuscript",
    "is_historical_ocr", "is_retracted", "license_code", "xml_url", "pdf_url", "media_urls", "text_url",
)  # fmt: skip
ARTICLE_REASONS = {
    reasons.SUPERSEDED_VERSION, reasons.NOT_OPEN_ACCESS, reasons.LICENSE_EXCLUDED, reasons.RETRACTED,
    reasons.XML_UNPARSEABLE,
}  # fmt: skip
FIGURE_REASONS = {
    reasons.NO_GRAPHIC, reasons.NO_CAPTION, reasons.CAPTION_TOO_SHORT, reasons.GRAPHIC_NOT_FOUND,
    reasons.IMAGE_TRUNCATED, reasons.IMAGE_NOT_IMAGE, reasons.IMAGE_TOO_LARGE, reasons.IMAGE_TOO_SMALL,
    reasons.ASPECT_RATIO, reasons.IMAGE_UNSUPPORTED,
}  # fmt: skip


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` by relative path, as a SHA-256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def safe_parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(data, parser)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    root = tmp_path_factory.mktemp("corpus") / "bucket"
    summary = generate_corpus(root, seed=7, n_articles=40)
    truth = json.loads((root / GROUND_TRUTH).read_text())
    return root, summary, truth


def metadata_docs(root: Path) -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_bytes()) for p in sorted((root / "metadata").glob("*.json"))}


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_tree(corpus, tmp_path: Path) -> None:
    root, _, _ = corpus
    generate_corpus(tmp_path / "again", seed=7, n_articles=40)
    assert tree(tmp_path / "again") == tree(root)


def test_worker_processes_do_not_change_bytes(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "one", seed=3, n_articles=45, figures_per_article=(1, 2), workers=1)
    generate_corpus(tmp_path / "two", seed=3, n_articles=45, figures_per_article=(1, 2), workers=2)
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_different_seed_differs(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "a", seed=1, n_articles=12, figures_per_article=(1, 2))
    generate_corpus(tmp_path / "b", seed=2, n_articles=12, figures_per_article=(1, 2))
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert set(a) != set(b)
    assert set(a.values()).isdisjoint(v for k, v in b.items() if k.startswith("PMC") and k.endswith(".xml"))


# --------------------------------------------------------------------------- layout


def test_metadata_urls_match_objects(corpus) -> None:
    root, _, _ = corpus
    docs = metadata_docs(root)
    assert docs
    for name, doc in docs.items():
        assert tuple(doc) == METADATA_FIELDS
        assert re.fullmatch(r"PMC\d{8}", doc["pmcid"]) and isinstance(doc["version"], int)
        prefix = f"{doc['pmcid']}.{doc['version']}/"
        assert name == f"{doc['pmcid']}.{doc['version']}.json"
        assert (root / prefix / name).read_bytes() == (root / "metadata" / name).read_bytes()
        urls = [doc["xml_url"], doc["text_url"], *doc["media_urls"]] + (
            [doc["pdf_url"]] if doc["pdf_url"] else []
        )
        for url in urls:
            assert url.startswith("s3://pmc-oa-opendata/" + prefix)
            ref = parse_object_url(url)
            assert hashlib.md5((root / ref.key).read_bytes()).hexdigest() == ref.md5, url
        assert parse_object_url(doc["xml_url"]).key == f"{prefix}{doc['pmcid']}.{doc['version']}.xml"
        # every file of the prefix is named by the metadata (the JSON itself excepted)
        named = {parse_object_url(u).key for u in urls} | {f"{prefix}{name}"}
        assert {str(p.relative_to(root)) for p in (root / prefix).iterdir()} == named


def test_inventory_lists_every_metadata_object_once(corpus) -> None:
    root, _, truth = corpus
    source = LocalSource(root)
    assert source.report() == truth["inventory_date"]
    listed = list(source.list_article_versions())
    keys = [v.metadata_key for v in listed]
    assert len(keys) == len(set(keys))
    assert set(keys) == {f"metadata/{p.name}" for p in (root / "metadata").iterdir()}
    for version in listed:
        assert version.etag == hashlib.md5((root / version.metadata_key).read_bytes()).hexdigest()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", version.last_modified)
    assert GROUND_TRUTH not in json.dumps([v.metadata_key for v in listed])


def test_inventory_manifest_and_parts(corpus) -> None:
    root, _, truth = corpus
    folder = root / INVENTORY_PREFIX
    assert {p.name for p in folder.iterdir()} == {"2026-11-19T01-00Z", "2026-11-20T01-00Z", "data", "hive"}
    manifest = json.loads((folder / truth["inventory_date"] / "manifest.json").read_bytes())
    assert manifest["destinationBucket"] == "arn:aws:s3:::pmc-oa-opendata"
    assert (manifest["version"], manifest["fileFormat"]) == ("2016-11-30", "CSV")
    assert manifest["fileSchema"] == "Bucket, Key, LastModifiedDate, ETag"
    assert len(manifest["files"]) == 3
    for entry in manifest["files"]:
        data = (root / entry["key"]).read_bytes()
        assert re.fullmatch(rf"{INVENTORY_PREFIX}data/[0-9a-f-]{{36}}\.csv\.gz", entry["key"])
        assert (entry["size"], entry["MD5checksum"]) == (len(data), hashlib.md5(data).hexdigest())
        for line in gzip.decompress(data).decode().splitlines():
            assert re.fullmatch(
                r'"pmc-oa-opendata","metadata/PMC\d+\.\d+\.json","[^"]+","[0-9a-f]{32}"', line
            )
    older = json.loads((folder / "2026-11-19T01-00Z" / "manifest.json").read_bytes())
    old_keys = {
        v.metadata_key for e in older["files"] for v in parse_inventory_part((root / e["key"]).read_bytes())
    }
    assert 0 < len(old_keys) < len(truth["articles"])


# --------------------------------------------------------------------------- ground truth


def test_ground_truth_matches_media_and_resolver(corpus) -> None:
    root, _, truth = corpus
    metas = {
        (d["pmcid"], d["version"]): parse_metadata(json.dumps(d).encode())
        for d in metadata_docs(root).values()
    }
    keys = [f["key"] for f in truth["figures"]]
    assert len(keys) == len(set(keys))
    owners: dict[str, set[tuple[str, int, str]]] = {}
    for f in truth["figures"]:  # the samples of a two-graphic figure share its one marker
        if f["caption_marker"]:
            owners.setdefault(f["caption_marker"], set()).add((f["pmcid"], f["version"], f["fig_id"]))
    assert all(len(figs) == 1 for figs in owners.values())
    for fig in truth["figures"]:
        media = metas[(fig["pmcid"], fig["version"])].media
        if not fig["graphic"]:
            assert fig["expected"] in ARTICLE_REASONS | {reasons.NO_GRAPHIC}
            continue
        found = resolve_graphic(fig["graphic"], media)
        if fig["media_key"]:
            assert (root / fig["media_key"]).is_file()
            assert found is not None and found.key == fig["media_key"], fig
        else:
            assert found is None and fig["expected"] in ARTICLE_REASONS | {reasons.GRAPHIC_NOT_FOUND}
            stem = fig["graphic"].rsplit(".", 1)[0]
            assert not list((root / f"{fig['pmcid']}.{fig['version']}").glob(f"{stem}.*"))


def test_special_cases_are_all_planted(corpus) -> None:
    _, _, truth = corpus
    figures = truth["figures"]
    tags = {tag for f in figures for tag in f["tags"]}
    assert set(FEATURES) <= tags
    assert {f"kind:{k}" for k in KINDS if k != "jpeg"} <= tags
    outcomes = {f["expected"] for f in figures}
    assert ARTICLE_REASONS | FIGURE_REASONS | {"kept"} <= outcomes
    assert {f["location"] for f in figures} == {"body", "back", "floats"}
    assert any(f["fig_id"].startswith("fig-auto-") for f in figures)
    assert any(f["key"].endswith("_g2") for f in figures)
    roles = [a["role"] for a in truth["articles"]]
    assert roles.count("versioned") == 2 and roles.count("malformed") == roles.count("xxe") == 1
    retracted = [a for a in truth["articles"] if a["expected"] == reasons.RETRACTED]
    assert {a["role"] for a in retracted} == {"retracted_flag", "retracted_title"}
    assert [a["license_code"] for a in truth["articles"] if a["role"] == "tdm"] == ["TDM"]
    licenses = {a["license_code"] for a in truth["articles"]}
    assert {"CC BY", "CC BY-NC", "CC BY-NC-ND", "CC BY-SA", "CC BY-NC-SA", "CC BY-ND", "CC0"} <= licenses
    assert "TDM" in licenses
    exact, near = truth["duplicates"]["exact"], truth["duplicates"]["near"]
    assert len(exact) >= 3 and max(len(g) for g in exact) == 3 and len(near) >= 2


def test_xml_is_well_formed_except_planted_and_captions_match(corpus) -> None:
    root, _, truth = corpus
    by_article: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for fig in truth["figures"]:
        by_article.setdefault((fig["pmcid"], fig["version"]), []).append(fig)
    for article in truth["articles"]:
        stem = f"{article['pmcid']}.{article['version']}"
        data = (root / stem / f"{stem}.xml").read_bytes()
        if article["role"] == "malformed":
            with pytest.raises(etree.XMLSyntaxError):
                safe_parse(data)
            continue
        doc = safe_parse(data)
        if article["role"] == "xxe":
            assert b"<!ENTITY xxe SYSTEM" in data
            continue
        assert re.search(rb'<!DOCTYPE article PUBLIC "[^"]+" "https://jats\.nlm\.nih\.gov/', data)
        check_captions(doc, by_article.get((article["pmcid"], article["version"]), []))


def check_captions(doc: etree._Element, figures: list[dict[str, Any]]) -> None:
    """Each figure's marker is in its own <fig>'s caption, found by id or auto index.

    A bilingual group's figure is the English ``<fig>`` of the ``<fig-group>`` carrying its
    id; the image is the group's, outside every fig.
    """
    figs = list(doc.iter("fig"))
    groups = {g.get("id"): g for g in doc.iter("fig-group")}
    for fig in figures:
        holder = None
        if fig["fig_id"].startswith("fig-auto-"):
            element = figs[int(fig["fig_id"].rsplit("-", 1)[1]) - 1]
            assert element.get("id") is None
        elif "bilingual_group" in fig["tags"]:
            holder = groups[fig["fig_id"]]
            (element,) = holder.findall(f"fig[@{XML_LANG}='en']")
            assert not [f for f in figs if f.get("id") == fig["fig_id"]]
            assert not list(element.iter("graphic"))
        else:
            (element,) = [f for f in figs if f.get("id") == fig["fig_id"]]
        caption = element.find("caption")
        if not fig["caption_marker"]:
            assert caption is None
            assert element.getprevious().tag == "fig"
            assert element.getprevious().find("caption") is not None
            continue
        assert fig["caption_marker"] in "".join(caption.itertext())
        hrefs = [g.get(XLINK) for g in (element if holder is None else holder).iter("graphic")]
        assert (fig["graphic"] in hrefs) if fig["graphic"] else not hrefs


def test_non_figure_graphics_and_caption_markup_present(corpus) -> None:
    root, _, _ = corpus
    text = b"".join(p.read_bytes() for p in root.glob("PMC*/*.xml"))
    for needle in (
        b"<inline-graphic", b"<table-wrap", b"<disp-formula", b"<floats-group>", b"<fig-group",
        b"<alternatives><graphic", b"<tex-math", b"<mml:math", b"<list list-type", b"<sub>4</sub> in males",
        b'<xref ref-type="fig" rid=', b'<xref ref-type="bibr"', b"<supplementary-material",
        b'position="anchor"',
    ):  # fmt: skip
        assert needle in text, needle


def test_image_sizes_match_ground_truth(corpus) -> None:
    root, _, truth = corpus
    for fig in truth["figures"]:
        if not fig["media_key"] or fig["width"] is None or fig["image_kind"] == "bomb_png":
            continue
        with Image.open(io.BytesIO((root / fig["media_key"]).read_bytes())) as img:
            size = (
                ImageOps.exif_transpose(img).size if KINDS[fig["image_kind"]].expected == "ok" else img.size
            )
        assert size == (fig["width"], fig["height"]), fig


def test_duplicate_groups_share_pixels(corpus) -> None:
    root, _, truth = corpus
    kept = {f["key"]: f for f in truth["figures"] if f["expected"] == "kept"}
    for group in truth["duplicates"]["exact"]:
        pixels = set()
        for key in group:
            with Image.open(root / kept[key]["media_key"]) as img:
                pixels.add(hashlib.sha256(img.convert("RGB").tobytes()).hexdigest())
        assert len(pixels) == 1, group
    for group in truth["duplicates"]["near"]:
        assert len({(root / kept[k]["media_key"]).read_bytes() for k in group}) == len(group)


def test_versions_differ_in_one_image(corpus) -> None:
    root, _, truth = corpus
    v1, v2 = sorted((a for a in truth["articles"] if a["role"] == "versioned"), key=lambda a: a["version"])
    media = [
        {parse_object_url(u).key.split("/", 1)[1]: parse_object_url(u).md5 for u in doc["media_urls"]}
        for doc in (json.loads((root / a["metadata_key"]).read_bytes()) for a in (v1, v2))
    ]
    assert media[0].keys() == media[1].keys()
    assert sum(media[0][name] != media[1][name] for name in media[0]) == 1


# --------------------------------------------------------------------------- scale, CLI, errors


def test_two_hundred_articles(tmp_path: Path) -> None:
    summary = generate_corpus(tmp_path / "big", seed=11, n_articles=200, figures_per_article=(1, 3))
    assert summary["article_versions"] == 201  # one PMCID has two versions
    truth = json.loads((tmp_path / "big" / GROUND_TRUTH).read_text())
    assert len({f["key"] for f in truth["figures"]}) == summary["figures"] > 400
    assert len(list(LocalSource(tmp_path / "big").list_article_versions())) == 201


def test_cli_writes_and_refuses_non_empty_output(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    assert main(["--output", str(out), "--seed", "5", "--articles", "3"]) == 0
    assert (out / GROUND_TRUTH).is_file()
    assert main(["--output", str(out), "--articles", "3"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["--output", str(tmp_path / "x"), "--articles", "0"])
    assert exc.value.code == 2


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="inventory date"):
        generate_corpus(tmp_path / "d", inventory_date="2026-11-20")
    with pytest.raises(ValueError, match="figures_per_article"):
        generate_corpus(tmp_path / "d", figures_per_article=(3, 1))
    with pytest.raises(ValueError, match="figure_scale"):
        generate_corpus(tmp_path / "d", figure_scale=0.1)
    assert main(["--output", str(tmp_path / "e"), "--articles", "2", "--figure-scale", "20"]) == 2


def test_a_translation_fig_takes_a_fig_auto_number() -> None:
    """The parser numbers every <fig>; a bilingual group writes its translation first."""
    english, plain = (
        FigurePlan("G1", "Figure 1", "<p>x</p>", "m1"),
        FigurePlan(None, "Figure 2", "<p>y</p>", "m2"),
    )
    group = GroupPlan("G1", "", "", figures=[english], translations=[Translation("pt", "<p>z</p>", "m3")])
    plan = ArticlePlan("PMC1", 1, "processed", "normal", 1, "", "", "", "generic", 2020, "CC BY")
    plan.sections = [("Results", [group, plain])]
    plan.number_figures()
    assert (english.auto_index, plain.key_id) == (2, "fig-auto-3")
    assert list(plan.translations()) == group.translations
