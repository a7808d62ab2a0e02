"""The streaming loader: webdataset tar shards -> batches of pixels and token ids.

The pipeline follows open_clip's: shards are split by rank (``wds.split_by_node``, which
reads torchrun's ``RANK``/``WORLD_SIZE``) and by loader worker, shuffled per epoch with a
seed every rank shares (so the ranks split one permutation), read as tar streams, shuffled
again through a sample buffer, decoded, transformed and batched *inside* the worker, where
each batch is tokenised and padded to its longest caption. In resampled mode every worker
instead draws shards with replacement and stops after a fixed number of batches, so all
ranks take the same number of steps. Epoch length comes from ``sizes.json``. The shards are
the live dataset: an update rewrites the shards that held samples it retired
(``pmc15m.shards.compact``), so nothing here needs to know about tombstones.

Every random choice uses a generator seeded from (seed, epoch, rank, worker), never the
process-wide ones: a run restarted at a position sees the very same batches. A sample that
cannot be used (damaged tar, missing image or caption, undecodable or oversized image) is
skipped and counted by reason; each batch carries its worker's running counts, a final
report item (``is_report``) carries the worker's totals, and ``BatchStream.bad_samples``
sums them.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import webdataset as wds
from webdataset.utils import pytorch_worker_info

from pmc15m.shards import format as fmt
from pmc15m.train.tokenize import CONTEXT_LENGTH, encode, quiet_tokenizer_threads
from pmc15m.train.transforms import DEFAULT_MAX_PIXELS, ImageError, ImageTransform

log = logging.getLogger(__name__)

# The builder writes jpg or webp members (pmc15m.shards.format); jpeg and png are read too,
# so shards made by other webdataset tools load as well.
IMAGE_EXTENSIONS = (fmt.JPG, "jpeg", fmt.WEBP, "png")


class DataError(ValueError):
    """Shards that cannot be found or sized."""


def expand_shards(urls: str | Sequence[str]) -> list[str]:
    """Brace-expand ``'out/train/{00000..00099}.tar'`` (``::`` joins several patterns)."""
    shards = list(wds.shardlists.expand_urls(urls)) if isinstance(urls, str) else list(urls)
    if not shards:
        raise DataError(f"no shards in {urls!r}")
    return shards


def epoch_size(shards: Sequence[str]) -> int:
    """Samples in the given shards, from the ``sizes.json`` next to them."""
    sizes: dict[str, dict[str, int]] = {}
    total = 0
    for shard in shards:
        folder, name = os.path.split(shard)
        if folder not in sizes:
            path = os.path.join(folder, fmt.SIZES_JSON)
            try:
                with open(path, encoding="utf-8") as handle:
                    sizes[folder] = json.load(handle)
            except (OSError, ValueError) as exc:
                raise DataError(f"cannot read {path} ({exc}); pass --epoch_samples") from exc
        if name not in sizes[folder]:
            raise DataError(f"{shard} is not listed in {folder}/{fmt.SIZES_JSON}")
        total += int(sizes[folder][name])
    return total


class BadSamples:
    """Counts skipped samples by reason; doubles as a webdataset exception handler."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, reason: str, detail: str) -> None:
        if not self.counts:
            log.warning("skipping a bad sample (%s: %s); further ones are only counted", reason, detail)
        self.counts[reason] += 1

    def __call__(self, exn: Exception) -> bool:
        self.add(f"read-{exn.__class__.__name__}", str(exn)[:200])
        return True


@dataclass(frozen=True)
class LoaderConfig:
    """What to read and how: one per split and purpose (training, evaluation)."""

    shards: tuple[str, ...]
    batch_size: int
    image_size: int = 224
    context_length: int = CONTEXT_LENGTH
    train: bool = True  # shuffle shards and samples; random crops too unless augment is off
    augment: bool = True
    resampled: bool = False
    shuffle_buffer: int = 2000
    workers: int = 2
    seed: int = 0
    epoch_samples: int = 0  # 0: from sizes.json
    max_pixels: int = DEFAULT_MAX_PIXELS
    draft: bool = True
    drop_last: bool = True  # training needs equal batches on every rank; evaluation keeps all

    def samples_per_epoch(self) -> int:
        return self.epoch_samples or epoch_size(self.shards)

    def worker_batches(self, world_size: int) -> int:
        """Batches each worker yields per epoch in resampled mode (open_clip's rounding up)."""
        workers = max(1, self.workers)
        return max(1, math.ceil(self.samples_per_epoch() / (world_size * workers * self.batch_size)))


