"""The command line: help, clear one-line errors for bad arguments."""

from __future__ import annotations

import pytest
from cli_support import cli_error

from pipelines.beam_options import unknown_beam_flags
from pipelines.cli import main
from pipelines.cli_build import beam_arguments


def test_help_explains_every_build_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["build", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--source",
        "--output",
        "--licenses",
        "--max_side",
        "--shard_size",
        "--inventory_date",
        "--overwrite",
    ):
        assert option in out


def test_missing_source_directory(capsys, tmp_path):
    err = cli_error(capsys, ["build", "--source", str(tmp_path / "nope"), "--output", str(tmp_path / "o")])
    assert "source directory does not exist" in err


def test_source_without_inventory(capsys, tmp_path):
    err = cli_error(capsys, ["build", "--source", str(tmp_path), "--output", str(tmp_path / "o")])
    assert "no inventory report" in err


def test_bad_inventory_date(capsys, mini_corpus, tmp_path):
    err = cli_error(
        capsys,
        [
            "build",
            "--source",
            str(mini_corpus),
            "--output",
            str(tmp_path / "o"),
            "--inventory_date",
            "last week",
        ],
    )
    assert "bad inventory date" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--shard_size", "0"], "positive integer"),
        (["--test_fraction", "1.5"], "[0, 1)"),
        (["--validation_fraction", "0.5", "--test_fraction", "0.6"], "room for train"),
        (["--direct_num_wokers", "2"], "unknown option"),
        (["--resize_mode", "sideways"], "invalid choice"),
    ],
)
def test_bad_arguments_are_one_line_errors(capsys, tmp_path, argv, message):
    err = cli_error(capsys, ["build", "--source", str(tmp_path), "--output", str(tmp_path / "o"), *argv])
    assert message in err


def test_beam_arguments_name_the_local_runner_by_default():
    assert beam_arguments([]) == ["--runner=pipelines.local_runner.LocalRunner"]
    named = beam_arguments(["--runner", "DirectRunner", "--direct_num_workers", "2"])
    assert named == ["--runner", "pipelines.local_runner.LocalRunner", "--direct_num_workers", "2"]
    assert unknown_beam_flags(["--direct_num_workers=2", "--bogus"]) == ["--bogus"]


def test_parse_options_reach_the_config_and_the_build_id():
    from pipelines.cli import make_parser
    from pipelines.cli_build import config_from_args
    from pmc15m.manifest import make_build_id

    def config(*flags):
        args, _ = make_parser().parse_known_args(["build", "--source", "s", "--output", "o", *flags])
        return config_from_args(args)

    plain, labelled = config(), config("--include_label", "--no_mentions", "--max_xml_bytes", "1000")
    assert labelled.parse.include_label and not labelled.parse.extract_mentions
    assert labelled.parse.max_bytes == 1000 and plain.parse.extract_mentions
    snapshot = {"inventory_date": "2026-11-20T01-00Z"}
    assert make_build_id(plain, snapshot) != make_build_id(labelled, snapshot)


def test_make_corpus_passes_its_figure_scale_to_the_generator(tmp_path):
    from pmc15m.corpus.generator import GROUND_TRUTH, generate_corpus

    args = ["--output", str(tmp_path / "cli"), "--articles", "3", "--figure_scale", "2"]
    assert main(["make-corpus", *args]) == 0
    generate_corpus(tmp_path / "direct", seed=0, n_articles=3, figure_scale=2)
    generate_corpus(tmp_path / "plain", seed=0, n_articles=3)
    truths = [(tmp_path / name / GROUND_TRUTH).read_text() for name in ("cli", "direct", "plain")]
    assert truths[0] == truths[1] != truths[2]
