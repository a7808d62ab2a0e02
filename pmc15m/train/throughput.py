"""Training throughput of a model configuration: samples/s, memory and model FLOP utilisation.

``pmc15m train-benchmark`` answers the questions a user sizing a GPU run asks: at the
largest batch that fits, how many samples per second does one device train, how much
memory does it take, and how much of the device's peak does that use (MFU), with and
without ``torch.compile`` and gradient checkpointing. It times the real training step
(``step.train_step``: autocast, the contrastive loss, AdamW, the schedule) on synthetic
inputs, so the figures are the model's, not the loader's (``benchmarks/bench_train.py``
measures the loader, which must outrun these numbers).

FLOPs per sample are counted, not estimated: ``torch.utils.flop_counter`` records every
matrix product of one forward and backward pass at a small batch, and the count scales
linearly with the batch. MFU uses the model's FLOPs, so the recomputation of gradient
checkpointing does not count as useful work (the usual convention, PaLM appendix B).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from pmc15m.train.config import TrainConfig
from pmc15m.train.distributed import DistEnv, resolve_device
from pmc15m.train.model import ModelConfig, build_model
from pmc15m.train.step import make_step_context, train_step

log = logging.getLogger(__name__)

# BiomedBERT's vocabulary (PubMedBERT's 30,522 WordPiece tokens).
BIOMEDBERT_VOCAB = 30522
# Dense bf16 tensor-core peaks in TFLOP/s, from the vendors' data sheets (no sparsity).
PEAK_TFLOPS = {
    "H100 PCIe": 756.0,
    "H100": 989.0,
    "H200": 989.0,
    "GH200": 989.0,
    "H800": 989.0,
    "B200": 2250.0,
    "A100": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
}

# (compile, gradient checkpointing) by the names ``--variants`` takes.
VARIANTS = {
    "plain": (False, False),
    "compile": (True, False),
    "ckpt": (False, True),
    "compile+ckpt": (True, True),
}


@dataclass(frozen=True)
class ThroughputConfig:
    """What to measure. ``text_tokens`` 0 runs every caption at the full context (worst case)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    vocab_size: int = BIOMEDBERT_VOCAB
    batch_sizes: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048)
    text_tokens: int = 0
    steps: int = 10
    warmup_steps: int = 3
    precision: str = "auto"
    device: str = "auto"
    compile_backend: str = "inductor"
    variants: tuple[tuple[bool, bool], ...] = tuple(VARIANTS.values())
    peak_tflops: float = 0.0  # 0: look the device up in PEAK_TFLOPS


@dataclass
class ThroughputRow:
    """One (compile, checkpointing) variant at the largest batch of ``batch_sizes`` that fitted."""

    compile: bool
    checkpointing: bool
    batch_size: int = 0  # 0: not even the smallest batch fitted
    samples_per_s: float = 0.0
    peak_memory_gib: float | None = None  # CUDA only
    mfu: float | None = None  # None: no known peak for this device
    tried: dict[int, str] = field(default_factory=dict)  # batch -> "N samples/s" or "out of memory"


def device_peak_tflops(device: torch.device) -> float:
    """The bf16 dense peak of a known GPU (0.0 if unknown, or a CPU)."""
    if device.type != "cuda":
        return 0.0
    name = torch.cuda.get_device_name(device)
    for model, peak in PEAK_TFLOPS.items():  # "H100 PCIe" before "H100"
        if model in name:
            return peak
    return 0.0