def _worker_rng(kind: str, seed: int, epoch: int) -> random.Random:
    # A string seed is hashed with SHA-512 by ``random``: the same in every process.
    rank, _, worker, _ = pytorch_worker_info()
    return random.Random(f"{kind}-{seed}-{epoch}-{rank}-{worker}")


def _shuffle_samples(src: Iterator[dict], bufsize: int, seed: int, epoch: int) -> Iterator[dict]:
    rng = _worker_rng("samples", seed, epoch)
    yield from wds.shuffle(bufsize, min(bufsize, 500), rng=rng)(src)


def _decode_sample(sample: dict, transform: ImageTransform, rng: random.Random, max_pixels: int) -> tuple:
    data = next((sample[ext] for ext in IMAGE_EXTENSIONS if ext in sample), None)
    if data is None:
        raise ImageError("no image member")
    try:
        caption = sample[fmt.TXT].decode("utf-8").strip()
    except (KeyError, UnicodeDecodeError) as exc:
        raise ValueError(f"no readable caption ({exc.__class__.__name__})") from exc
    if not caption:
        raise ValueError("empty caption")
    return transform.load(data, rng, max_pixels), caption, sample["__key__"]


def _decode(
    src: Iterator[dict], transform: ImageTransform, bad: BadSamples, seed: int, epoch: int, max_pixels: int
) -> Iterator[tuple]:
    rng = _worker_rng("transform", seed, epoch)
    for sample in src:
        try:
            yield _decode_sample(sample, transform, rng, max_pixels)
        except ImageError as exc:
            bad.add("image", f"{sample.get('__key__')}: {exc}")
        except ValueError as exc:
            bad.add("caption", f"{sample.get('__key__')}: {exc}")


def _batch(
    src: Iterator[tuple], batch_size: int, tokenizer, context_length: int, partial: bool, bad: BadSamples
) -> Iterator[dict]:
    _, _, worker, _ = pytorch_worker_info()
    items: list[tuple] = []
    for item in src:
        items.append(item)
        if len(items) == batch_size:
            yield _collate(items, tokenizer, context_length, worker, bad)
            items = []
    if items and partial:
        yield _collate(items, tokenizer, context_length, worker, bad)
    # Bad samples met after the worker's last batch would go unreported without this.
    yield {"report": True, "worker": worker, "bad": dict(bad.counts)}


def is_report(batch: dict) -> bool:
    """The last item of each worker's epoch: its final bad-sample counts, no samples."""
    return bool(batch.get("report"))


def _collate(items: list[tuple], tokenizer, context_length: int, worker: int, bad: BadSamples) -> dict:
    tokens = encode(tokenizer, [caption for _, caption, _ in items], context_length)
    return {
        "pixel_values": torch.stack([pixels for pixels, _, _ in items]),
        **tokens,
        "keys": [key for _, _, key in items],
        "worker": worker,
        "bad": dict(bad.counts),
    }


def make_pipeline(cfg: LoaderConfig, tokenizer, epoch: int, world_size: int = 1) -> wds.DataPipeline:
    """The webdataset pipeline for one epoch (a fresh object per epoch carries the epoch's seeds)."""
    bad = BadSamples()
    shards = list(cfg.shards)
    if cfg.resampled:
        seed = int(random.Random(f"shards-{cfg.seed}-{epoch}").getrandbits(31))
        stages: list = [wds.ResampledShards(shards, seed=seed, deterministic=True)]
    else:
        stages = [wds.SimpleShardList(shards)]
        if cfg.train:
            # The same permutation on every rank (seeded by epoch), before the ranks split it.
            stages.append(wds.detshuffle(len(shards), len(shards), seed=cfg.seed, epoch=epoch - 1))
        stages += [wds.split_by_node, wds.split_by_worker]
    stages.append(wds.tarfile_to_samples(handler=bad))
    if cfg.train and cfg.shuffle_buffer > 1:
        stages.append(
            functools.partial(_shuffle_samples, bufsize=cfg.shuffle_buffer, seed=cfg.seed, epoch=epoch)
        )
    transform = ImageTransform(cfg.image_size, train=cfg.train and cfg.augment, draft=cfg.draft)
    stages += [
        functools.partial(
            _decode, transform=transform, bad=bad, seed=cfg.seed, epoch=epoch, max_pixels=cfg.max_pixels
        ),
        functools.partial(
            _batch,
            batch_size=cfg.batch_size,
            tokenizer=tokenizer,
            context_length=cfg.context_length,
            partial=not cfg.drop_last,
            bad=bad,
        ),
    ]
    pipeline = wds.DataPipeline(*stages)
    if cfg.resampled:
        pipeline = pipeline.with_epoch(nbatches=cfg.worker_batches(world_size))
    return pipeline


