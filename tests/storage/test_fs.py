"""The file-system layer: local, s3:// on moto's server, fsspec's memory://, a missing backend.

The s3:// tests run against moto's real HTTP server on 127.0.0.1 (boto3 talks HTTP to it as it
would to AWS), and end with a full build written to s3://bucket/out whose every object must
equal the local build of the same corpus byte for byte.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
from conftest import SMALL_BUILD_ARGS

from pipelines.cli.main import main
from pmc15m.storage import fs

BUCKET = "bucket"


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on a free loopback port, with dummy credentials and one bucket."""
    from moto.server import ThreadedMotoServer

    saved = {
        k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    fs.configure(fs.FsOptions(s3_endpoint_url=url))
    fs.s3_client().create_bucket(Bucket=BUCKET)
    yield url
    fs.configure(None)
    server.stop()
    for key, value in saved.items():
        os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


@pytest.fixture
def s3(s3_endpoint):
    fs.configure(fs.FsOptions(s3_endpoint_url=s3_endpoint))
    yield s3_endpoint
    fs.configure(None)


@pytest.fixture(params=["local", "memory", "s3"])
def root(request, tmp_path) -> str:
    """A fresh empty location on each backend."""
    if request.param == "local":
        return str(tmp_path / "root")
    name = request.node.name.replace("[", "-").replace("]", "")  # fsspec's rm globs brackets
    if request.param == "memory":
        return f"memory://pmc15m-test/{name}"
    request.getfixturevalue("s3")
    return f"s3://{BUCKET}/{name}"


def test_write_read_list_remove_on_every_backend(root):
    fs.makedirs(fs.join(root, "train"))
    fs.write_bytes(fs.join(root, "train", "00000.tar"), b"tar bytes")
    fs.write_bytes(fs.join(root, "train", "sizes.json"), b"{}")
    fs.write_bytes(fs.join(root, "manifest.json"), b'{"a": 1}')
    assert fs.read_bytes(fs.join(root, "train", "00000.tar")) == b"tar bytes"
    assert fs.size(fs.join(root, "manifest.json")) == 8
    assert fs.exists(fs.join(root, "train")) and fs.isdir(fs.join(root, "train"))
    assert not fs.exists(fs.join(root, "nope")) and not fs.isdir(fs.join(root, "manifest.json"))
    assert fs.listdir(root) == ["manifest.json", "train"]
    assert fs.walk(root) == ["manifest.json", "train/00000.tar", "train/sizes.json"]
    with fs.open_read(fs.join(root, "train", "00000.tar")) as handle:
        handle.seek(4)
        assert handle.read() == b"bytes"
    fs.remove(fs.join(root, "manifest.json"))
    assert fs.listdir(root) == ["train"]
    fs.rmtree(fs.join(root, "train"))
    assert fs.walk(root) == [] and not fs.exists(fs.join(root, "train"))


def test_staged_file_is_invisible_until_committed(root):
    final = fs.join(root, "shard.tar")
    fs.makedirs(root)
    temp = fs.stage(final, lambda handle: handle.write(b"complete"))
    assert not fs.exists(final)
    assert "shard.tar" not in fs.listdir(root)
    fs.commit(temp, final)
    fs.discard(temp)
    assert fs.read_bytes(final) == b"complete"
    assert [n for n in fs.listdir(root) if fs.TEMP_MARKER in n] == []


def test_failed_write_leaves_no_object(root):
    final = fs.join(root, "broken.parquet")
    fs.makedirs(root)

    def boom(handle):
        handle.write(b"half")
        raise RuntimeError("writer died")

    with pytest.raises(RuntimeError):
        fs.stage(final, boom)
    assert not fs.exists(final)


def test_scheme_and_join():
    assert fs.scheme("/tmp/x") == "" and fs.scheme("file:///tmp/x") == "" and fs.scheme("s3://b/k") == "s3"
    assert fs.join("s3://b/out", "train", "a.tar") == "s3://b/out/train/a.tar"
    assert fs.local_path("file:///tmp/x") == "/tmp/x"


def test_missing_backend_is_a_clear_error(capsys, small_corpus, monkeypatch):
    monkeypatch.setitem(sys.modules, "gcsfs", None)  # not installed, whatever this machine has
    with pytest.raises(fs.FsError, match="gs:// needs its fsspec backend"):
        fs.exists("gs://bucket/out")
    with pytest.raises(SystemExit) as exc:
        main(["build", "--source", str(small_corpus), "--output", "gs://bucket/out"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "gcsfs" in err and "Traceback" not in err


def test_unreachable_bucket_is_a_clear_error(capsys, s3, small_corpus):
    with pytest.raises(SystemExit) as exc:
        main(["build", "--source", str(small_corpus), "--output", "s3://no-such-bucket/out"])
    assert exc.value.code == 2
    assert "no-such-bucket" in capsys.readouterr().err


def _tree(root: str) -> dict[str, bytes]:
    return {name: fs.read_bytes(fs.join(root, name)) for name in fs.walk(root)}


def test_build_to_s3_equals_local_build(s3, small_corpus, small_build, caplog, capsys, monkeypatch):
    monkeypatch.setenv("PMC15M_PROGRESS_SECONDS", "0")
    out = f"s3://{BUCKET}/out"
    argv = ["build", "--source", str(small_corpus), "--output", out, "--output_s3_endpoint_url", s3]
    fs.configure(None)  # the option alone must carry the endpoint into the pipeline
    logging.getLogger("pmc15m.storage.progress").setLevel(logging.NOTSET)  # only the CLI may turn it on
    assert main([*argv, *SMALL_BUILD_ARGS]) == 0
    progress_lines = [r.getMessage() for r in caplog.records if r.name == "pmc15m.storage.progress"]
    assert any("images" in line for line in progress_lines), "progress is not shown by default"
    remote, local = _tree(out), _tree(str(small_build))
    assert sorted(remote) == sorted(local)
    assert len([n for n in local if n.endswith(".tar")]) >= 6
    differing = [n for n in local if remote[n] != local[n] and n != "manifest.json"]
    assert differing == []
    assert "report/report.html" in remote
    assert main(["inspect", out, "--output_s3_endpoint_url", s3]) == 0
    assert "OK: every tar" in capsys.readouterr().out


def test_overwrite_on_s3_replaces_only_build_parts(s3, small_corpus, capsys):
    out = f"s3://{BUCKET}/again"
    fs.write_bytes(fs.join(out, "manifest.json"), b"{}")
    fs.write_bytes(fs.join(out, "train", "00099.tar"), b"stale")
    fs.write_bytes(fs.join(out, "notes.txt"), b"keep me")
    from pipelines.cli.build import prepare_output
    from pmc15m.core.errors import UserError

    with pytest.raises(UserError, match="--overwrite"):
        prepare_output(out, overwrite=False)
    prepare_output(out, overwrite=True)
    assert fs.walk(out) == ["notes.txt"]


def test_local_paths_still_work_as_before(tmp_path: Path):
    target = tmp_path / "deep" / "dir"
    fs.makedirs(str(target))
    fs.write_bytes(str(target / "x.json"), b"1")
    assert (target / "x.json").read_bytes() == b"1"
    assert [p.name for p in target.iterdir()] == ["x.json"]
