"""The options of ``pmc15m train`` and ``pmc15m train-benchmark`` (model, data, optimiser) and
their argument types: the command's text, apart from what it runs (``pmc15m.train.cli``)."""

from __future__ import annotations

import argparse

from pmc15m.core.argtypes import (
    folder_to_write,
    fraction,
    non_negative_float,
    non_negative_int,
    positive_int,
    shard_pattern,
)

PRECISION_HELP = "auto: bf16 autocast on CUDA, fp32 elsewhere"


def model_arguments(sub: argparse.ArgumentParser) -> None:
    group = sub.add_argument_group("model")
    group.add_argument("--vision", default="vit-b-16", help="vit-b-16 | vit-tiny | a ViT Hub name or folder")
    group.add_argument(
        "--text", default="bert-base", help="bert-base | bert-tiny | a BERT Hub name or folder"
    )
    group.add_argument("--image_size", type=positive_int, default=224, help="image side in pixels")
    group.add_argument("--context_length", type=positive_int, default=256, help="tokens per caption, at most")
    group.add_argument(
        "--projection_dim", type=positive_int, default=512, help="size of the shared image-text embedding"
    )
    group.add_argument("--dropout", type=fraction, default=None, help="override the towers' dropout")


def data_arguments(sub: argparse.ArgumentParser) -> None:
    group = sub.add_argument_group("data")
    group.add_argument(
        "--data", type=shard_pattern, required=True, help="shards, e.g. 'out/train/{00000..00099}.tar'"
    )
    group.add_argument(
        "--output", type=folder_to_write, required=True, help="run folder: checkpoints, tokenizer, metrics"
    )
    group.add_argument("--tokenizer", default=None, help="tokenizer name or folder (default: BiomedBERT)")
    group.add_argument(
        "--tokenizer_vocab", type=non_negative_int, default=0, help="learn an N-token WordPiece vocab offline"
    )
    group.add_argument("--workers", type=non_negative_int, default=4, help="loader processes per rank")
    group.add_argument("--resampled", action="store_true", help="draw shards with replacement")
    group.add_argument(
        "--shuffle_buffer",
        type=non_negative_int,
        default=2000,
        help="samples held for shuffling; 0 or 1: none",
    )
    group.add_argument(
        "--epoch_samples",
        type=non_negative_int,
        default=0,
        help="samples per epoch (default: from sizes.json)",
    )
    group.add_argument("--no_augment", action="store_true", help="centre crops instead of random crops")


def optim_arguments(sub: argparse.ArgumentParser) -> None:
    group = sub.add_argument_group("optimisation")
    group.add_argument("--batch_size", type=positive_int, default=256, help="per rank and micro-batch")
    group.add_argument("--accum_freq", type=positive_int, default=1, help="micro-batches per step")
    group.add_argument("--epochs", type=positive_int, default=1, help="passes over the data (unless --steps)")
    group.add_argument("--steps", type=non_negative_int, default=0, help="total steps (default: from epochs)")
    # AdamW refuses these itself, but only once the run folder and its tokenizer are written
    group.add_argument(
        "--lr", type=non_negative_float, default=5e-4, help="peak learning rate (cosine schedule)"
    )
    group.add_argument("--weight_decay", type=non_negative_float, default=0.2, help="AdamW weight decay")
    group.add_argument("--beta1", type=fraction, default=0.9, help="AdamW beta1")
    group.add_argument("--beta2", type=fraction, default=0.98, help="AdamW beta2")
    group.add_argument("--eps", type=non_negative_float, default=1e-6, help="AdamW epsilon")
    group.add_argument(
        "--warmup", type=non_negative_int, default=1000, help="steps of linear learning-rate warm-up"
    )
    group.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto", help=PRECISION_HELP)
    group.add_argument(
        "--grad_checkpointing",
        action="store_true",
        help="recompute activations backwards: less memory, slower",
    )
    group.add_argument(
        "--compile",
        nargs="?",
        const="inductor",
        default="",
        metavar="BACKEND",
        help="torch.compile the model (backend: inductor unless named)",
    )
    group.add_argument("--device", default="auto", help="auto | cuda | cuda:N | cpu")
    group.add_argument(
        "--seed", type=int, default=0, help="seeds initialisation, data order and augmentation"
    )
    group.add_argument(
        "--checkpoint_every", type=positive_int, default=1000, help="steps between checkpoints"
    )
    group.add_argument("--keep_checkpoints", type=positive_int, default=2, help="newest checkpoints kept")
    group.add_argument("--log_every", type=positive_int, default=50, help="steps between metrics lines")
    group.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")


def size_list(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"must be positive integers separated by commas, got {text!r}")
    return sizes


def vocab_size(text: str) -> int:
    """The synthetic captions draw token ids from 5 up (0-4 are BERT's special tokens), so a
    smaller vocabulary fails in ``torch.randint`` instead of measuring anything."""
    value = int(text)
    if value <= 5:
        raise argparse.ArgumentTypeError(f"must be more than 5 (ids 0-4 are special tokens), got {text}")
    return value


def variant_list(text: str) -> tuple[tuple[bool, bool], ...]:
    from pmc15m.train.throughput import VARIANTS  # late: throughput imports torch, the CLI must not

    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in VARIANTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(VARIANTS)} (comma-separated), got {text!r}")
    return tuple(VARIANTS[name] for name in names)
