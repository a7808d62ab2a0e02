"""README.md is executable: every command block runs as written, on the demo corpus, in order.

The user's path is the README: a command that no longer works, a shard pattern that no longer
fits what the demo writes, or a loading recipe that no longer reads the output, is a bug in
the one place every user starts. So this test walks README.md's fenced blocks in order and
runs each one exactly as written (bash blocks with ``bash -euo pipefail`` in a fresh working
folder, ``make`` blocks in a folder laid out like a checkout, Python blocks with the venv's
Python), then checks what each command promised on the real output with the real readers
(``support.readme_checks``). A block runs unless the line above it says
``<!-- readme-test: not run: <reason> -->``; a block that does neither fails the test, so a
new command cannot land in the README unproven. Nothing is downloaded: the Hugging Face
libraries are offline and pointed at a closed local port, and no token reaches a block.

How many blocks ran and which were not (with their reasons) is in the walking test's id,
which ``--durations`` prints, and in a ``ReadmeCoverage`` warning in pytest's summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from support.readme_blocks import (
    Block,
    Command,
    ReadmeError,
    code_words,
    commands,
    parse_blocks,
    plan_problems,
)
from support.readme_checks import CHECKS, BlockRun, Walk, check_python
from support.readme_outputs import shard_pattern_problems

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PROBE = Path(__file__).resolve().parent / "support" / "readme_probe.py"
VENV_BIN = Path(sys.executable).parent  # `pmc15m` resolves here first, as after `make setup`
# The one table of values put into README commands before they run: README text -> value.
# Empty: every runnable block runs verbatim (`--repo-id org/name` only ever meets --dry-run).
PLACEHOLDERS: dict[str, str] = {}
BLOCK_TIMEOUT_S = 420  # one block: a hung command fails with its output, not a bare timeout
WALK_TIMEOUT_S = 900  # about 3x the measured walk on 2 cores under `pytest -n 2`
CHECKOUT_LINKS = ("Makefile", "pyproject.toml", ".venv")


class ReadmeCoverage(UserWarning):
    """How many README blocks ran and why the others did not (shown in pytest's summary)."""


def _plan() -> tuple[list[Block] | None, str]:
    """The README's blocks and the walking test's id, read once at collection."""
    try:
        blocks = parse_blocks(README.read_text(encoding="utf-8"))
    except ReadmeError as exc:
        return None, f"README unparsable: {exc}"
    ran = sum(b.not_run is None for b in blocks)
    return blocks, f"{ran} blocks run, {len(blocks) - ran} marked not run"


BLOCKS, PLAN_ID = _plan()


def _fill(text: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return text


def _is_make_block(block: Block) -> bool:
    """A block of ``make`` targets runs in the checkout folder; mixed blocks are an error."""
    tools = {c.tool for c in commands(block)}
    assert tools != {"make", "pmc15m"}, f"{block.label} mixes make and pmc15m: split it"
    return tools == {"make"}


def test_every_readme_block_runs_or_says_why_and_has_a_check():
    """The static half, fast: the convention holds and every command a block runs is checked."""
    assert BLOCKS is not None, PLAN_ID
    assert not plan_problems(BLOCKS), "\n".join(plan_problems(BLOCKS))
    run = [b for b in BLOCKS if b.not_run is None]
    for block in run:
        if block.runner == "bash":
            found = commands(block)
            assert found, f"{block.label} runs no pmc15m or make command: nothing could check it"
            unchecked = [c.label for c in found if (c.tool, c.name) not in CHECKS]
            assert not unchecked, f"no check for {unchecked}: add one to tests/support/readme_checks.py"
            _is_make_block(block)
    unused = [p for p in PLACEHOLDERS if not any(p in b.text for b in run)]
    assert not unused, f"placeholders no README block uses: {unused}"


def test_the_convention_rejects_blocks_that_neither_run_nor_say_why():
    """What keeps a new README block from landing unproven (the parser on small READMEs)."""
    marked = "<!-- readme-test: not run: needs a GPU -->\n```bash\nx\n```\n"
    blocks = parse_blocks(marked + "\n```python\ny\n```\n")
    found = [(b.line, b.runner, b.not_run) for b in blocks]
    assert found == [(2, "bash", "needs a GPU"), (6, "python", None)]
    assert plan_problems(parse_blocks("```\nout/\n```\n"))  # a listing must say it is not run
    assert plan_problems(parse_blocks("```yaml\na: 1\n```\n"))
    for text, message in [
        ("<!-- readme-test: not run -->\n```bash\nx\n```\n", "not run: <reason>"),
        ("<!-- readme-test: not run:   -->\n```bash\nx\n```\n", "not run: <reason>"),
        ("<!-- readme-test: skip -->\n```bash\nx\n```\n", "not run: <reason>"),
        ("<!-- readme-test: not run: why -->\n\n```bash\nx\n```\n", "right above"),
        ("```bash\nx\n", "never closed"),
    ]:
        with pytest.raises(ReadmeError, match=re.escape(message)):
            parse_blocks(text)


def test_commands_are_found_as_bash_would_run_them():
    text = "pmc15m --log_level INFO build --source a \\\n    --output 'b c' & sleep 1; kill $!\n"
    text += "make demo  # pmc15m build in a comment is no command\npython -m pmc15m inspect out\n"
    found = commands(Block(10, "bash", text, None))
    assert [(c.tool, c.name, c.args, c.line) for c in found] == [
        ("pmc15m", "build", ("--source", "a", "--output", "b c"), 11),
        ("make", "demo", (), 13),
        ("pmc15m", "inspect", ("out",), 14),
    ]
    assert found[0].option("--output") == "b c" and found[0].option("--update") is None


def _environment(tmp: Path) -> dict[str, str]:
    """The user's environment, offline: no Hub token, no Hub, nothing cached from before."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        HF_HOME=str(tmp / "hf-home"),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_ENDPOINT="http://127.0.0.1:9",  # a closed port: any Hub request fails at once
        MPLBACKEND="Agg",
    )
    return env


def _checkout(tmp: Path, env: dict[str, str]) -> Path:
    """A folder the Makefile runs in as in a clone, whose .venv is already set up.

    ``make -q setup`` must say the venv is current: otherwise ``make demo`` would rebuild the
    linked .venv, which belongs to the checkout under test.
    """
    folder = tmp / "checkout"
    folder.mkdir()
    for name in CHECKOUT_LINKS:
        (folder / name).symlink_to(ROOT / name)
    current = subprocess.run(["make", "-q", "setup"], cwd=folder, env=env, capture_output=True)
    assert current.returncode == 0, "the venv is not current for pyproject.toml: run `make setup` first"
    return folder


def _tail(stdout: str, stderr: str) -> str:
    return f"\n--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"


def _execute(argv: list[str], cwd: Path, env: dict[str, str], label: str) -> BlockRun:
    """Runs one block in its own process group; fails with its output unless it exits 0."""
    started = time.time()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=BLOCK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"{label} ran past {BLOCK_TIMEOUT_S} s" + _tail(stdout, stderr))
    finally:
        with contextlib.suppress(ProcessLookupError):  # what the block left running, if anything
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, f"{label} exited {proc.returncode}" + _tail(stdout, stderr)
    return BlockRun(cwd=cwd, stdout=stdout, stderr=stderr, started=started)


def _run_bash(block: Block, walk: Walk, env: dict[str, str], scripts: Path) -> BlockRun:
    script = scripts / f"readme-{block.line}.sh"
    script.write_text(_fill(block.text), encoding="utf-8")
    cwd = walk.checkout if _is_make_block(block) else walk.work
    run = _execute(["bash", "-euo", "pipefail", str(script)], cwd, env, block.label)
    # Checks see each folder as the whole block left it: one check per folder and command,
    # under the label of the command that wrote it last.
    last: dict[tuple, Command] = {}
    for command in commands(block):
        target = command.option("--update") or command.option("--output") or command.args
        last[(command.tool, command.name, target)] = command
    for command in last.values():
        CHECKS[(command.tool, command.name)](command, run, walk)
    return run


def _run_python(block: Block, walk: Walk, env: dict[str, str], scripts: Path) -> BlockRun:
    script, summary = scripts / f"readme_{block.line}.py", scripts / f"readme_{block.line}.json"
    script.write_text(_fill(block.text), encoding="utf-8")
    argv = [str(VENV_BIN / "python"), str(PROBE), str(script), str(summary)]
    run = _execute(argv, walk.work, env, block.label)
    checked = check_python(json.loads(summary.read_text()), walk.work)
    assert checked, f"{block.label} made nothing the test can check (a dataset, a model ...)"
    return run


def _report(ran: list[tuple[Block, float]], skipped: list[Block], walk: Walk) -> str:
    lines = [f"README.md: {len(ran)} command blocks ran as written and were checked:"]
    lines += [f"  ran  {b.label} in {seconds:.0f} s" for b, seconds in ran]
    lines += [f"  not run  {b.label}: {b.not_run}" for b in skipped]
    lines += [f"  byte-identical builds: {', '.join(walk.identical) or 'none compared'}"]
    return "\n".join(lines)


@pytest.mark.timeout(WALK_TIMEOUT_S)
@pytest.mark.parametrize("blocks", [BLOCKS], ids=[PLAN_ID])
def test_readme_blocks_run_as_written_in_order(blocks: list[Block] | None, tmp_path: Path) -> None:
    """One test walks every block in README order: later blocks read what earlier ones wrote."""
    assert blocks is not None, PLAN_ID
    assert not plan_problems(blocks), "\n".join(plan_problems(blocks))
    env = _environment(tmp_path)
    walk = Walk(work=tmp_path / "work", checkout=_checkout(tmp_path, env))
    walk.work.mkdir()
    scripts = tmp_path / "blocks"
    scripts.mkdir()
    ran: list[tuple[Block, float]] = []
    for block in (b for b in blocks if b.not_run is None):
        started = time.monotonic()
        run = (_run_python if block.runner == "python" else _run_bash)(block, walk, env, scripts)
        problems = shard_pattern_problems(code_words(block), run.cwd)
        assert not problems, f"{block.label}: " + "; ".join(problems)
        ran.append((block, time.monotonic() - started))
    skipped = [b for b in blocks if b.not_run is not None]
    assert len(ran) + len(skipped) == len(blocks)
    warnings.warn(ReadmeCoverage(_report(ran, skipped, walk)), stacklevel=1)