def make_loader(
    cfg: LoaderConfig, tokenizer, epoch: int = 0, world_size: int = 1
) -> torch.utils.data.DataLoader:
    """A DataLoader over the epoch's pipeline; batching happens in the workers."""
    quiet_tokenizer_threads()
    rank = pytorch_worker_info()[0]
    generator = torch.Generator().manual_seed(
        int(random.Random(f"loader-{cfg.seed}-{epoch}-{rank}").getrandbits(62))
    )
    return torch.utils.data.DataLoader(
        make_pipeline(cfg, tokenizer, epoch, world_size),
        batch_size=None,
        num_workers=cfg.workers,
        pin_memory=torch.cuda.is_available(),
        prefetch_factor=4 if cfg.workers > 0 else None,
        generator=generator,
    )


class BatchStream:
    """Batches across epochs without end, knowing its position so a resumed run can continue.

    The position is (epoch, batches taken in that epoch). Resuming rebuilds that epoch's
    loader, which yields the very same batches, and passes over the ones already taken.
    """

    def __init__(self, cfg: LoaderConfig, tokenizer, world_size: int = 1, position: tuple[int, int] = (0, 0)):
        self.cfg, self.tokenizer, self.world_size = cfg, tokenizer, world_size
        self.epoch, self.batch = position
        self._bad: Counter[str] = Counter()
        self._epoch_bad: dict[int, dict[str, int]] = {}

    @property
    def bad_samples(self) -> Counter[str]:
        """Samples skipped so far, by reason (workers report running counts with each batch)."""
        total = Counter(self._bad)
        for counts in self._epoch_bad.values():
            total.update(counts)
        return total

    def position(self) -> tuple[int, int]:
        """Where the next batch comes from; a finished resampled epoch rolls over to the next."""
        if self.cfg.resampled and self.batch >= self.cfg.worker_batches(self.world_size) * max(
            1, self.cfg.workers
        ):
            return self.epoch + 1, 0
        return self.epoch, self.batch

    def __iter__(self) -> Iterator[dict]:
        self.epoch, self.batch = self.position()
        while True:
            skip = self.batch
            if skip:
                log.info("resuming epoch %d: passing over %d batches already trained on", self.epoch, skip)
            index = 0
            for batch in make_loader(self.cfg, self.tokenizer, self.epoch, self.world_size):
                self._epoch_bad[batch["worker"]] = batch["bad"]
                if is_report(batch):
                    continue
                index += 1
                if index > skip:
                    self.batch = index
                    yield batch
            if index == 0:  # another pass would find nothing either: stop, do not spin
                raise DataError(
                    f"epoch {self.epoch} gave this rank no full batch of {self.cfg.batch_size} "
                    f"(bad samples so far: {dict(self.bad_samples)}); check the shards or the batch size"
                )
            self._bad = self.bad_samples
            self._epoch_bad = {}
            self.epoch, self.batch = self.epoch + 1, 0


def read_captions(shards: Sequence[str], limit: int) -> list[str]:
    """Up to ``limit`` captions, streamed from the tars in order (members read in memory)."""
    import tarfile

    captions: list[str] = []
    for shard in shards:
        with tarfile.open(shard, mode="r|") as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(fmt.member_suffix(fmt.TXT)):
                    handle = archive.extractfile(member)
                    text = handle.read().decode("utf-8", errors="replace").strip() if handle else ""
                    if text:
                        captions.append(text)
                if len(captions) >= limit:
                    return captions
    return captions
