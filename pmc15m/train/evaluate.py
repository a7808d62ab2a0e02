"""Evaluation: image<->text retrieval on a split, and zero-shot classification of a folder.

Retrieval embeds every pair of a split (evaluation transform, no shuffling) and asks, for
each image, where its own caption ranks among all captions, and the reverse. The similarity
matrix is scored in row blocks, so a test split of 100k+ pairs needs no N x N matrix in
memory. A pair counts as found at k when fewer than k others score strictly higher.

Zero-shot classification reads an ImageFolder-style tree (``<root>/<class name>/<image>``),
embeds each class name through prompt templates (averaged, re-normalised, as in CLIP) and
predicts the class whose text embedding is closest to the image's.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from pmc15m.train.data import LoaderConfig, expand_shards, is_report, make_loader
from pmc15m.train.export import Trained
from pmc15m.train.tokenize import encode
from pmc15m.train.transforms import ImageError, ImageTransform

log = logging.getLogger(__name__)

RECALL_AT = (1, 5, 10)
TEMPLATES = ("{}.", "a figure of {}.", "an image of {}.", "this is a photo of {}.")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


class EvaluationError(ValueError):
    """Nothing to evaluate: no usable samples, or a malformed zero-shot folder."""


@dataclass
class RetrievalResult:
    pairs: int
    image_to_text: dict[int, float]
    text_to_image: dict[int, float]
    bad_samples: dict[str, int] = field(default_factory=dict)


@dataclass
class ZeroShotResult:
    images: int
    top1: float
    top5: float | None  # None with fewer than 5 classes
    per_class: dict[str, float]
    skipped: int


@torch.no_grad()
def embed_shards(
    trained: Trained, shards: Sequence[str], batch_size: int = 256, workers: int = 2, device: str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, dict[str, int]]:
    """Normalised image and text features of every usable pair, in shard order."""
    cfg = LoaderConfig(
        shards=tuple(shards),
        batch_size=batch_size,
        image_size=trained.image_size,
        context_length=trained.context_length,
        train=False,
        workers=workers,
        drop_last=False,
    )
    model = trained.model.to(device).eval()
    images, texts, bad = [], [], {}
    for batch in make_loader(cfg, trained.tokenizer):
        bad[batch["worker"]] = batch["bad"]
        if is_report(batch):
            continue
        images.append(model.encode_image(batch["pixel_values"].to(device)).cpu())
        texts.append(
            model.encode_text(batch["input_ids"].to(device), batch["attention_mask"].to(device)).cpu()
        )
    if not images:
        raise EvaluationError(f"no usable samples in {len(shards)} shard(s)")
    return torch.cat(images), torch.cat(texts), dict(sum((Counter(c) for c in bad.values()), Counter()))


def recall_at_k(
    queries: torch.Tensor, keys: torch.Tensor, ks: Sequence[int] = RECALL_AT, block: int = 4096
) -> dict[int, float]:
    """Share of queries ``i`` whose own key ``i`` is among their top ``k`` keys."""
    ranks = []
    for start in range(0, queries.shape[0], block):
        scores = queries[start : start + block] @ keys.T
        rows = torch.arange(scores.shape[0])
        own = scores[rows, rows + start].unsqueeze(1)
        ranks.append((scores > own).sum(dim=1))
    rank = torch.cat(ranks)
    return {k: float((rank < k).float().mean()) for k in ks}


def evaluate_retrieval(
    trained: Trained, data: str | Sequence[str], batch_size: int = 256, workers: int = 2, device: str = "cpu"
) -> RetrievalResult:
    images, texts, bad = embed_shards(trained, expand_shards(data), batch_size, workers, device)
    return RetrievalResult(
        pairs=images.shape[0],
        image_to_text=recall_at_k(images, texts),
        text_to_image=recall_at_k(texts, images),
        bad_samples=bad,
    )


def _class_folders(root: str) -> list[str]:
    if not os.path.isdir(root):
        raise EvaluationError(f"zero-shot folder {root} does not exist")
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if len(classes) < 2:
        raise EvaluationError(f"{root} needs at least two class folders, found {len(classes)}")
    return classes


@torch.no_grad()
def class_embeddings(
    trained: Trained, names: Sequence[str], templates: Sequence[str] = TEMPLATES, device: str = "cpu"
) -> torch.Tensor:
    """One normalised text embedding per class: the mean over its prompts."""
    model = trained.model.to(device).eval()
    rows = []
    for name in names:
        tokens = encode(trained.tokenizer, [t.format(name) for t in templates], trained.context_length)
        features = model.encode_text(tokens["input_ids"].to(device), tokens["attention_mask"].to(device))
        rows.append(torch.nn.functional.normalize(features.mean(dim=0), dim=-1))
    return torch.stack(rows)


def _load_folder_images(root: str, classes: list[str], image_size: int) -> tuple[list, list[int], int]:
    transform, pixels, labels, skipped = ImageTransform(image_size, train=False), [], [], 0
    for label, name in enumerate(classes):
        folder = os.path.join(root, name)
        for file in sorted(os.listdir(folder)):
            if not file.lower().endswith(_IMAGE_SUFFIXES):
                continue
            with open(os.path.join(folder, file), "rb") as handle:
                data = handle.read()
            try:
                pixels.append(transform.load(data))
                labels.append(label)
            except ImageError as exc:
                skipped += 1
                log.warning("zero-shot: skipping %s/%s (%s)", name, file, exc)
    return pixels, labels, skipped


@torch.no_grad()
def zero_shot(
    trained: Trained,
    root: str,
    templates: Sequence[str] = TEMPLATES,
    batch_size: int = 256,
    device: str = "cpu",
) -> ZeroShotResult:
    """Classify ``root/<class>/*`` by its class names; class names use spaces for ``_``."""
    classes = _class_folders(root)
    names = [c.replace("_", " ") for c in classes]
    weights = class_embeddings(trained, names, templates, device)
    pixels, labels, skipped = _load_folder_images(root, classes, trained.image_size)
    if not pixels:
        raise EvaluationError(f"no readable images under {root}")
    model = trained.model.to(device).eval()
    scores = torch.cat(
        [
            model.encode_image(torch.stack(pixels[i : i + batch_size]).to(device)).cpu() @ weights.cpu().T
            for i in range(0, len(pixels), batch_size)
        ]
    )
    target = torch.tensor(labels)
    ranked = scores.argsort(dim=1, descending=True)
    hit1 = ranked[:, 0] == target
    top5 = float((ranked[:, :5] == target[:, None]).any(dim=1).float().mean()) if len(classes) >= 5 else None
    per_class = {
        names[c]: float(hit1[target == c].float().mean()) for c in range(len(classes)) if (target == c).any()
    }
    return ZeroShotResult(len(labels), float(hit1.float().mean()), top5, per_class, skipped)
