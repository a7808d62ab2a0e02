"""Running the command line in-process the way a user meets it: exit codes and stderr."""

from __future__ import annotations

import pytest

from pipelines.cli import main


def cli_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """stderr of a command that must fail as a usage error: exit 2, no traceback."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error:" in err
    return err
