"""Running the command line in-process the way a user meets it: exit codes and stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli.main import main


def cli_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """stderr of a command that must fail as a usage error: exit 2, no traceback, and one
    line worded like every other error of the command line (``pmc15m: error: ...``)."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("pmc15m: error: ") and err.count("\n") == 1, err
    return err


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a folder): equal before and after
    a refused command shows it wrote nothing, not even an empty output folder."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], root: Path) -> str:
    """``cli_error``, and nothing under ``root`` changed."""
    before = snapshot(root)
    err = cli_error(capsys, argv)
    assert snapshot(root) == before, "a refused command wrote to disk"
    return err
