"""The command line: help, clear one-line errors for bad arguments, written before anything.

Every mistake ends in one line, ``pmc15m: error: ...``, exit code 2, and leaves the disk as
it was (``cli_support.refused``): no empty output folder, no ``_work/``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from support.cli_support import cli_error, refused

from pipelines.beam_options import unknown_beam_flags
from pipelines.cli.build import beam_arguments
from pipelines.cli.main import main, make_parser
from pmc15m.core.argtypes import shows_default


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    """A valid three-article bucket: the source is fine, so only the mistake under test fails."""
    from pmc15m.corpus.generator import generate_corpus

    root = tmp_path_factory.mktemp("tiny") / "bucket"
    generate_corpus(root, seed=0, n_articles=3)
    return root


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
    argv = ["build", "--source", str(tmp_path / "nope"), "--output", str(tmp_path / "o")]
    assert "source directory does not exist" in refused(capsys, argv, tmp_path)


def test_source_that_is_a_file(capsys, tmp_path):
    (tmp_path / "bucket").write_text("not a folder")
    argv = ["build", "--source", str(tmp_path / "bucket"), "--output", str(tmp_path / "o")]
    assert "source is not a directory" in refused(capsys, argv, tmp_path)


def test_source_without_inventory(capsys, tmp_path):
    argv = ["build", "--source", str(tmp_path), "--output", str(tmp_path / "o")]
    assert "no inventory report" in refused(capsys, argv, tmp_path)


def test_bad_inventory_date(capsys, tiny_corpus, tmp_path):
    argv = ["build", "--source", str(tiny_corpus), "--output", str(tmp_path / "o")]
    assert "bad inventory date" in refused(capsys, [*argv, "--inventory_date", "last week"], tmp_path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--shard_size", "0"], "positive integer"),
        (["--decode_memory_mb", "0"], "argument --decode_memory_mb: must be a positive integer, got 0"),
        (["--test_fraction", "1.5"], "[0, 1)"),
        (["--validation_fraction", "0.5", "--test_fraction", "0.6"], "room for train"),
        (["--direct_num_wokers", "2"], "unknown option"),
        (["--resize_mode", "sideways"], "invalid choice"),
    ],
)
def test_bad_arguments_are_one_line_errors(capsys, tmp_path, argv, message):
    err = refused(
        capsys, ["build", "--source", str(tmp_path), "--output", str(tmp_path / "o"), *argv], tmp_path
    )
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: command"),
        (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
        (["--log_level", "LOUD"], "argument --log_level: invalid choice: 'LOUD'"),
        (["build", "--output", "o"], "the following arguments are required: --source"),
        (["inspect", "out", "--samples", "-1"], "argument --samples: must be 0 or more, got -1"),
        (["publish", "out", "--repo-id", "nameonly"], "argument --repo-id: expected org/name"),
    ],
)
def test_parser_errors_are_one_line_without_the_usage(capsys, argv, message):
    """argparse would print the whole usage (dozens of lines for build) above the error."""
    err = cli_error(capsys, argv)
    assert message in err and "--help" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--runner", "NoSuchRunner"], "unknown runner 'NoSuchRunner': give one of LocalRunner, "),
        (["--runner=no_such_module.Runner"], "runner 'no_such_module.Runner' cannot be loaded"),
        (["--runner", "pipelines.cli.main.main"], "is not a PipelineRunner subclass"),
        (["--runner"], "argument --runner: expected one argument"),
        (["--direct_num_workers", "abc"], "argument --direct_num_workers: invalid int value: 'abc'"),
        (["--direct_num_workers", "-2"], "--direct_num_workers must be 0 (one per CPU) or more"),
        (["--direct_running_mode", "bogus"], "argument --direct_running_mode: invalid choice: 'bogus'"),
        (["--quality", "101"], "argument --quality: must be from 1 to 100"),
        (["--min_caption_words", "-1"], "argument --min_caption_words: must be 0 or more"),
        (["--max_aspect_ratio", "0"], "argument --max_aspect_ratio: must be a positive number"),
    ],
)
def test_bad_beam_and_build_values_fail_before_the_output_exists(
    capsys, tiny_corpus, tmp_path, argv, message
):
    """A valid source and output, so the mistake is all that stops the build; before these
    were checked, an unknown runner failed with a traceback after ``<output>/_work/``."""
    err = refused(
        capsys, ["build", "--source", str(tiny_corpus), "--output", str(tmp_path / "o"), *argv], tmp_path
    )
    assert message in err


def test_unknown_runner_lists_the_accepted_ones(capsys, tiny_corpus, tmp_path):
    err = cli_error(
        capsys, ["build", "--source", str(tiny_corpus), "--output", str(tmp_path / "o"), "--runner", "x"]
    )
    for name in ("LocalRunner", "DirectRunner", "DaskRunner", "DataflowRunner", "FlinkRunner", "dotted path"):
        assert name in err


@pytest.mark.parametrize("where", ["file", "under a file"])
def test_output_that_cannot_be_a_folder(capsys, tiny_corpus, tmp_path, where):
    (tmp_path / "taken").write_text("a file where the output should go")
    output = tmp_path / "taken" if where == "file" else tmp_path / "taken" / "out"
    argv = ["build", "--source", str(tiny_corpus), "--output", str(output)]
    err = refused(capsys, argv, tmp_path)
    assert err.startswith("pmc15m: error: --output: ") and "is not a folder" in err


def test_overwrite_keeps_the_previous_build_when_the_source_is_wrong(capsys, tmp_path):
    """--overwrite removes the previous build only once every argument has been checked."""
    out = tmp_path / "out"
    (out / "train").mkdir(parents=True)
    (out / "manifest.json").write_text("{}")
    argv = ["build", "--source", str(tmp_path / "nope"), "--output", str(out), "--overwrite"]
    assert "source directory does not exist" in refused(capsys, argv, tmp_path)


@pytest.mark.parametrize(
    ("make", "source", "message"),
    [
        ("file", "tiny", "--update: {dir} is not a folder"),
        (None, "tiny", "--update: {dir} does not exist"),
        ("folder", "tiny", "{dir} holds no finished build (no manifest.json) to update"),
        ("folder", "missing", "source directory does not exist"),
    ],
)
def test_update_of_something_that_is_no_build(capsys, tiny_corpus, tmp_path, make, source, message):
    folder = tmp_path / "dir"
    if make == "file":
        folder.write_text("not a build")
    elif make == "folder":
        folder.mkdir()
    location = str(tiny_corpus) if source == "tiny" else str(tmp_path / "nope")
    err = refused(capsys, ["build", "--source", location, "--update", str(folder)], tmp_path)
    assert message.format(dir=folder) in err


def test_beam_arguments_name_the_local_runner_by_default():
    assert beam_arguments([]) == ["--runner=pipelines.local_runner.LocalRunner"]
    named = beam_arguments(["--runner", "DirectRunner", "--direct_num_workers", "2"])
    assert named == ["--runner", "pipelines.local_runner.LocalRunner", "--direct_num_workers", "2"]
    assert unknown_beam_flags(["--direct_num_workers=2", "--bogus"]) == ["--bogus"]


def test_parse_options_reach_the_config_and_the_build_id():
    from pipelines.cli.build_options import config_from_args
    from pipelines.cli.main import make_parser
    from pmc15m.shards.manifest import make_build_id

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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--output", "{file}/sub"], "argument --output: cannot make {file}/sub: {file} is not a folder"),
        (["--output", "{file}/sub", "--state", "2"], "argument --output: cannot make {file}/sub"),
        (["--output", "{file}"], "argument --output: {file} exists and is not a folder"),
        (["--output", "{file}", "--state", "2"], "argument --output: {file} exists and is not a folder"),
        (["--output", "{full}"], "output must be a new or empty directory: {full}"),
        (["--output", "{new}", "--figure_scale", "-1"], "argument --figure_scale: must be from 0.25 to 8"),
        (["--output", "{new}", "--figure_scale", "100"], "argument --figure_scale: must be from 0.25 to 8"),
        (["--output", "{new}", "--figure_scale", "nan"], "argument --figure_scale: must be from 0.25 to 8"),
        (["--output", "{new}", "--seed", "-1"], "argument --seed: must be 0 or more, got -1"),
        (["--output", "{new}", "--seed", "abc"], "argument --seed: invalid"),
        (["--output", "{new}", "--articles", "0"], "argument --articles: must be a positive integer"),
    ],
)
def test_make_corpus_mistakes_are_one_line_errors(capsys, tmp_path, argv, message):
    """A path under a file was a NotADirectoryError traceback; a taken output or a figure
    scale out of range was the generator's own ``ERROR ...`` log line, and --seed -1 its usage."""
    (tmp_path / "file").write_text("a file where the corpus should go")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("something already here")
    names = {name: str(tmp_path / name) for name in ("file", "full", "new")}
    err = refused(capsys, ["make-corpus", *(part.format(**names) for part in argv)], tmp_path)
    assert message.format(**names) in err


