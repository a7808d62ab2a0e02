"""Publishing: the dataset card, the license gate, the dry run, and the upload itself.

The upload runs against ``FakeHub``, a real HTTP server on 127.0.0.1 that implements the part
of the Hub API huggingface_hub's folder upload uses (create repo, validate YAML, preupload,
the LFS batch API, LFS PUT and verify, commit) and records every request. The Xet transfer
protocol (used when hf_xet is installed) needs a content-addressed store that cannot be faked
here, so these tests switch it off and exercise the LFS path; the calls before and after the
transfer (create, validate, preupload, commit) are the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.cli.main import main
from pmc15m.publish.card import license_counts, render_card, validate_card
from pmc15m.rules.splits import SPLITS
from pmc15m.shards.manifest import read_manifest

TOKEN = "hf_pmc15mTestSecretToken0123456789"
LFS_SUFFIXES = (".tar", ".parquet", ".png")


class FakeHub(ThreadingHTTPServer):
    """Just enough of the Hub for ``HfApi.create_repo`` + ``upload_folder`` over LFS."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.repos: dict[str, dict] = {}
        self.lfs: dict[str, bytes] = {}
        self.commits: list[dict] = []
        self.files: dict[str, bytes] = {}  # the repo tree after the commits
        self.validated: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HubHandler(BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _reply(self, status: int, body: dict | None = None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_PUT(self) -> None:
        self.server.requests.append(("PUT", self.path, dict(self.headers)))
        data = self._body()
        oid = self.path.rsplit("/", 1)[-1]
        if hashlib.sha256(data).hexdigest() != oid:
            return self._reply(400, {"error": "sha256 mismatch"})
        self.server.lfs[oid] = data
        return self._reply(200)

    def do_POST(self) -> None:
        self.server.requests.append(("POST", self.path, dict(self.headers)))
        body, path = self._body(), self.path.split("?", 1)[0]
        if path == "/api/repos/create":
            request = json.loads(body)
            name = f"{request.get('organization')}/{request['name']}"
            self.server.repos[name] = request
            return self._reply(200, {"url": f"{self.server.url}/datasets/{name}"})
        if path == "/api/validate-yaml":
            self.server.validated.append(json.loads(body)["content"])
            return self._reply(200, {})
        if path.endswith("/preupload/main"):
            files = json.loads(body)["files"]
            modes = [
                {"path": f["path"], "uploadMode": "lfs" if f["path"].endswith(LFS_SUFFIXES) else "regular"}
                for f in files
            ]
            return self._reply(200, {"files": [{**m, "shouldIgnore": False} for m in modes]})
        if path.endswith(".git/info/lfs/objects/batch"):
            return self._reply(200, {"objects": [self._lfs_action(o) for o in json.loads(body)["objects"]]})
        if path == "/lfs-verify":
            return self._reply(200 if json.loads(body)["oid"] in self.server.lfs else 404)
        if path.endswith("/commit/main"):
            return self._commit(body, path.removeprefix("/api/").removesuffix("/commit/main"))
        return self._reply(404, {"error": f"not faked: {path}"})

    def _lfs_action(self, obj: dict) -> dict:
        if obj["oid"] in self.server.lfs:  # already uploaded: nothing to do (how resuming works)
            return {"oid": obj["oid"], "size": obj["size"]}
        actions = {"upload": {"href": f"{self.server.url}/lfs-upload/{obj['oid']}"}}
        actions["verify"] = {"href": f"{self.server.url}/lfs-verify"}
        return {"oid": obj["oid"], "size": obj["size"], "actions": actions}

    def _commit(self, body: bytes, repo: str) -> None:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        for line in lines:
            value = line["value"]
            if line["key"] == "file":
                self.server.files[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "lfsFile":
                if value["oid"] not in self.server.lfs:
                    return self._reply(400, {"error": f"missing LFS object for {value['path']}"})
                self.server.files[value["path"]] = self.server.lfs[value["oid"]]
        self.server.commits.append({"lines": lines})
        oid = hashlib.sha1(body).hexdigest()
        return self._reply(200, {"commitUrl": f"{self.server.url}/{repo}/commit/{oid}", "commitOid": oid})


@pytest.fixture
def hub(monkeypatch):
    server = FakeHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_XET", True)  # see module docstring
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def out(small_build, tmp_path) -> Path:
    """A private copy (publish writes README.md into the folder)."""
    return Path(shutil.copytree(small_build, tmp_path / "out"))


def _publish(capsys, out: Path, *args: str) -> tuple[int, str, str]:
    code = main(["publish", str(out), "--repo-id", "pmc15m-org/figures", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_card_metadata_points_at_the_tars_and_lists_licenses(small_build):
    from huggingface_hub import DatasetCard

    manifest = read_manifest(str(small_build))
    licenses = dict(license_counts(str(small_build)))
    text = render_card(manifest, licenses, "pmc15m-org/figures")
    meta = DatasetCard(text).data.to_dict()
    assert meta["license"] == "other" and meta["license_name"]
    assert meta["pmc15m"]["licenses"] == dict(sorted(licenses.items()))
    splits = [s for s in SPLITS if manifest["splits"][s]["shards"]]
    assert meta["configs"][0]["data_files"] == [{"split": s, "path": f"{s}/*.tar"} for s in splits]
    info = meta["dataset_info"]  # the features load_dataset uses instead of guessing them
    assert info["config_name"] == meta["configs"][0]["config_name"]
    assert [f["name"] for f in info["features"]] == ["jpg", "json", "txt", "__key__", "__url__"]
    assert "zero-shot-image-classification" in meta["task_categories"]
    assert meta["size_categories"] == ["n<1K"]
    for phrase in ("National Library of Medicine", "registry.opendata.aws/ncbi-pmc", "not endorsed by NLM"):
        assert phrase in text
    assert manifest["build_id"] in text and "2303.00915" in text
    assert str(small_build) not in text  # the local source path stays out of a public card
    for code in licenses:
        assert f"| {code} | {licenses[code]:,} |" in text


def test_card_validation_catches_what_would_break_loading(small_build):
    manifest = read_manifest(str(small_build))
    files = ["train/00000.tar", "train/00000.parquet", "test/00000.tar"]
    text = render_card({**manifest, "splits": {"train": {"samples": 1, "shards": 1}}}, {"CC BY": 1})
    assert validate_card(text, files) == ["splits ['test'] have tars the card does not load"]
    assert validate_card(text.replace("train/*.tar", "train/*.parquet"), files)
    assert "does not parse" in validate_card("---\nlicense: [\n---\n", files)[0]


def test_an_updated_output_publishes_its_tombstones_and_says_so(small_build, tmp_path):
    from pmc15m.publish.hub import upload_files
    from pmc15m.shards.index import write_tombstones

    manifest = read_manifest(str(small_build))
    assert "tombstoned" not in render_card(manifest, {"CC BY": 1})  # a plain build has none
    updated = tmp_path / "updated"
    shutil.copytree(small_build, updated)
    write_tombstones(str(updated), "u1", [{"key": "k", "shard": "train/00000", "reason": "removed"}])
    assert "tombstones/u1.parquet" in {name for name, _ in upload_files(str(updated))}
    dataset = {"samples": 9, "tombstoned": 1}
    text = render_card({**manifest, "dataset": dataset}, {"CC BY": 1})
    assert "**Retired samples: 1.**" in text and "tombstones/*.parquet" in text


def test_the_card_loads_only_non_empty_tars_of_a_split_an_update_emptied_a_shard_of(small_build):
    """``datasets`` infers the features from a split's first tar and fails on an empty one."""
    from pmc15m.publish.card import card_metadata

    splits = {"train": {"samples": 3, "shards": 2}, "test": {"samples": 2, "shards": 1}}
    manifest = {**read_manifest(str(small_build)), "splits": splits}  # whatever the corpus drew
    sizes = {"train": {"00000.tar": 0, "00001.tar": 3}, "test": {"00000.tar": 2}}
    files = card_metadata(manifest, {"CC BY": 5}, "x", sizes)["configs"][0]["data_files"]
    by_split = {entry["split"]: entry["path"] for entry in files}
    assert by_split["train"] == ["train/00001.tar"] and by_split["test"] == "test/*.tar"


def test_dry_run_validates_and_lists_without_any_request(out, hub, capsys):
    code, text, _ = _publish(capsys, out, "--dry-run")
    assert code == 0, text
    assert hub.requests == []
    listed = {line.split()[0] for line in text.splitlines() if line.startswith("  ")}
    assert {"README.md", "manifest.json", "report/report.html", "train/sizes.json"} <= listed
    assert {p.relative_to(out).as_posix() for p in out.glob("*/[0-9]*.tar")} <= listed
    assert not any(name.startswith("rejects/") for name in listed)
    assert (out / "README.md").read_text().startswith("---\n")


def _relabel(out: Path, code: str, how_many: int = 1) -> None:
    path = out / "train" / "00000.parquet"
    table = pq.read_table(path)
    licenses = table.column("license_code").to_pylist()
    licenses[:how_many] = [code] * how_many
    table = table.set_column(table.schema.get_field_index("license_code"), "license_code", pa.array(licenses))
    pq.write_table(table, path)


def test_tdm_samples_are_refused(out, hub, capsys):
    _relabel(out, "TDM", 2)
    card = (out / "README.md").read_bytes()  # the build's own
    with pytest.raises(SystemExit) as exc:
        _publish(capsys, out, "--dry-run")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "TDM (2 samples)" in err and "Traceback" not in err
    assert (out / "README.md").read_bytes() == card and hub.requests == []  # no card for a hub


def test_user_excluded_licenses_are_refused(out, hub, capsys):
    noncommercial = Counter(c for c in license_counts(str(out)).elements() if "NC" in c)
    assert noncommercial, "the small corpus must hold non-commercial samples"
    with pytest.raises(SystemExit) as exc:
        _publish(capsys, out, "--dry-run", "--licenses", "commercial")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert all(code in err for code in noncommercial)


def test_missing_token_is_a_clear_error(out, hub, capsys, monkeypatch):
    import huggingface_hub

    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(SystemExit) as exc:
        _publish(capsys, out)
    assert exc.value.code == 2
    assert "no Hugging Face token" in capsys.readouterr().err
    assert hub.requests == []


def test_upload_to_a_local_hub(out, hub, capsys, caplog, tmp_path):
    with caplog.at_level(logging.DEBUG):
        code, text, err = _publish(capsys, out, "--private")
    assert code == 0, err
    assert hub.repos["pmc15m-org/figures"]["type"] == "dataset"
    created = hub.repos["pmc15m-org/figures"]
    assert created.get("visibility") == "private" or created.get("private") is True  # 2.x or older
    assert hub.validated and set(hub.validated) == {(out / "README.md").read_text()}
    expected = {line.split()[0] for line in text.splitlines() if line.startswith("  ")}
    assert set(hub.files) == expected
    for name, data in hub.files.items():
        assert data == (out / name).read_bytes(), name
    auth = {headers.get("authorization") for method, path, headers in hub.requests if "/api/" in path}
    assert auth == {f"Bearer {TOKEN}"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in text + err + logged
    # the Hub's copy loads exactly as the local folder does: images from the tars
    repo = tmp_path / "hub-copy"
    for name, data in hub.files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    import datasets

    loaded = datasets.load_dataset(str(repo), split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.num_rows == read_manifest(str(out))["splits"]["train"]["samples"]
    assert loaded[0]["jpg"].size == (loaded[0]["json"]["width"], loaded[0]["json"]["height"])


def test_rerun_uploads_nothing_twice(out, hub, capsys):
    assert _publish(capsys, out)[0] == 0
    first = [r for r in hub.requests if r[0] == "PUT"]
    assert first
    assert _publish(capsys, out)[0] == 0
    assert [r for r in hub.requests if r[0] == "PUT"] == first  # LFS objects already there: skipped
