"""The fenced code blocks of README.md, which of them run, and the commands they hold.

A block runs unless the line right above its opening fence says otherwise::

    <!-- readme-test: not run: needs the real PMC bucket and the network -->

The reason is required: it is what a reader of the README (and of the test's report) gets
instead of a run. A block that neither runs nor says why is an error, as is a marker that
stands anywhere but right above a fence: otherwise a new command block could land in the
README without being proven, or a marker could silently stop applying. Only ``bash`` and
``python`` blocks can run; a plain block (a listing) must be marked.
"""

from __future__ import annotations

import io
import re
import shlex
import tokenize
from dataclasses import dataclass

FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)[^`]*$")
MARKER = re.compile(r"^\s*<!--\s*readme-test:(.*?)-->\s*$")
NOT_RUN = re.compile(r"^\s*not run:\s*(\S.*?)\s*$")
RUNNERS = {"bash": "bash", "sh": "bash", "shell": "bash", "python": "python", "py": "python"}
OPERATORS = {"&", "&&", "||", ";", "|", ";;"}
GLOBAL_OPTIONS = {"--log_level"}  # pmc15m's options before the subcommand, each with a value


class ReadmeError(ValueError):
    """README.md breaks the block convention (the message names the line)."""


@dataclass(frozen=True, slots=True)
class Block:
    line: int  # 1-based line of the opening fence in README.md
    lang: str  # the fence's info string ("" for a plain block)
    text: str
    not_run: str | None  # the marker's reason, when the README says the block is not run

    @property
    def runner(self) -> str | None:
        """``bash`` or ``python``: how the block runs; ``None`` when it cannot run."""
        return RUNNERS.get(self.lang)

    @property
    def label(self) -> str:
        return f"README.md:{self.line} ({self.lang or 'plain'} block)"


@dataclass(frozen=True, slots=True)
class Command:
    """One ``pmc15m`` or ``make`` invocation in a bash block."""

    tool: str  # "pmc15m" | "make"
    name: str  # the subcommand or make target
    args: tuple[str, ...]
    line: int  # README.md line where its logical line starts

    def option(self, flag: str) -> str | None:
        """The value of ``--flag VALUE`` or ``--flag=VALUE``; ``None`` when absent."""
        for i, arg in enumerate(self.args):
            if arg == flag and i + 1 < len(self.args):
                return self.args[i + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
        return None

    @property
    def label(self) -> str:
        return f"README.md:{self.line} `{self.tool} {self.name}`"


def _marker_reason(line: str, number: int) -> str | None:
    """The reason of a marker line; ``None`` when the line is no marker."""
    found = MARKER.match(line)
    if not found:
        return None
    reason = NOT_RUN.match(found.group(1))
    if not reason:
        raise ReadmeError(f"README.md:{number}: a readme-test marker must read 'not run: <reason>'")
    return reason.group(1)


def parse_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text`` (README.md), with its marker; raises ``ReadmeError``."""
    lines, blocks, pending, i = text.splitlines(), [], None, 0
    while i < len(lines):
        reason = _marker_reason(lines[i], i + 1)
        fence = FENCE.match(lines[i])
        if pending is not None and (reason is not None or not fence):
            raise ReadmeError(f"README.md:{pending[0]}: the marker is not right above a code fence")
        if reason is not None:
            pending, i = (i + 1, reason), i + 1
            continue
        if fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence.group(1)), None)
            if end is None:
                raise ReadmeError(f"README.md:{i + 1}: the code fence is never closed")
            body = "\n".join(lines[i + 1 : end]) + "\n"
            blocks.append(Block(i + 1, fence.group(2), body, pending[1] if pending else None))
            pending, i = None, end + 1
            continue
        i += 1
    if pending is not None:
        raise ReadmeError(f"README.md:{pending[0]}: the marker is not right above a code fence")
    return blocks


def plan_problems(blocks: list[Block]) -> list[str]:
    """Blocks that neither run nor say why they do not."""
    return [
        f"{b.label} is neither run nor marked: give it a bash/python fence, or put "
        "'<!-- readme-test: not run: <reason> -->' on the line above it"
        for b in blocks
        if b.not_run is None and b.runner is None
    ]


def logical_lines(block: Block) -> list[tuple[int, str]]:
    """``(README line, text)`` of each shell line, ``\\``-continuations joined."""
    joined: list[tuple[int, str]] = []
    start, parts = None, []
    for offset, raw in enumerate(block.text.splitlines(), start=1):
        start = block.line + offset if start is None else start
        parts.append(raw[:-1] if raw.endswith("\\") else raw)
        if not raw.endswith("\\"):
            joined.append((start, " ".join(parts)))
            start, parts = None, []
    if parts:
        joined.append((start or block.line, " ".join(parts)))
    return joined


def _invocation(tokens: list[str], at: int, tool: str, line: int) -> Command | None:
    """The command whose tool name is ``tokens[at - 1]``."""
    rest = tokens[at:]
    end = next((i for i, t in enumerate(rest) if t in OPERATORS), len(rest))
    rest = rest[:end]
    while tool == "pmc15m" and rest and rest[0].split("=")[0] in GLOBAL_OPTIONS:
        rest = rest[1:] if "=" in rest[0] else rest[2:]
    if not rest or rest[0].startswith("-"):
        return None
    return Command(tool, rest[0], tuple(rest[1:]), line)


def commands(block: Block) -> list[Command]:
    """The ``pmc15m`` (also ``python -m pmc15m``, ``timeout 9 pmc15m`` ...) and ``make``
    commands of a bash block: every unquoted ``pmc15m`` word starts one."""
    found = []
    for line, text in logical_lines(block):
        try:
            tokens = shlex.split(text, comments=True)
        except ValueError as exc:
            raise ReadmeError(f"README.md:{line}: not a shell line ({exc}): {text}") from exc
        for i, token in enumerate(tokens):
            at_start = i == 0 or tokens[i - 1] in OPERATORS
            tool = "pmc15m" if token == "pmc15m" or token.endswith("/pmc15m") else token
            if tool == "pmc15m" or (tool == "make" and at_start):
                command = _invocation(tokens, i + 1, tool, line)
                if command is not None:
                    found.append(command)
    return found


def code_words(block: Block) -> str:
    """The block without its comments (a pattern in a comment is prose, not a command):
    the words of each shell line, or the string literals of Python code."""
    if block.runner == "python":
        tokens = tokenize.generate_tokens(io.StringIO(block.text).readline)
        return "\n".join(t.string for t in tokens if t.type == tokenize.STRING)
    return "\n".join(" ".join(shlex.split(text, comments=True)) for _, text in logical_lines(block))