def test_make_corpus_reports_generator_refusals_in_one_line(capsys, tmp_path, monkeypatch):
    """An option the parser let through but the generator refuses is a user error too."""
    from pmc15m.corpus import generator

    def refuse(root, **options):
        raise ValueError("n_articles must be at least 1, got 0")

    monkeypatch.setattr(generator, "generate_corpus", refuse)
    err = refused(capsys, ["make-corpus", "--output", str(tmp_path / "new")], tmp_path)
    assert err == "pmc15m: error: n_articles must be at least 1, got 0\n"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def _meaningful_default(action: argparse.Action) -> bool:
    """A default worth telling: not None, False, "" (off) or suppressed; 0 is one."""
    default = action.default
    return not (default is None or default is False or default is argparse.SUPPRESS or default == "")


def test_every_option_has_help_and_shows_its_default():
    parser = make_parser()
    parsers = {"pmc15m": parser, **_subcommands(parser)}
    no_help, no_default = [], []
    for name, sub in parsers.items():
        sub.format_help()  # a stray % in a help text would break --help
        formatter = sub._get_formatter()
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            if not action.help:
                no_help.append(label)
                continue
            text = formatter._expand_help(action)
            if _meaningful_default(action) and "default" not in text.lower():
                no_default.append(label)
            if shows_default(action):
                assert f"(default: {action.default})" in text, label
    assert no_help == [], f"options without help: {no_help}"
    assert no_default == [], f"options whose help hides their default: {no_default}"


