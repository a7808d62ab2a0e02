"""The HTTPS source: URL forms, safe listing, and a whole build against a local HTTP server."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support.faultserver import FaultServer, assert_same_shards, load_tree  # tests/ is on sys.path

from pipelines.cli.main import main
from pmc15m.shards.manifest import read_manifest
from pmc15m.sources.errors import ObjectMissing, SourceError
from pmc15m.sources.https import HttpsSource, parse_list_page
from pmc15m.sources.inventory import BUCKET, manifest_key
from pmc15m.sources.open import open_source
from pmc15m.sources.options import SourceOptions
from pmc15m.sources.remote import check_key, etag_md5

FAST = SourceOptions(backoff=0.0, attempts=2)


@pytest.fixture(scope="module")
def corpus_objects(mini_corpus) -> dict[str, bytes]:
    return load_tree(mini_corpus)


def _rows(out: Path) -> list[dict]:
    shards = sorted(p for p in out.glob("*/*.parquet") if p.parent.name != "index")  # shards and rejects
    return [row for path in shards for row in pq.read_table(path).to_pylist()]


def test_https_build_is_byte_identical_and_fetches_only_what_it_needs(
    corpus_objects, mini_corpus, demo_build, tmp_path
):
    out = tmp_path / "https-build"
    with FaultServer(corpus_objects, page_size=2) as server:  # virtual-host style: the bucket is the root
        assert main(["build", "--source", server.url, "--output", str(out)]) == 0
    assert_same_shards(demo_build, out)
    fetched = set(server.requests) - {"?list"}
    assert all(server.requests[k] == 1 for k in fetched), "each object is fetched once"
    counts = read_manifest(str(out))["counts"]
    local = open_source(str(mini_corpus))
    inventory = {k for k in fetched if k.startswith("inventory-reports/")}
    assert inventory == {manifest_key(local.report()), *local.inventory_parts()}  # the newest report only
    metadata = {k for k in fetched if k.startswith("metadata/")}
    xml = {k for k in fetched if k.endswith(".xml")}
    assert len(metadata) == counts["articles_newest_version"]  # not the superseded version
    assert len(xml) == counts["articles_passing_gate"]  # no JATS of a gated-out article
    # Exactly the images figures reference: no PDFs, plain text, supplements, other graphics.
    media = fetched - inventory - metadata - xml
    assert media == {row["source_key"] for row in _rows(out) if row["source_key"]}


@pytest.mark.parametrize(
    ("location", "base"),
    [
        ("https://pmc-oa-opendata.s3.amazonaws.com", "https://pmc-oa-opendata.s3.amazonaws.com"),
        ("https://pmc-oa-opendata.s3.amazonaws.com/", "https://pmc-oa-opendata.s3.amazonaws.com"),
        ("https://s3.amazonaws.com/pmc-oa-opendata/", "https://s3.amazonaws.com/pmc-oa-opendata"),
        ("http://127.0.0.1:9000/mirror/pmc", "http://127.0.0.1:9000/mirror/pmc"),
    ],
)
def test_url_forms(location, base):
    source = open_source(location)
    assert isinstance(source, HttpsSource) and source.base == base


@pytest.mark.parametrize(
    "location", ["https://", "https://host/?list-type=2", "https://host/#x", "ftp://host"]
)
def test_bad_urls(location):
    with pytest.raises(SourceError):
        HttpsSource(location)


def test_path_style_listing_pages_and_pinned_report_without_listing(corpus_objects):
    with FaultServer(corpus_objects, BUCKET, page_size=1) as server:
        source = open_source(server.url, None, FAST)
        parts = source.inventory_parts()
        report = source.report()
        assert server.requests["?list"] > 3, "one page per report folder"
    with FaultServer(corpus_objects, BUCKET, can_list=False) as server:  # a plain file mirror
        pinned = open_source(server.url, report, FAST)
        assert pinned.inventory_parts() == parts
        assert server.requests["?list"] == 0
        with pytest.raises(SourceError, match=r"cannot list .*needs --inventory_date"):
            open_source(server.url, None, FAST).inventory_parts()


def test_bodies_are_read_undecoded(corpus_objects):
    payload = gzip.compress(b"not to be inflated by the client")
    objects = {**corpus_objects, "PMC1.1/blob.gz": payload}
    with FaultServer(objects) as server:
        assert open_source(server.url, None, FAST).read("PMC1.1/blob.gz") == payload


def test_listing_parser_refuses_entities_and_doctypes():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<ListBucketResult><CommonPrefixes><Prefix>&x;</Prefix></CommonPrefixes></ListBucketResult>"
    )
    with pytest.raises(ObjectMissing, match="DOCTYPE"):
        parse_list_page(xxe)
    with pytest.raises(ObjectMissing, match="malformed"):
        parse_list_page(b"<html><body>an index page")
    with pytest.raises(ObjectMissing, match="root element"):
        parse_list_page(b"<Error><Code>AccessDenied</Code></Error>")
    page = parse_list_page(
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>true</IsTruncated>'
        b"<CommonPrefixes><Prefix>a/x/</Prefix></CommonPrefixes><NextContinuationToken>t1"
        b"</NextContinuationToken></ListBucketResult>"
    )
    assert page.prefixes == ("a/x/",) and page.truncated and page.next_token == "t1"


@pytest.mark.parametrize("key", ["../other/x", "a/../../b", "/abs", "a/./b", "", "a\\..\\b"])
def test_keys_that_could_leave_the_bucket_are_refused(key):
    with pytest.raises(ObjectMissing, match="escapes"):
        check_key(key)


def test_etag_counts_as_md5_only_when_it_is_one():
    md5 = "9e107d9d372bb6826bd81d3542a419d6"
    assert etag_md5({"ETag": f'"{md5}"'}) == md5
    assert etag_md5({"etag": f'"{md5}-3"'}) == ""  # multipart upload
    assert etag_md5({"ETag": f'"{md5}"', "x-amz-server-side-encryption": "aws:kms"}) == ""
    assert etag_md5({"ETag": f'"{md5}"', "x-amz-server-side-encryption": "AES256"}) == md5
    assert etag_md5({}) == ""


def test_report_without_manifest_is_a_clear_error(corpus_objects):
    objects = {k: v for k, v in corpus_objects.items() if not k.endswith("manifest.json")}
    with FaultServer(objects) as server, pytest.raises(SourceError, match=r"has no manifest.json .*404"):
        open_source(server.url, None, FAST).inventory_parts()
