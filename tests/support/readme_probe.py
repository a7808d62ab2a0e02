"""Runs one Python block of README.md as a script, then describes what it made, as JSON.

Usage: ``python readme_probe.py BLOCK.py SUMMARY.json`` in the folder the block works in.
The block runs unchanged (``runpy``, as ``__main__``); afterwards every public global that
a check can judge is described with the reader itself (a webdataset pipeline is iterated to
the end, a ``datasets`` split counted, a pyarrow dataset counted), because only the objects
the README built prove the README's recipe: re-reading the files in the test would prove
the test's own recipe instead. The test (``tests/test_readme.py``) compares the description
with the build output.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from typing import Any


def _webdataset(value: Any) -> dict[str, Any] | None:
    """Shards and every sample of a webdataset pipeline (``WebDataset(...)`` and its stages)."""
    stages = getattr(value, "pipeline", None)
    if type(value).__module__.split(".")[0] != "webdataset" or not stages:
        return None
    urls = list(getattr(stages[0], "urls", []))
    samples = list(value)
    first = samples[0] if samples else None
    parts = first if isinstance(first, tuple) else (first,)
    return {"kind": "webdataset", "urls": urls, "samples": len(samples), "first": _types(parts)}


def _types(parts: tuple[Any, ...]) -> list[str]:
    """``PIL.Image``, ``str`` ...: what one sample holds, in order."""
    return [f"{type(p).__module__.split('.')[0]}.{type(p).__name__}" for p in parts]


def _datasets(value: Any) -> dict[str, Any] | None:
    import datasets

    if not isinstance(value, datasets.DatasetDict):
        return None
    splits = {}
    for name, split in value.items():
        features = {k: type(f).__name__ for k, f in split.features.items()}
        shards = sorted(set(split["__url__"])) if "__url__" in features else []
        splits[name] = {"rows": split.num_rows, "features": features, "shards": shards}
    return {"kind": "datasets", "splits": splits}


def _pyarrow(value: Any) -> dict[str, Any] | None:
    import pyarrow.dataset

    if not isinstance(value, pyarrow.dataset.FileSystemDataset):
        return None
    return {"kind": "pyarrow", "files": list(value.files), "rows": value.count_rows()}


def _transformers(value: Any) -> dict[str, Any] | None:
    module = type(value).__module__.split(".")[0]
    if module != "transformers" or not hasattr(value, "from_pretrained"):
        return None
    return {"kind": "transformers", "class": type(value).__name__}


def _tensor(value: Any) -> dict[str, Any] | None:
    import torch

    if not isinstance(value, torch.Tensor):
        return None
    return {"kind": "tensor", "shape": list(value.shape), "finite": bool(torch.isfinite(value).all())}


def _jats(value: Any) -> dict[str, Any] | None:
    if type(value).__name__ != "ParsedArticle" or not hasattr(value, "figures"):
        return None
    figures = [{"caption": f.caption, "graphic": f.graphic} for f in value.figures]
    return {"kind": "jats", "pmcid": value.pmcid, "title": value.title, "figures": figures}


def describe(value: Any) -> dict[str, Any] | None:
    """What a check can judge of ``value``; ``None`` for anything else (modules, functions ...)."""
    loaded = sys.modules
    probes = [(_webdataset, "webdataset"), (_datasets, "datasets"), (_pyarrow, "pyarrow")]
    probes += [(_transformers, "transformers"), (_tensor, "torch"), (_jats, "pmc15m.jats")]
    for probe, module in probes:
        if module in loaded:  # never import a reader the block did not use
            found = probe(value)
            if found is not None:
                return found
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return {"kind": "value", "value": value}
    return None


def main(block: str, summary: str) -> int:
    sys.path[0] = os.path.dirname(os.path.abspath(block))  # as ``python BLOCK.py`` would have it
    names = runpy.run_path(block, run_name="__main__")
    described = {}
    for name, value in names.items():
        if not name.startswith("_"):
            found = describe(value)
            if found is not None:
                described[name] = found
    with open(summary, "w", encoding="utf-8") as handle:
        json.dump(described, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
