"""Helpers shared by the trainer tests (``tests/test_train_*.py``).

The trainer reads only the shard format, so the tests re-shard the session's demo build
into several small shards (2 ranks x 2 workers need at least 4), write synthetic shards
where a test needs images that carry a learnable signal, and use tiny model presets.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import tarfile
from pathlib import Path

import torch
from PIL import Image

TINY = {
    "vision": "vit-tiny",
    "text": "bert-tiny",
    "image_size": 32,
    "context_length": 64,
    "projection_dim": 32,
}


def read_pairs(tar_path: Path) -> dict[str, dict[str, bytes]]:
    """Members of a webdataset tar grouped by key (read in memory)."""
    samples: dict[str, dict[str, bytes]] = {}
    with tarfile.open(tar_path) as archive:
        for member in archive.getmembers():
            key, _, ext = member.name.partition(".")
            handle = archive.extractfile(member)
            samples.setdefault(key, {})[ext] = handle.read() if handle else b""
    return samples


def write_shards(folder: Path, samples: list[tuple[str, dict[str, bytes]]], n_shards: int) -> list[Path]:
    """Write ``samples`` into ``n_shards`` tars (contiguous runs, sorted members) + sizes.json."""
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-len(samples) // n_shards)
    sizes, paths = {}, []
    for index in range(n_shards):
        chunk = samples[index * per : (index + 1) * per]
        path = folder / f"{index:05d}.tar"
        with tarfile.open(path, "w") as archive:
            for key, members in chunk:
                for ext in sorted(members):
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size = len(members[ext])
                    archive.addfile(info, io.BytesIO(members[ext]))
        sizes[path.name] = len(chunk)
        paths.append(path)
    (folder / "sizes.json").write_text(json.dumps(sizes))
    return paths


def pattern(paths: list[Path]) -> str:
    """A brace pattern for the shards, as a user would pass it."""
    return str(paths[0].parent / f"{{00000..{len(paths) - 1:05d}}}.tar")


def demo_samples(demo_build: Path, split: str = "train") -> list[tuple[str, dict[str, bytes]]]:
    samples: dict[str, dict[str, bytes]] = {}
    for tar_path in sorted((demo_build / split).glob("*.tar")):
        samples.update(read_pairs(tar_path))
    return sorted(samples.items())


def color_image(rgb: tuple[int, int, int], rng: random.Random, size: int = 40) -> bytes:
    """A noisy square of one colour, as JPEG bytes."""
    pixels = bytes(
        max(0, min(255, channel + rng.randint(-30, 30))) for _ in range(size * size) for channel in rgb
    )
    buffer = io.BytesIO()
    Image.frombytes("RGB", (size, size), pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


COLORS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220), "yellow": (230, 220, 30)}


def reshard_demo(demo_build: Path, folder: Path, n_shards: int = 6) -> list[Path]:
    """The demo build's training pairs in ``n_shards`` shards."""
    return write_shards(folder, demo_samples(demo_build), n_shards)


def caption_tokenizer(demo_build: Path, folder: Path):
    """A WordPiece tokenizer learned offline from the demo captions, saved to ``folder``."""
    from pmc15m.train.tokenize import train_wordpiece

    captions = [m["txt"].decode() for _, m in demo_samples(demo_build)] + [f"a {c} square" for c in COLORS]
    tokenizer = train_wordpiece(captions, vocab_size=1000, context_length=TINY["context_length"])
    tokenizer.save_pretrained(folder)
    return tokenizer


@contextlib.contextmanager
def one_thread():
    """Two xdist workers share two cores: one intra-op thread each avoids oversubscription."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def synthetic_batch(n: int, vocab: int = 100, seed: int = 0) -> dict[str, torch.Tensor]:
    """Model inputs without data: random pixels, random token ids, some padded captions."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (n, 12), generator=generator)
    mask = torch.ones_like(ids)
    mask[: n // 2, 8:] = 0
    pixels = torch.randn(n, 3, TINY["image_size"], TINY["image_size"], generator=generator)
    return {"pixel_values": pixels, "input_ids": ids, "attention_mask": mask}