def synthetic_inputs(cfg: ThroughputConfig, batch: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Random pixels and token ids of the shapes a real batch has."""
    generator = torch.Generator().manual_seed(batch)
    size, tokens = cfg.model.image_size, cfg.text_tokens or cfg.model.context_length
    inputs = {
        "pixel_values": torch.randn(batch, 3, size, size, generator=generator),
        "input_ids": torch.randint(5, cfg.vocab_size, (batch, tokens), generator=generator),
        "attention_mask": torch.ones(batch, tokens, dtype=torch.long),
    }
    return {key: value.to(device) for key, value in inputs.items()}


def flops_per_sample(cfg: ThroughputConfig, device: torch.device, batch: int = 2) -> float:
    """Model FLOPs of one training sample (forward + backward), counted at a small batch."""
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(cfg.model, cfg.vocab_size).to(device)
    inputs = synthetic_inputs(cfg, batch, device)
    counter = FlopCounterMode(display=False)
    with counter:
        image, text, scale = model(**inputs)
        (scale * image @ text.T).logsumexp(dim=1).sum().backward()
    return counter.get_total_flops() / batch


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def largest_fitting(
    sizes: Sequence[int], attempt: Callable[[int], float]
) -> tuple[int, float, dict[int, str]]:
    """Try ``attempt(batch)`` (samples/s) on ascending sizes until one runs out of memory."""
    best, rate, tried = 0, 0.0, {}
    for batch in sorted(sizes):
        try:
            result = attempt(batch)
        except (torch.cuda.OutOfMemoryError, RuntimeError) as exc:
            if not _is_oom(exc):
                raise
            tried[batch] = "out of memory"
            break
        best, rate, tried[batch] = batch, result, f"{result:.1f} samples/s"
    return best, rate, tried


def _release(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def time_steps(
    cfg: ThroughputConfig, batch: int, compiled: bool, checkpointing: bool, device: torch.device
) -> float:
    """Samples/s of ``cfg.steps`` optimiser steps at ``batch``, after warm-up steps."""
    _release(device)
    if compiled:
        torch._dynamo.reset()  # a fresh compilation per measurement, no recompile limit reached
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.vocab_size)
    if checkpointing:
        model.enable_checkpointing()
    model = model.to(device).train()
    train_cfg = TrainConfig(
        data="-",
        output="-",
        warmup=1,
        precision=cfg.precision,
        compile=cfg.compile_backend if compiled else "",
    )
    ctx = make_step_context(model, DistEnv(0, 1, 0, device), train_cfg, cfg.steps + cfg.warmup_steps)
    micro = [synthetic_inputs(cfg, batch, device)]
    for _ in range(cfg.warmup_steps):  # compilation, autotuning, allocator growth
        train_step(ctx, micro)
    _synchronize(device)
    started = time.perf_counter()
    for _ in range(cfg.steps):
        train_step(ctx, micro)
    _synchronize(device)
    return cfg.steps * batch / (time.perf_counter() - started)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(cfg: ThroughputConfig) -> tuple[list[ThroughputRow], dict[str, object]]:
    """Every variant at its largest fitting batch, and the facts the table needs."""
    device = resolve_device(cfg.device)
    peak = cfg.peak_tflops or device_peak_tflops(device)
    flops = flops_per_sample(cfg, device)
    rows = []
    for compiled, checkpointing in cfg.variants:
        row = ThroughputRow(compile=compiled, checkpointing=checkpointing)
        peaks: dict[int, float] = {}

        def attempt(batch: int, compiled=compiled, checkpointing=checkpointing, peaks=peaks) -> float:
            rate = time_steps(cfg, batch, compiled, checkpointing, device)
            if device.type == "cuda":
                peaks[batch] = torch.cuda.max_memory_allocated(device) / 2**30
            return rate

        row.batch_size, row.samples_per_s, row.tried = largest_fitting(cfg.batch_sizes, attempt)
        row.peak_memory_gib = peaks.get(row.batch_size)
        if peak and row.batch_size:
            row.mfu = row.samples_per_s * flops / (peak * 1e12)
        log.info("compile=%s checkpointing=%s: %s", compiled, checkpointing, row.tried)
        rows.append(row)
    _release(device)
    facts = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "precision": cfg.precision,
        "gflops_per_sample": flops / 1e9,
        "peak_tflops": peak or None,
        "image_size": cfg.model.image_size,
        "text_tokens": cfg.text_tokens or cfg.model.context_length,
    }
    return rows, facts


def markdown_table(rows: Sequence[ThroughputRow], facts: dict[str, object]) -> str:
    """The README's table: one line per variant."""
    lines = [
        f"Device: {facts['device']}, precision {facts['precision']}, {facts['image_size']} px, "
        f"{facts['text_tokens']} text tokens, {facts['gflops_per_sample']:.4g} GFLOP per training sample, "
        f"peak {facts['peak_tflops'] or 'unknown'} TFLOP/s.",
        "",
        "| compile | checkpointing | largest batch | samples/s | peak memory (GiB) | MFU |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        memory = "-" if row.peak_memory_gib is None else f"{row.peak_memory_gib:.1f}"
        mfu = "-" if row.mfu is None else f"{100 * row.mfu:.1f} %"
        batch = row.batch_size or "none fits"
        lines.append(
            f"| {'yes' if row.compile else 'no'} | {'yes' if row.checkpointing else 'no'} | {batch} "
            f"| {row.samples_per_s:.1f} | {memory} | {mfu} |"
        )
    return "\n".join(lines) + "\n"
