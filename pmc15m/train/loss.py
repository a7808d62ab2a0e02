"""The symmetric contrastive (InfoNCE) loss, with negatives from every rank.

Each rank scores its own images against the texts of *all* ranks and its own texts against
all images (open_clip's ``local_loss`` with ``gather_with_grad``): an N x (W*N) logit
matrix per rank instead of the full (W*N)^2, with the positives at ``rank * N + i``.

Gradients: ``_GatherWithGrad`` sums, in its backward pass, what every rank's loss says about
each rank's features and hands each rank its own slice. Rank ``r``'s parameters therefore
receive d(sum of all local losses)/d(their features); DDP then averages over the W ranks,
which gives exactly the gradient of the global-batch loss (the mean of the local losses).
A plain ``all_gather`` would cut that path and train each tower on only a 1/W share of the
negatives' signal. The backward uses ``all_reduce``, which every backend (gloo, NCCL) has.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F


class _GatherWithGrad(torch.autograd.Function):
    """``all_gather`` whose backward returns each rank the summed gradient of its own slice."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        ctx.rank, ctx.rows = dist.get_rank(), tensor.shape[0]
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Every rank's rows, concatenated in rank order, with gradients flowing back to each rank."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    return _GatherWithGrad.apply(tensor)


def contrastive_loss(
    image_features: torch.Tensor, text_features: torch.Tensor, logit_scale: torch.Tensor
) -> torch.Tensor:
    """Mean of image->text and text->image cross-entropy over this rank's rows.

    Features are L2-normalised, shape (N, D), the same N on every rank (batches are full).
    The logits are computed in float32 whatever autocast is active.
    """
    all_images = gather_with_grad(image_features)
    all_texts = gather_with_grad(text_features)
    offset = 0
    if all_images is not image_features:
        offset = dist.get_rank() * image_features.shape[0]
    labels = torch.arange(image_features.shape[0], device=image_features.device) + offset
    # Logits up to 100 need float32: in bf16 (8 bits of mantissa) neighbours 0.5 apart would
    # collapse. The products are N x D x WN, nothing next to the towers, so autocast is off.
    with torch.autocast(device_type=image_features.device.type, enabled=False):
        scale = logit_scale.float()
        logits_per_image = scale * image_features.float() @ all_texts.float().T
        logits_per_text = scale * text_features.float() @ all_images.float().T
        return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2
