"""The legacy oa_package mirror: listing, synthesised metadata, hostile tarballs, and a build
that keeps the same figures as the bucket build of the same corpus."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
import webdataset as wds
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from support.legacy_mirror import HEADER, Mirror, write_legacy_mirror  # tests/ is on sys.path

from pipelines.cli.main import main
from pipelines.local_runner import LocalRunner
from pipelines.stages import ProcessArticles
from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig
from pmc15m.shards.manifest import read_manifest
from pmc15m.sources import legacy
from pmc15m.sources.errors import ObjectMissing
from pmc15m.sources.legacy import UNKNOWN_VERSION, LegacySource, LegacyVersion
from pmc15m.sources.metadata import parse_metadata
from pmc15m.sources.open import open_source
from pmc15m.sources.package import member_problem, read_package
from pmc15m.stages import read_metadata


def _hostile_candidate(ground_truth: dict) -> str:
    """The first normal article with two or more kept JPEG figures."""
    kept: dict[str, int] = {}
    for fig in ground_truth["figures"]:
        if fig["expected"] == "kept" and fig["media_key"].endswith(".jpg"):
            kept[fig["pmcid"]] = kept.get(fig["pmcid"], 0) + 1
    normal = [a["pmcid"] for a in ground_truth["articles"] if a["role"] == "normal"]
    return next(p for p in sorted(normal) if kept.get(p, 0) >= 2)


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")}


@pytest.fixture(scope="module")
def mirror(mini_corpus, ground_truth, tmp_path_factory) -> Mirror:
    root = tmp_path_factory.mktemp("legacy") / "mirror"
    return write_legacy_mirror(mini_corpus, root, _hostile_candidate(ground_truth))


def _rows(out: Path, rejects: bool = False) -> dict[tuple[str, str], dict]:
    """Rows by (pmcid, figure part of the key): the version part differs by design."""
    pattern = "rejects/*.parquet" if rejects else "[tv]*/*.parquet"
    rows = {}
    for path in out.glob(pattern):
        for row in pq.read_table(path).to_pylist():
            rows[(row["pmcid"], row["key"].split("_", 2)[2])] = row
    return rows


def _images(out: Path) -> dict[str, bytes]:
    images = {}
    for tar in out.glob("[tv]*/*.tar"):
        for sample in wds.WebDataset(str(tar), shardshuffle=False, empty_check=False):
            images[sample["__key__"]] = sample["jpg"]
    return images


# --- tar members -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "problem"),
    [
        ("PMC1/fig1.jpg", tarfile.REGTYPE, None),
        ("./PMC1/fig1.jpg", tarfile.REGTYPE, None),
        ("PMC1", tarfile.DIRTYPE, None),
        ("PMC1/fig1.jpg", tarfile.SYMTYPE, "link"),
        ("PMC1/fig1.jpg", tarfile.LNKTYPE, "link"),
        ("PMC1/null", tarfile.CHRTYPE, "device"),
        ("PMC1/sda", tarfile.BLKTYPE, "device"),
        ("PMC1/pipe", tarfile.FIFOTYPE, "device"),
        ("/etc/cron.d/x", tarfile.REGTYPE, "absolute"),
        ("\\\\host\\share\\x.jpg", tarfile.REGTYPE, "absolute"),
        ("C:/x.jpg", tarfile.REGTYPE, "absolute"),
        ("../x.jpg", tarfile.REGTYPE, "parent"),
        ("PMC1/../../x.jpg", tarfile.REGTYPE, "parent"),
        ("PMC1\\..\\..\\x.jpg", tarfile.REGTYPE, "parent"),
        ("", tarfile.REGTYPE, "absolute"),
    ],
)
def test_member_problem(name, kind, problem):
    info = tarfile.TarInfo(name)
    info.type = kind
    assert member_problem(info) == problem


def test_hostile_package_members_are_ignored_and_counted(mirror):
    data = (mirror.root / mirror.packages[mirror.hostile_pmcid]).read_bytes()
    package = read_package(io.BytesIO(data))
    assert dict(package.ignored) == dict(mirror.planted)
    assert sorted(package.sizes) == sorted(mirror.real_members)
    # the real files are the ones read, not the decoys planted before them under their names
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        decoy = tar.extractfile(f"/{mirror.hostile_pmcid}/{mirror.decoy_targets[1]}").read()
        for name in mirror.decoy_targets:
            real = tar.getmember(f"{mirror.hostile_pmcid}/{name}")  # the last of that name: the file
            assert real.isreg() and package.members[real.name] == tar.extractfile(real).read() != decoy
    assert package.jats_member() == f"{mirror.hostile_pmcid}/{mirror.hostile_pmcid}.nxml"


def test_a_corrupt_or_missing_package_is_a_missing_object(mirror, tmp_path):
    source = LegacySource(mirror.root)
    version = next(source.list_part(source.inventory_parts()[0]))
    broken = LegacyVersion(**{**_fields(version), "package": "oa_package/00/00/PMC1.tar.gz"})
    result = read_metadata(source, broken, BuildConfig())
    assert result.reject_reason == reasons.MISSING_OBJECT and result.key.endswith("_0_article")
    (tmp_path / "oa_file_list.csv").write_bytes((mirror.root / "oa_file_list.csv").read_bytes())
    package = tmp_path / version.package
    package.parent.mkdir(parents=True)
    package.write_bytes(b"\x1f\x8b\x08\x00not really gzip")
    with pytest.raises(ObjectMissing, match="unreadable package"):
        LegacySource(tmp_path).article_meta(version)


def _fields(version: LegacyVersion) -> dict:
    return {name: getattr(version, name) for name in version.__dataclass_fields__}


# --- listing and metadata ----------------------------------------------------------------


def test_listing_parts_split_the_file_list_exactly_once(mirror, monkeypatch):
    source = open_source(str(mirror.root))
    assert isinstance(source, LegacySource)
    whole = list(source.list_article_versions())
    assert sorted(v.pmcid for v in whole) == sorted(mirror.packages)
    assert {v.version for v in whole} == {UNKNOWN_VERSION}
    monkeypatch.setattr(legacy, "PART_BYTES", 97)  # parts end mid-row, at every offset
    parts = source.inventory_parts()
    assert len(parts) > 20
    assert list(source.list_article_versions()) == whole


def test_rows_that_name_no_package_are_skipped(tmp_path):
    rows = [
        "oa_package/00/01/PMC1.tar.gz,J. 2001,PMC1,2019-11-05 12:49:13,11,CC BY",
        "../../etc/PMC2.tar.gz,J,PMC2,2019-11-05 12:49:13,12,CC BY",
        "/abs/PMC3.tar.gz,J,PMC3,,13,CC BY",
        "oa_package/00/01/PMC4.zip,J,PMC4,,14,CC BY",
        "oa_package/00/01/PMC5.tar.gz,J,not-an-id,,15,CC BY",
        'oa_package/00/01/PMC6.tar.gz,"J, quoted",PMC6.3,,PMID:16,NO-CC CODE',
    ]
    (tmp_path / "oa_file_list.csv").write_text(",".join(HEADER) + "\n" + "\n".join(rows) + "\n")
    versions = list(LegacySource(tmp_path).list_article_versions())
    assert [(v.pmcid, v.version) for v in versions] == [("PMC1", 0), ("PMC6", 3)]
    first, sixth = versions
    assert first.last_modified == "2019-11-05T12:49:13Z" and first.pmid == "11"
    assert sixth.citation == "J, quoted" and sixth.pmid == "16" and sixth.license_code == "NO-CC CODE"
    assert first.etag != sixth.etag and len(first.etag) == 32


def test_metadata_is_synthesised_from_the_row_and_the_package(mirror, mini_corpus):
    source = LegacySource(mirror.root)
    by_pmcid = {v.pmcid: v for v in source.list_article_versions()}
    version = by_pmcid[mirror.hostile_pmcid]
    meta = source.article_meta(version)
    bucket = parse_metadata((mini_corpus / f"metadata/{mirror.hostile_pmcid}.1.json").read_bytes())
    assert (meta.pmcid, meta.version, meta.is_pmc_openaccess) == (bucket.pmcid, UNKNOWN_VERSION, True)
    assert (meta.title, meta.pmid, meta.license_code, meta.citation) == (
        "",  # no title in the file list: the build gates on the JATS title once parsed
        bucket.pmid,
        bucket.license_code,
        bucket.citation,
    )
    package = mirror.packages[mirror.hostile_pmcid]
    assert meta.xml_key == f"{package}/{mirror.hostile_pmcid}/{mirror.hostile_pmcid}.nxml"
    assert {m.filename for m in meta.media} >= {m.filename for m in bucket.media}
    assert all(m.key.startswith(package + "/") and m.md5 == "" for m in meta.media)
    assert source.read(meta.xml_key) == (mini_corpus / bucket.xml_key).read_bytes()
    counts = source.take_counts()
    assert counts == {f"tar_members_ignored_{kind}": n for kind, n in mirror.planted.items()}
    assert source.take_counts() == {}
    supplement = next(m for m in meta.media if m.filename.endswith(".pdf"))  # not held: re-streamed
    assert source.read(supplement.key).startswith(b"%PDF")
    with pytest.raises(ObjectMissing):
        source.read(f"{package}/../../{mirror.hostile_pmcid}.tar.gz")


def test_ignored_members_reach_beam_counters(mirror, tmp_path):
    package = mirror.packages[mirror.hostile_pmcid]
    row = next(r for r in (mirror.root / "oa_file_list.csv").read_text().splitlines() if package in r)
    (tmp_path / "oa_file_list.csv").write_text(",".join(HEADER) + "\n" + row + "\n")
    (tmp_path / package).parent.mkdir(parents=True)
    (tmp_path / package).write_bytes((mirror.root / package).read_bytes())
    source = LegacySource(tmp_path)
    pipeline = beam.Pipeline(runner=LocalRunner(), options=PipelineOptions())
    _ = pipeline | beam.Create(source.inventory_parts()) | ProcessArticles(str(tmp_path), None, BuildConfig())
    result = pipeline.run()
    result.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("pmc15m"))["counters"]
        if c.key.metric.name.startswith("tar_members_ignored_")
    }
    assert counters == {f"tar_members_ignored_{kind}": n for kind, n in mirror.planted.items()}


# --- the build -----------------------------------------------------------------------------
# One test builds the mirror (a module fixture would be built once per xdist worker).


def test_legacy_build_matches_the_bucket_build(mirror, demo_build, ground_truth, tmp_path):
    """Same captions, images and reject reasons; keys differ only in the (unknown, 0) version.

    The intended differences: articles the legacy list never held (not open access,
    superseded versions) are absent rather than rejected, and the layout has no
    ``is_retracted`` flag, so an article retracted only by that flag is kept from a mirror.
    """
    flag_only = {a["pmcid"] for a in ground_truth["articles"] if a["role"] == "retracted_flag"}
    assert flag_only, "the corpus must plant a flag-only retraction"
    before = _tree(mirror.root)
    out = tmp_path / "out"
    assert main(["build", "--source", str(mirror.root), "--output", str(out)]) == 0
    assert _tree(mirror.root) == before, "the build changed the mirror"
    _assert_nothing_extracted(mirror, tmp_path)
    _assert_same_figures(out, demo_build, flag_only, mirror.hostile_pmcid)
    _assert_same_rejects(out, demo_build, flag_only, {key.split(".")[0] for key in mirror.omitted})
    manifest = read_manifest(str(out))
    assert manifest["source"]["layout"] == "legacy-oa-package"
    assert manifest["counts"]["articles_listed"] == len(mirror.packages)


def _assert_same_figures(out: Path, bucket_out: Path, flag_only: set[str], hostile: str) -> None:
    bucket, legacy_rows = _rows(bucket_out), _rows(out)
    extra = set(legacy_rows) - set(bucket)
    assert set(bucket) <= set(legacy_rows) and extra and {p for p, _ in extra} == flag_only
    bucket_images, legacy_images = _images(bucket_out), _images(out)
    for ident, row in bucket.items():
        twin = legacy_rows[ident]
        assert twin["key"] == row["key"].replace(f"_{row['version']}_", f"_{UNKNOWN_VERSION}_", 1)
        for column in ("caption", "label", "subcaptions", "src_sha256", "phash", "split", "license_code"):
            assert twin[column] == row[column], (ident, column)
        assert legacy_images[twin["key"]] == bucket_images[row["key"]]
        assert twin["source_md5"] == "" and twin["source_key"].startswith("oa_package/")
    assert len([i for i in bucket if i[0] == hostile]) >= 2  # the hostile package's figures


def _assert_same_rejects(out: Path, bucket_out: Path, flag_only: set[str], unlisted: set[str]) -> None:
    bucket = {
        i: r["reject_reason"]
        for i, r in _rows(bucket_out, rejects=True).items()
        if i[0] not in flag_only and not (i[1] == "article" and i[0] in unlisted)
    }
    assert {i: r["reject_reason"] for i, r in _rows(out, rejects=True).items()} == bucket


def _assert_nothing_extracted(mirror: Mirror, tmp_path: Path) -> None:
    planted = {"escape.jpg", "evil.nxml", "null.jpg", "disk.jpg", "pipe.jpg", "hard.jpg"}
    found = [p for p in tmp_path.rglob("*") if p.name in planted]
    near = [Path.cwd(), Path.cwd().parent, mirror.root.parent, mirror.root.parent.parent]
    found += [folder / name for folder in near for name in planted if (folder / name).exists()]
    assert found == []
    assert not os.path.exists(f"/{mirror.hostile_pmcid}")
