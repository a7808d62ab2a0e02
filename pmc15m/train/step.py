"""One optimiser step, on one rank or under DDP, with or without gradient accumulation.

Gradient accumulation follows open_clip: the micro-batches are first embedded without
gradients, then each is embedded again with gradients and scored against the cached
features of all the others. The loss is thus over the whole accumulated batch, as CLIP
needs (its negatives are the batch); averaging per-micro-batch losses would shrink them.
DDP's gradient all-reduce runs once, on the last micro-batch (``no_sync`` on the others).
The logit scale's gradient is taken from one pass only: each pass computes the whole
loss, so letting every pass differentiate the scale would multiply its gradient by the
number of micro-batches (open_clip's accumulation does that).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn.parallel import DistributedDataParallel

from pmc15m.train.config import TrainConfig
from pmc15m.train.distributed import DistEnv
from pmc15m.train.loss import contrastive_loss
from pmc15m.train.model import ClipModel
from pmc15m.train.optim import make_optimizer, make_scheduler

INPUTS = ("pixel_values", "input_ids", "attention_mask")


@dataclass
class StepContext:
    """The model as trained (maybe DDP-wrapped, maybe compiled) and what updates it."""

    model: ClipModel
    forward: Callable
    ddp: DistributedDataParallel | None
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    autocast: Callable[[], contextlib.AbstractContextManager]


def autocast_factory(device: torch.device, precision: str) -> Callable[[], contextlib.AbstractContextManager]:
    """bf16 autocast (``auto``: on CUDA only; CPU bf16 is slower than fp32 on most CPUs)."""
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    if precision == "bf16":
        return functools.partial(torch.autocast, device_type=device.type, dtype=torch.bfloat16)
    if precision != "fp32":
        raise ValueError(f"unknown precision {precision!r} (auto, bf16, fp32)")
    return contextlib.nullcontext


def make_step_context(model: ClipModel, env: DistEnv, cfg: TrainConfig, total_steps: int) -> StepContext:
    """Optimiser and schedule on the bare model, then the DDP and compile wrappers."""
    optimizer = make_optimizer(model, cfg.lr, cfg.weight_decay, cfg.betas, cfg.eps)
    scheduler = make_scheduler(optimizer, cfg.warmup, total_steps)
    ddp = None
    if env.distributed:
        device_ids = [env.device.index] if env.device.type == "cuda" else None
        ddp = DistributedDataParallel(model, device_ids=device_ids)
    forward = ddp or model
    if cfg.compile:
        forward = torch.compile(forward, backend=cfg.compile)
    return StepContext(model, forward, ddp, optimizer, scheduler, autocast_factory(env.device, cfg.precision))


def to_device(batch: dict, device: torch.device) -> dict[str, torch.Tensor]:
    return {key: batch[key].to(device, non_blocking=True) for key in INPUTS}


def train_step(ctx: StepContext, micro_batches: list[dict[str, torch.Tensor]]) -> torch.Tensor:
    """One optimiser step over ``micro_batches``; returns this rank's loss, detached."""
    ctx.optimizer.zero_grad(set_to_none=True)
    if len(micro_batches) == 1:
        with ctx.autocast():
            loss = contrastive_loss(*ctx.forward(**micro_batches[0]))
        loss.backward()
    else:
        loss = _accumulated(ctx, micro_batches)
    ctx.optimizer.step()
    ctx.scheduler.step()
    ctx.model.clamp_logit_scale()
    return loss.detach()


def _others(cached: list[torch.Tensor], index: int, own: torch.Tensor) -> torch.Tensor:
    """The features of all micro-batches in order, with ``own`` (with gradients) at ``index``."""
    return torch.cat([*cached[:index], own, *cached[index + 1 :]])


def _accumulated(ctx: StepContext, micro_batches: list[dict[str, torch.Tensor]]) -> torch.Tensor:
    with torch.no_grad(), ctx.autocast():
        cached = [ctx.forward(**batch)[:2] for batch in micro_batches]
    images, texts = [c[0] for c in cached], [c[1] for c in cached]
    last = len(micro_batches) - 1
    for index, batch in enumerate(micro_batches):
        defer = ctx.ddp is not None and index < last
        with ctx.ddp.no_sync() if defer else contextlib.nullcontext():
            with ctx.autocast():
                image, text, scale = ctx.forward(**batch)
                # Every pass computes the same loss; the scale's gradient must count once.
                scale = scale if index == last else scale.detach()
                loss = contrastive_loss(_others(images, index, image), _others(texts, index, text), scale)
            loss.backward()
    return loss
