"""What each reader the README names sees in a build output, for comparing two outputs."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from pmc15m.rules.splits import SPLITS


def shard_samples(out: Path) -> dict[str, tuple[str, str, bytes]]:
    """key -> (split, caption, image bytes) of every sample in the shards; a key in two shards fails."""
    live: dict[str, tuple[str, str, bytes]] = {}
    for split in SPLITS:
        for tar_path in sorted((out / split).glob("*.tar")):
            shard = f"{split}/{tar_path.stem}"
            with tarfile.open(fileobj=io.BytesIO(tar_path.read_bytes())) as tar:
                members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
            for name in members:
                key, ext = name.split(".", 1)
                if ext == "txt":
                    assert key not in live, f"{key} in two shards ({shard})"
                    live[key] = (split, members[name].decode(), members[f"{key}.jpg"])
    return live


def reader_views(out: Path) -> dict[str, object]:
    """What each consumer of the README reads from ``out``: keys (and captions) per split."""
    import datasets
    import pyarrow.dataset as pads
    import webdataset as wds

    from pmc15m.train.data import epoch_size, read_captions

    loaded = datasets.load_dataset(str(out), cache_dir=str(out.parent / f"{out.name}-datasets-cache"))
    views: dict[str, object] = {
        "datasets": {s: sorted(zip(d["__key__"], d["txt"], strict=True)) for s, d in loaded.items()}
    }
    for split in SPLITS:
        sizes = json.loads((out / split / "sizes.json").read_text())
        if not sizes:
            continue
        last = max(int(name.split(".")[0]) for name in sizes)
        pattern = str(out / split / f"{{00000..{last:05d}}}.tar")  # the README's brace pattern
        samples = list(wds.WebDataset(pattern, shardshuffle=False, empty_check=False))
        views[f"webdataset/{split}"] = sorted((s["__key__"], s["txt"].decode()) for s in samples)
        views[f"sizes.json/{split}"] = sum(sizes.values())
        table = pads.dataset(str(out / split), format="parquet", exclude_invalid_files=True).to_table()
        views[f"pyarrow/{split}"] = sorted(table["key"].to_pylist())
        shards = sorted(str(p) for p in (out / split).glob("*.tar"))
        views[f"trainer/{split}"] = (epoch_size(shards), sorted(read_captions(shards, 10**6)))
    return views
