"""Source and selection arguments on the command line: one-line errors, exit 2, no traceback.

(An S3 bucket without an inventory and unreachable endpoints are covered with moto in
tests/sources/test_source_s3.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli_support import refused

from pipelines.cli.main import main
from pmc15m.sources.inventory import INVENTORY_PREFIX
from pmc15m.sources.legacy import FILE_LIST

REPORT = "2026-01-01T00-00Z"


@pytest.fixture
def bucket(tmp_path) -> Path:
    """A bucket-like directory with one (empty) inventory report: enough to fail on."""
    root = tmp_path / "bucket"
    (root / INVENTORY_PREFIX / REPORT).mkdir(parents=True)
    return root


def _build(source: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["build", "--source", str(source), "--output", str(tmp_path / "out"), *extra]


def test_help_names_the_selection_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["build", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--pmcids", "--limit", "--sample_fraction", "--licenses", "TDM", "--inventory_date"):
        assert option in out


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2026-01-01", "bad inventory date '2026-01-01'"),
        ("last week", "bad inventory date"),
        ("2025-12-31T00-00Z", f"no inventory report dated 2025-12-31T00-00Z; available: {REPORT}"),
    ],
)
def test_inventory_date_malformed_or_absent(capsys, bucket, tmp_path, date, message):
    assert message in refused(capsys, _build(bucket, tmp_path, "--inventory_date", date), tmp_path)


def test_report_without_manifest(capsys, bucket, tmp_path):
    err = refused(capsys, _build(bucket, tmp_path), tmp_path)
    assert f"inventory report {REPORT} has no manifest.json" in err


def test_directory_without_inventory_or_file_list(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    assert "no inventory report found" in refused(capsys, _build(tmp_path / "empty", tmp_path), tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--pmcids file not found"),
        ("", "names no PMCID"),
        ("# nothing yet\n\n", "names no PMCID"),
        ("PMC1\nPMC2.1\n", "line 2: 'PMC2.1' is not a PMCID"),
    ],
)
def test_pmcids_file_errors(capsys, bucket, tmp_path, content, message):
    path = tmp_path / "ids.txt"
    if content is not None:
        path.write_text(content)
    assert message in refused(capsys, _build(bucket, tmp_path, "--pmcids", str(path)), tmp_path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--licenses", "CC-BY"], "unknown license code 'CC-BY'"),
        (["--licenses", "commercial,GPL"], "unknown license code 'GPL'"),
        (["--licenses", ","], "give a preset"),
        (["--sample_fraction", "0"], "(0, 1]"),
        (["--sample_fraction", "1.5"], "(0, 1]"),
        (["--sample_fraction", "half"], "invalid sample_fraction value"),
        (["--limit", "0"], "positive integer"),
        (["--limit", "-3"], "positive integer"),
    ],
)
def test_bad_selection_values(capsys, bucket, tmp_path, argv, message):
    assert message in refused(capsys, _build(bucket, tmp_path, *argv), tmp_path)


def _legacy(tmp_path: Path, header: str) -> Path:
    root = tmp_path / "mirror"
    root.mkdir()
    (root / FILE_LIST).write_text(header + "\n")
    return root


def test_legacy_mirror_refuses_an_inventory_date(capsys, tmp_path):
    root = _legacy(
        tmp_path, "File,Article Citation,Accession ID,Last Updated (YYYY-MM-DD HH:MM:SS),PMID,License"
    )
    err = refused(capsys, _build(root, tmp_path, "--inventory_date", REPORT), tmp_path)
    assert "legacy oa_package mirror" in err and "--inventory_date" in err


def test_legacy_file_list_with_wrong_columns(capsys, tmp_path):
    root = _legacy(tmp_path, "Path,Citation,PMCID")
    err = refused(capsys, _build(root, tmp_path), tmp_path)
    assert "oa_file_list.csv lacks column(s) File, Accession ID, License" in err
