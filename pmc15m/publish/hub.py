"""Publishing a finished build to the Hugging Face Hub: license gate, card, upload.

Order matters: nothing leaves the machine until the license gate has passed (no sample with
a license that forbids redistribution), the folder has passed ``inspect`` and the card has
been written and validated. The upload is the Hub's resumable large-folder upload: rerunning
an interrupted publish skips what already arrived.

The token comes from ``HF_TOKEN`` or the user's saved login (``huggingface_hub.get_token``)
and is handed to ``HfApi`` only; it is never formatted into a message or a log line.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pmc15m.core.config import LICENSE_PRESETS
from pmc15m.publish.card import CARD_FILE, card_for, validate_card
from pmc15m.rules.splits import SPLITS
from pmc15m.shards import format as fmt
from pmc15m.shards.inspect import inspect_output
from pmc15m.shards.manifest import read_manifest
from pmc15m.storage import fs

log = logging.getLogger(__name__)

REDISTRIBUTABLE = frozenset(LICENSE_PRESETS["redistributable"])
# What a published dataset holds; rejects/ stays home (it describes articles whose license
# forbids redistribution) and so do hidden temporaries.
# tombstones/: the record of what updates retired (no longer in the shards: pmc15m.shards.compact)
UPLOAD_PATTERNS = (
    CARD_FILE,
    fmt.MANIFEST,
    *(f"{folder}/*" for folder in (fmt.REPORT_DIR, fmt.TOMBSTONES_DIR, *SPLITS)),
)
IGNORE_PATTERNS = (".*", "*/.*")
COMMIT_MESSAGE = "Upload pmc15m build {build_id}"


class PublishError(ValueError):
    """A reason not to publish, phrased for the user (one line)."""


@dataclass
class PublishPlan:
    """What a publish would upload (and, after ``upload``, did)."""

    output: str
    repo_id: str
    files: list[tuple[str, int]] = field(default_factory=list)  # (relative path, bytes)
    licenses: dict[str, int] = field(default_factory=dict)
    commit_url: str = ""

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)


def check_licenses(counts: Counter, allowed: tuple[str, ...] | None = None) -> None:
    """Refuse any sample whose license is not redistributable (or not in ``allowed``)."""
    permitted = REDISTRIBUTABLE & set(allowed) if allowed else REDISTRIBUTABLE
    refused = {code: n for code, n in sorted(counts.items()) if code not in permitted}
    if refused:
        listed = ", ".join(f"{code} ({n:,} samples)" for code, n in refused.items())
        raise PublishError(
            f"refusing to publish: samples with licenses that may not be redistributed here: {listed}; "
            f"rebuild with --licenses limited to {', '.join(sorted(permitted))}"
        )


def upload_files(output: str) -> list[tuple[str, int]]:
    """``(relative path, bytes)`` of the files the upload's patterns select, sorted."""
    out = []
    for name in fs.walk(output):
        if any(fnmatch.fnmatch(name, p) for p in IGNORE_PATTERNS):
            continue
        if any(fnmatch.fnmatch(name, p) for p in UPLOAD_PATTERNS):
            out.append((name, fs.size(fs.join(output, name))))
    return out


def prepare(
    output: str, repo_id: str, *, allowed: tuple[str, ...] | None = None, verify: bool = True
) -> PublishPlan:
    """Gate, verify, write and validate the card; return what would be uploaded."""
    if not fs.is_local(output):
        raise PublishError(f"publish uploads a local folder; copy {output} to local disk first")
    if not fs.exists(fs.join(output, fmt.MANIFEST)):
        raise PublishError(f"{output} holds no finished build (no {fmt.MANIFEST})")
    manifest = read_manifest(output)
    card, counts = card_for(output, manifest, repo_id)
    check_licenses(counts, allowed)
    if verify:
        _verify(output)
    names = sorted({name for name, _ in upload_files(output)} | {CARD_FILE})
    problems = validate_card(card, names)
    if problems:
        raise PublishError("the dataset card is not valid: " + "; ".join(problems))
    fs.write_bytes(fs.join(output, CARD_FILE), card.encode("utf-8"))
    return PublishPlan(output, repo_id, upload_files(output), dict(sorted(counts.items())))


def _verify(output: str) -> None:

    result = inspect_output(output, n_samples=0)
    if not result.ok:
        shown = "; ".join(result.problems[:5])
        raise PublishError(f"pmc15m inspect found {len(result.problems)} problem(s): {shown}")


def resolve_token() -> str:
    """HF_TOKEN, else the saved login; a clear error (without any secret) when neither exists."""
    from huggingface_hub import get_token

    token = os.environ.get("HF_TOKEN") or get_token()
    if not token:
        raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login`")
    return token


def upload(plan: PublishPlan, *, private: bool = False, token: str | None = None) -> PublishPlan:
    """Create the dataset repo if needed and upload the folder (resumable)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=token or resolve_token())
    build_id = read_manifest(plan.output).get("build_id", "")
    kwargs: dict[str, Any] = {
        "repo_id": plan.repo_id,
        "folder_path": plan.output,
        "repo_type": "dataset",
        "allow_patterns": list(UPLOAD_PATTERNS),
        "ignore_patterns": list(IGNORE_PATTERNS),
    }
    log.info("uploading %d files (%d bytes) to %s", len(plan.files), plan.total_bytes, plan.repo_id)
    try:
        api.create_repo(plan.repo_id, repo_type="dataset", private=private, exist_ok=True)
        if hasattr(api, "upload_large_folder"):  # huggingface_hub < 1.x: the resumable uploader
            api.upload_large_folder(**kwargs, private=private)
        else:  # newer releases made upload_folder itself resumable (multi-commit, skips committed files)
            info = api.upload_folder(**kwargs, commit_message=COMMIT_MESSAGE.format(build_id=build_id))
            plan.commit_url = str(getattr(info, "commit_url", "") or "")
    except HfHubHTTPError as exc:
        raise PublishError(f"upload to {plan.repo_id} failed: {str(exc).splitlines()[0]}") from None
    return plan


def format_plan(plan: PublishPlan, dry_run: bool) -> str:
    """The listing ``pmc15m publish`` prints (never the token)."""
    head = "would upload" if dry_run else "uploaded"
    lines = [f"{head} {len(plan.files)} files ({plan.total_bytes:,} bytes) to datasets/{plan.repo_id}:"]
    lines += [f"  {name}  {size:,}" for name, size in plan.files]
    lines.append("licenses: " + ", ".join(f"{code} {n:,}" for code, n in plan.licenses.items()))
    lines.append(f"dataset card {CARD_FILE} written and validated")
    if plan.commit_url:
        lines.append(f"commit: {plan.commit_url}")
    return "\n".join(lines) + "\n"