def test_help_prints_defaults_but_not_the_empty_ones(capsys):
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "--resize_mode {longest,shortest,none} which side --max_side sets" in out
    assert "(default: longest)" in out and "(default: redistributable)" in out
    assert "(default: 0)" in out  # --near_bands: 0 is a value, not "no default"
    assert "default: None" not in out and "default: False" not in out


def test_subcommands_refuse_paths_that_are_not_there(capsys, tmp_path):
    """Paths the command would read or write, checked while parsing: nothing is written."""
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "shard.tar").write_bytes(b"")
    nope, file, shard = str(tmp_path / "nope"), str(tmp_path / "file"), str(tmp_path / "shard.tar")
    cases = [
        (["inspect", nope], f"no build output at {nope}"),
        (["inspect", file], f"no build output at {file}"),
        (["report", file], f"no build output at {file}"),
        (["publish", nope, "--repo-id", "org/name", "--dry-run"], "holds no finished build"),
        (["publish", nope, "--repo-id", "org/name", "--licenses", "GPL"], "unknown license code 'GPL'"),
        (["publish", nope, "--repo-id", "org/name", "--licenses", ","], "give a preset"),
        (["train", "--data", f"{nope}/{{0..1}}.tar", "--output", f"{nope}-run"], "no shard file"),
        (["train", "--data", str(tmp_path), "--output", f"{nope}-run"], "is a folder: name its shards"),
        (
            ["train", "--data", shard, "--output", file],
            f"argument --output: {file} exists and is not a folder",
        ),
        (["evaluate", "--model", nope, "--zeroshot", nope], f"argument --zeroshot: no such folder: {nope}"),
        (["evaluate", "--model", nope, "--zeroshot", file], f"argument --zeroshot: {file} is not a folder"),
        (["evaluate", "--model", nope, "--data", shard, "--report", f"{file}/r.json"], "is not a folder"),
        (
            ["export", "--model", nope, "--output", file],
            f"argument --output: {file} exists and is not a folder",
        ),
        (["train-benchmark", "--report", str(tmp_path)], f"argument --report: {tmp_path} is a folder"),
        (["train-benchmark", "--batch_sizes", "8,x"], "argument --batch_sizes: must be positive integers"),
    ]
    for argv, message in cases:
        assert message in refused(capsys, argv, tmp_path), argv
