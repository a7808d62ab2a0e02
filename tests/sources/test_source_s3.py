"""The S3 source against moto's S3 server on 127.0.0.1: anonymous reads, credentials, errors."""

from __future__ import annotations

import json
import logging
import socket
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from support.faultserver import assert_same_shards, load_tree  # tests/ is on sys.path

from pipelines.cli.main import main
from pmc15m.shards.manifest import read_manifest
from pmc15m.sources.errors import ObjectMissing, SourceError
from pmc15m.sources.inventory import BUCKET
from pmc15m.sources.open import open_source
from pmc15m.sources.options import SourceOptions
from pmc15m.sources.s3 import S3Source


def public_read_policy(bucket: str) -> str:
    """The policy that lets unsigned requests read and list, as the real bucket allows."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


def admin_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def upload(endpoint: str, bucket: str, objects: dict[str, bytes], public: bool) -> None:
    client = admin_client(endpoint)
    client.create_bucket(Bucket=bucket)
    if public:
        client.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda kv: client.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]), objects.items()))


@pytest.fixture(scope="module")
def moto_endpoint(mini_corpus):
    """moto's S3 server holding the mini corpus: public ``pmc-oa-opendata``, private ``mirror``."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    objects = load_tree(mini_corpus)
    upload(endpoint, BUCKET, objects, public=True)
    inventory = {k: v for k, v in objects.items() if k.startswith("inventory-reports/")}
    upload(endpoint, "mirror", inventory, public=False)
    yield endpoint
    server.stop()


def test_anonymous_s3_build_is_byte_identical_to_the_local_build(moto_endpoint, demo_build, tmp_path):
    out = tmp_path / "s3-build"
    argv = ["build", "--source", f"s3://{BUCKET}", "--s3_endpoint_url", moto_endpoint, "--output", str(out)]
    assert main(argv) == 0
    assert_same_shards(demo_build, out)
    assert read_manifest(str(out))["counts"]["samples_kept"] > 0


def test_s3_source_lists_the_newest_report_and_reads_objects(moto_endpoint, mini_corpus):
    source = open_source(f"s3://{BUCKET}", None, SourceOptions(endpoint_url=moto_endpoint))
    assert isinstance(source, S3Source)
    local = open_source(str(mini_corpus))
    assert source.report() == local.report()
    assert source.inventory_parts() == local.inventory_parts()
    key = local.inventory_parts()[0]
    assert source.read(key) == local.read(key)
    with pytest.raises(ObjectMissing) as missing:
        source.read("PMC0.1/not-there.jpg")
    assert type(missing.value) is ObjectMissing  # permanent: not FetchFailed
    assert source.take_counts() == {"fetch_requests": 4, "fetch_ok": 3, "fetch_missing": 1}


def test_pinned_report_and_missing_report(moto_endpoint, mini_corpus):
    options = SourceOptions(endpoint_url=moto_endpoint)
    reports = sorted(p.name for p in (mini_corpus / "inventory-reports" / BUCKET / "metadata").iterdir())
    dated = [r for r in reports if r[0].isdigit()]
    assert len(dated) >= 2, "the corpus writes two dated reports"
    assert open_source(f"s3://{BUCKET}", dated[0], options).report() == dated[0]
    with pytest.raises(SourceError, match="no inventory report dated 2020-01-01T00-00Z; available"):
        open_source(f"s3://{BUCKET}", "2020-01-01T00-00Z", options).inventory_parts()
    with pytest.raises(SourceError, match="bad inventory date"):
        open_source(f"s3://{BUCKET}", "yesterday", options).inventory_parts()


def test_private_mirror_needs_credentials(moto_endpoint, monkeypatch):
    anonymous = open_source("s3://mirror", None, SourceOptions(endpoint_url=moto_endpoint))
    with pytest.raises(SourceError, match=r"HTTP 403"):
        anonymous.inventory_parts()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    signed = open_source("s3://mirror", None, SourceOptions(endpoint_url=moto_endpoint, anonymous=False))
    assert len(signed.inventory_parts()) == 3


def test_bucket_without_inventory_is_a_one_line_error(moto_endpoint, capsys, tmp_path):
    admin_client(moto_endpoint).create_bucket(Bucket="empty")
    admin_client(moto_endpoint).put_bucket_policy(Bucket="empty", Policy=public_read_policy("empty"))
    argv = ["build", "--source", "s3://empty", "--s3_endpoint_url", moto_endpoint, "--output", str(tmp_path)]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no inventory report found" in err and "Traceback" not in err


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("scheme", ["s3", "https"])
def test_unreachable_endpoint_is_a_one_line_error(scheme, capsys, tmp_path):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    source = (
        ["--source", f"s3://{BUCKET}", "--s3_endpoint_url", endpoint]
        if scheme == "s3"
        else [
            "--source",
            f"{endpoint}/{BUCKET}",
        ]
    )
    argv = [
        "build",
        *source,
        "--output",
        str(tmp_path / "o"),
        "--fetch_attempts",
        "2",
        "--fetch_backoff",
        "0",
    ]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("pmc15m: error: cannot reach ") and err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--source", "s3://bucket/some/prefix"], "named s3://<bucket>"),
        (["--source", "s3://b", "--s3_endpoint_url", "localhost:9000"], "must be an http(s):// URL"),
        (["--source", "s3://b", "--fetch_concurrency", "0"], "positive integer"),
        (["--source", "s3://b", "--fetch_backoff", "-1"], "must not be negative"),
        (["--source", "https://host?x=1"], "named https://<host>"),
    ],
)
def test_bad_source_arguments(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["build", *argv, "--output", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
