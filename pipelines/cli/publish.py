"""``pmc15m publish <out> --repo-id org/name [--private] [--dry-run]``.

Gates on licenses, checks the folder like ``inspect``, writes and validates the dataset
card, then uploads with the Hub's resumable folder upload. ``--dry-run`` stops before any
network call and lists what would be uploaded.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from pmc15m.core.errors import UserError
from pmc15m.rules.selection import SelectionError, parse_licenses

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _licenses(text: str) -> tuple[str, ...]:
    """``--licenses`` read as ``build`` reads it, so a typo is refused, never an allowlist
    that silently matches nothing; ``()`` (preset ``all``) leaves the redistributable gate."""
    try:
        return parse_licenses(text)
    except SelectionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _repo_id(text: str) -> str:
    if not _REPO_ID.match(text) or len(text) > 96 or ".." in text:
        raise argparse.ArgumentTypeError(f"expected org/name, got {text!r}")
    return text


def register(commands: Any) -> None:
    sub = commands.add_parser(
        "publish",
        help="write the dataset card and upload a build to the Hugging Face Hub",
        description="Refuses samples whose license forbids redistribution, checks the folder, writes "
        "README.md (the dataset card) and uploads. The token comes from HF_TOKEN or `hf auth login`; "
        "HF_ENDPOINT selects another Hub.",
    )
    sub.add_argument("output", help="the build's local output folder")
    sub.add_argument("--repo-id", dest="repo_id", type=_repo_id, required=True, help="org/name on the Hub")
    sub.add_argument("--private", action="store_true", help="create the dataset repository as private")
    sub.add_argument(
        "--dry-run", dest="dry_run", action="store_true", help="validate and list, upload nothing"
    )
    sub.add_argument(
        "--licenses",
        type=_licenses,
        help="publish only these license codes (comma-separated codes or presets, as for build); "
        "never beyond redistributable",
    )
    sub.add_argument(
        "--skip-inspect", dest="skip_inspect", action="store_true", help="skip the integrity check"
    )
    sub.set_defaults(handler=run_publish_command)


def run_publish_command(args: argparse.Namespace, extra: list[str]) -> int:
    from pmc15m.publish import hub as publish

    if extra:
        raise UserError(f"unrecognized arguments: {' '.join(extra)}")
    try:
        plan = publish.prepare(
            args.output, args.repo_id, allowed=args.licenses or None, verify=not args.skip_inspect
        )
        if not args.dry_run:
            publish.upload(plan, private=args.private)
    except publish.PublishError as exc:
        raise UserError(str(exc)) from None
    sys.stdout.write(publish.format_plan(plan, args.dry_run))
    return 0
