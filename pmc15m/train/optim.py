"""AdamW with CLIP's parameter groups, and a cosine learning-rate schedule with warm-up.

Weight decay pulls weights towards zero; on gains, biases and the logit scale that only
fights the model (a LayerNorm gain of 0 switches a feature off, a logit scale decayed
towards 0 flattens every softmax), so those get none: open_clip's rule of excluding every
parameter with fewer than two dimensions, plus anything named as a norm or the scale.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        exempt = param.ndim < 2 or "logit_scale" in name or "norm" in name.lower() or name.endswith("bias")
        (no_decay if exempt else decay).append(param)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]


def make_optimizer(
    model: nn.Module,
    lr: float = 5e-4,
    weight_decay: float = 0.2,
    betas: tuple[float, float] = (0.9, 0.98),
    eps: float = 1e-6,
) -> torch.optim.AdamW:
    """BiomedCLIP's optimiser; the fused kernel on CUDA (one launch for all parameters)."""
    fused = all(p.is_cuda for p in model.parameters())
    return torch.optim.AdamW(
        parameter_groups(model, weight_decay), lr=lr, betas=betas, eps=eps, fused=fused or None
    )


def cosine_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up from lr/warmup to lr, then a cosine to zero at ``total`` steps."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def make_scheduler(
    optimizer: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, functools.partial(cosine_factor, warmup=warmup, total=total)
    )
