"""The trainer on this machine: loader samples/s per CPU core, padding saved, training samples/s.

Data: the mini corpus (60 articles) built into shards by the real command line, its
training split read through the trainer's webdataset pipeline (``pmc15m.train.data``),
the shard list repeated so each measurement sees about a thousand samples.

1. Loader, one process (``workers=0``, one torch thread), so samples per CPU-second is
   samples/s per core: read the tar, decode the JPEG, random resized crop to 224 px,
   normalise, tokenise the batch padded to its longest caption (context 256), collate.
   Baseline, measured in the same run on the same samples: the naive path, every image
   decoded at full size (no JPEG draft) and every caption tokenised alone and padded to
   256. A GPU step needs ``target / per-core rate`` loader cores to keep it fed.
2. Padding: text positions per batch of 256 captions, padded to the batch's longest caption
   versus the full context of 256 (the tokenizer is a WordPiece vocabulary learned from
   these captions: BiomedBERT's own cannot be downloaded here; its splits are similar).
3. Training steps on CPU with synthetic inputs (``pmc15m.train.throughput``): the tiny
   test model (one thread), and ViT-B/16 + BERT-base at 224 px and context 256 (fp32, all
   threads, one sample: this is a CPU, not the GPU the issue targets; GPU figures come from
   ``pmc15m train-benchmark``). The counted FLOPs per sample give the model FLOP utilisation
   an H200 (989 dense bf16 TFLOP/s) needs to reach the issue's 1,000 samples/s.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch
import webdataset as wds

from benchmarks.table import format_table
from pipelines.cli.main import main as cli_main
from pmc15m.corpus.generator import generate_corpus
from pmc15m.train.data import LoaderConfig, expand_shards, is_report, make_loader, read_captions
from pmc15m.train.model import ModelConfig
from pmc15m.train.throughput import PEAK_TFLOPS, ThroughputConfig, flops_per_sample, time_steps
from pmc15m.train.tokenize import CONTEXT_LENGTH, padding_saving, train_wordpiece
from pmc15m.train.transforms import ImageTransform

REPEAT = 4  # passes over the training split per loader measurement
BATCH = 64
GPU_TARGETS = (("A100, open_clip reference", 340.0), ("H200, the issue's aim", 1000.0))
H200_PEAK_TFLOPS = PEAK_TFLOPS["H200"]
TINY = ModelConfig(vision="vit-tiny", text="bert-tiny", image_size=32, context_length=64, projection_dim=32)


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _build(root: Path) -> list[str]:
    generate_corpus(root / "corpus", seed=0, n_articles=60)
    out = root / "out"
    argv = ["--log_level", "ERROR", "build", "--source", str(root / "corpus"), "--output", str(out)]
    with contextlib.redirect_stdout(io.StringIO()):  # the build's summary is not this table
        status = cli_main(argv)
    if status != 0:
        raise RuntimeError("the benchmark's build failed")
    return sorted(str(p) for p in (out / "train").glob("*.tar"))


def _timed(samples_of: Iterator[int]) -> tuple[int, float, float]:
    """Samples, wall seconds and CPU seconds of this process (workers=0: all the work)."""
    wall, cpu = time.perf_counter(), time.process_time()
    samples = sum(samples_of)
    return samples, time.perf_counter() - wall, time.process_time() - cpu


def _ours(shards: list[str], tokenizer) -> Iterator[int]:
    cfg = LoaderConfig(
        shards=tuple(shards * REPEAT), batch_size=BATCH, workers=0, shuffle_buffer=500, drop_last=False
    )
    for batch in make_loader(cfg, tokenizer):
        if not is_report(batch):
            yield len(batch["keys"])


def _naive(shards: list[str], tokenizer) -> Iterator[int]:
    """Full-size decoding, one caption at a time padded to 256, the same tar reading."""
    transform, rng = ImageTransform(224, train=True, draft=False), random.Random(0)
    images, texts = [], []
    for sample in wds.DataPipeline(wds.SimpleShardList(shards * REPEAT), wds.tarfile_to_samples()):
        images.append(transform.load(sample["jpg"], rng))
        caption = sample["txt"].decode("utf-8")
        texts.append(tokenizer(caption, padding="max_length", truncation=True, max_length=CONTEXT_LENGTH))
        if len(images) == BATCH:
            torch.stack(images)
            torch.tensor([t["input_ids"] for t in texts])
            yield len(images)
            images, texts = [], []
    if images:
        yield len(images)


def _loader_rows(shards: list[str], tokenizer) -> list[list[object]]:
    rows, baseline = [], 0.0
    with _threads(1):
        for name, run in (("naive: full decode, pad each caption to 256", _naive), ("ours", _ours)):
            samples, wall, cpu = _timed(run(shards, tokenizer))
            per_core = samples / cpu
            baseline = baseline or per_core
            cores = [f"{target / per_core:.1f}" for _, target in GPU_TARGETS]
            rows.append([name, samples, samples / wall, per_core, f"{per_core / baseline:.2f}x", *cores])
    return rows


def _padding_rows(captions: list[str], tokenizer) -> list[list[object]]:
    saving = padding_saving(tokenizer, captions, batch_size=256, context_length=CONTEXT_LENGTH)
    batches = -(-saving.captions // 256)
    return [
        ["captions / mean real tokens", saving.captions, f"{saving.mean_tokens:.1f}"],
        ["positions per batch, padded to 256", saving.positions_fixed // batches, "1.00x"],
        [
            "positions per batch, padded to the longest",
            saving.positions_longest // batches,
            f"{saving.fraction:.2f}x",
        ],
        ["captions truncated at 256", saving.truncated, ""],
    ]


def _training_rows() -> list[list[object]]:
    cpu, threads = torch.device("cpu"), torch.get_num_threads()
    rows = []
    for name, model, vocab, batch, steps, n_threads in (
        ("tiny (test presets), 32 px, 64 tokens", TINY, 1000, 32, 20, 1),
        ("ViT-B/16 + BERT-base, 224 px, 256 tokens (CPU)", ModelConfig(), 30522, 1, 1, threads),
    ):
        cfg = ThroughputConfig(model=model, vocab_size=vocab, steps=steps, warmup_steps=1, precision="fp32")
        with _threads(n_threads):
            rate = time_steps(cfg, batch, compiled=False, checkpointing=False, device=cpu)
            gflops = flops_per_sample(cfg, cpu, batch=1) / 1e9
        h200_mfu = GPU_TARGETS[1][1] * gflops / (H200_PEAK_TFLOPS * 1e3)
        row = [name, n_threads, batch, f"{rate:.3g}", f"{gflops:.3g}", f"{rate * gflops:.3g}"]
        rows.append([*row, f"{100 * h200_mfu:.2g} %"])
    return rows


def run() -> str:
    logging.getLogger("pmc15m").setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        shards = expand_shards(_build(Path(tmp)))
        captions = read_captions(shards, limit=1_000_000)
        tokenizer = train_wordpiece(captions, vocab_size=8000, context_length=CONTEXT_LENGTH)
        loader = _loader_rows(shards, tokenizer)
        padding = _padding_rows(captions, tokenizer)
    training = _training_rows()
    targets = [f"cores for {target:,.0f}/s ({name})" for name, target in GPU_TARGETS]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return "\n".join(
        [
            format_table(
                f"Trainer loader: one process, one thread ({len(captions)} training pairs x {REPEAT}, "
                f"batch {BATCH}, 224 px, context 256; load average {load})",
                ["loader", "samples", "samples/s", "samples/CPU-s (per core)", "vs naive", *targets],
                loader,
            ),
            format_table("Text padding, batches of 256 captions", ["", "value", "vs 256"], padding),
            format_table(
                "Training steps on CPU (fp32, synthetic inputs; GPU: not measured here, "
                "run `pmc15m train-benchmark`)",
                ["model", "threads", "batch", "samples/s", "GFLOP/sample", "GFLOP/s", "H200 MFU for 1,000/s"],
                training,
            ),
        ]
    )
