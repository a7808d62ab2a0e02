"""``pmc15m train``, ``pmc15m evaluate`` and ``pmc15m export``.

Registered by ``pipelines.cli`` through ``register(commands)``. This module imports nothing
heavy: torch and transformers load inside the handlers, so ``pmc15m --help`` stays fast.
Errors in what the user gave (no shards, no tokenizer, a run folder already used, no
checkpoint) leave as ``pmc15m.errors.UserError``, which the command line prints as one line,
exit 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys

from pmc15m.argtypes import (
    existing_folder,
    file_to_write,
    folder_to_write,
    fraction,
    non_negative_float,
    non_negative_int,
    positive_int,
    shard_pattern,
)
from pmc15m.errors import UserError
from pmc15m.train.config import TrainConfig
from pmc15m.train.tokenize import BIOMEDBERT

log = logging.getLogger(__name__)

_PRECISION_HELP = "auto: bf16 autocast on CUDA, fp32 elsewhere"


def _model_arguments(sub: argparse.ArgumentParser) -> None:
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


def _data_arguments(sub: argparse.ArgumentParser) -> None:
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


def _optim_arguments(sub: argparse.ArgumentParser) -> None:
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
    group.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto", help=_PRECISION_HELP)
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


def _configs_model(args: argparse.Namespace):
    """The model settings; an image smaller than one patch of a preset ViT is refused here, as
    the tower would be built and only its first forward pass would fail, with a traceback."""
    from pmc15m.train.model import VISION_PRESETS, ModelConfig

    patch = VISION_PRESETS.get(args.vision, {}).get("patch_size", 0)
    if args.image_size < patch:
        raise UserError(
            f"--image_size {args.image_size} is smaller than one {args.vision} patch ({patch} px)"
        )
    return ModelConfig(
        vision=args.vision,
        text=args.text,
        image_size=args.image_size,
        context_length=args.context_length,
        projection_dim=args.projection_dim,
        dropout=args.dropout,
    )


def _configs(args: argparse.Namespace):
    model_cfg = _configs_model(args)
    names = {f.name for f in dataclasses.fields(TrainConfig)} - {"betas", "tokenizer", "augment", "draft"}
    train_cfg = TrainConfig(
        **{name: getattr(args, name) for name in names},
        tokenizer=args.tokenizer
        or (args.text if args.text not in ("bert-base", "bert-tiny") else BIOMEDBERT),
        betas=(args.beta1, args.beta2),
        augment=not args.no_augment,
    )
    return train_cfg, model_cfg


def _user_errors() -> tuple[type[Exception], ...]:
    from pmc15m.train.checkpoint import CheckpointError
    from pmc15m.train.data import DataError
    from pmc15m.train.distributed import DeviceError
    from pmc15m.train.evaluate import EvaluationError
    from pmc15m.train.model import ModelError
    from pmc15m.train.tokenize import TokenizerError
    from pmc15m.train.train import TrainError

    return (
        CheckpointError,
        DataError,
        DeviceError,
        EvaluationError,
        ModelError,
        TokenizerError,
        TrainError,
        FileNotFoundError,
    )


def _check_no_extra(extra: list[str]) -> None:
    if extra:
        raise UserError(f"unrecognized arguments: {' '.join(extra)}")


def _check_compile_backend(name: str, option: str) -> None:
    """``torch.compile`` looks its backend up only when the model is wrapped, after the run
    folder and its tokenizer are written; an unknown name is refused before that."""
    import torch._dynamo

    if name not in torch._dynamo.list_backends(exclude_tags=()):
        common = ", ".join(torch._dynamo.list_backends())
        raise UserError(f"{option} {name!r}: no such torch.compile backend (e.g. {common})")


def run_train_command(args: argparse.Namespace, extra: list[str]) -> int:
    _check_no_extra(extra)
    if args.compile:
        _check_compile_backend(args.compile, "--compile")
    from pmc15m.train.train import train

    if int(os.environ.get("RANK", "0")) == 0 and logging.getLogger().level > logging.INFO:
        logging.getLogger("pmc15m.train").setLevel(logging.INFO)  # progress lines from rank 0
    try:
        result = train(*_configs(args))
    except _user_errors() as exc:
        raise UserError(str(exc)) from exc
    if int(os.environ.get("RANK", "0")) == 0:
        summary = {
            "steps": result.step,
            "final_loss": result.losses[-1] if result.losses else None,
            "samples_per_second": round(result.samples_per_second, 2),
            "checkpoint": result.checkpoint,
            "bad_samples": result.bad_samples,
        }
        sys.stdout.write(json.dumps(summary) + "\n")
    return 0


def run_evaluate_command(args: argparse.Namespace, extra: list[str]) -> int:
    _check_no_extra(extra)
    if not args.data and not args.zeroshot:
        raise UserError("give --data (retrieval) and/or --zeroshot (a folder of class folders)")
    from pmc15m.train.distributed import resolve_device
    from pmc15m.train.evaluate import evaluate_retrieval, zero_shot
    from pmc15m.train.export import load_trained

    report: dict = {"model": args.model}
    try:
        device = str(resolve_device(args.device))
        trained = load_trained(args.model)
        if args.data:
            result = evaluate_retrieval(trained, args.data, args.batch_size, args.workers, device)
            report["retrieval"] = dataclasses.asdict(result)
        if args.zeroshot:
            report["zeroshot"] = dataclasses.asdict(zero_shot(trained, args.zeroshot, device=device))
    except _user_errors() as exc:
        raise UserError(str(exc)) from exc
    text = json.dumps(report, indent=2)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


def run_export_command(args: argparse.Namespace, extra: list[str]) -> int:
    _check_no_extra(extra)
    from pmc15m.train.export import export_hf

    try:
        export_hf(args.model, args.output)
    except _user_errors() as exc:
        raise UserError(str(exc)) from exc
    sys.stdout.write(f"exported to {args.output}\n")
    return 0


def _size_list(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"must be positive integers separated by commas, got {text!r}")
    return sizes


def _vocab_size(text: str) -> int:
    """The synthetic captions draw token ids from 5 up (0-4 are BERT's special tokens), so a
    smaller vocabulary fails in ``torch.randint`` instead of measuring anything."""
    value = int(text)
    if value <= 5:
        raise argparse.ArgumentTypeError(f"must be more than 5 (ids 0-4 are special tokens), got {text}")
    return value


def _variant_list(text: str) -> tuple[tuple[bool, bool], ...]:
    from pmc15m.train.throughput import VARIANTS

    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in VARIANTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(VARIANTS)} (comma-separated), got {text!r}")
    return tuple(VARIANTS[name] for name in names)


def run_benchmark_command(args: argparse.Namespace, extra: list[str]) -> int:
    _check_no_extra(extra)
    from pmc15m.train.throughput import VARIANTS, ThroughputConfig, markdown_table, measure

    logging.getLogger("pmc15m.train").setLevel(logging.INFO)
    model_cfg = _configs_model(args)
    variants = args.variants or tuple(VARIANTS.values())
    if any(compiled for compiled, _ in variants):
        _check_compile_backend(args.compile_backend, "--compile_backend")
    if args.text_tokens > model_cfg.context_length:
        raise UserError(
            f"--text_tokens {args.text_tokens} exceeds --context_length {model_cfg.context_length}"
        )
    cfg = ThroughputConfig(
        model=model_cfg,
        vocab_size=args.vocab_size,
        batch_sizes=args.batch_sizes,
        text_tokens=args.text_tokens,
        steps=args.steps,
        warmup_steps=args.warmup_steps,
        precision=args.precision,
        device=args.device,
        compile_backend=args.compile_backend,
        variants=variants,
        peak_tflops=args.peak_tflops,
    )
    try:
        rows, facts = measure(cfg)
    except _user_errors() as exc:
        raise UserError(str(exc)) from exc
    if args.report:
        with open(args.report, "w", encoding="utf-8") as handle:
            json.dump({"facts": facts, "rows": [dataclasses.asdict(r) for r in rows]}, handle, indent=2)
    sys.stdout.write(markdown_table(rows, facts))
    return 0


def _benchmark_parser(commands) -> None:
    bench = commands.add_parser(
        "train-benchmark",
        help="training samples/s, memory and MFU at the largest batch that fits (synthetic inputs)",
        description="Times the real training step on synthetic inputs for each variant (compile, "
        "gradient checkpointing) at ascending batch sizes until one runs out of memory.",
    )
    _model_arguments(bench)
    group = bench.add_argument_group("benchmark")
    group.add_argument("--vocab_size", type=_vocab_size, default=30522, help="text vocabulary (BiomedBERT's)")
    group.add_argument(
        "--batch_sizes",
        type=_size_list,
        default="64,128,256,512,1024,2048",  # argparse passes a string default through _size_list
        help="batch sizes to try, comma-separated, ascending until one runs out of memory",
    )
    group.add_argument(
        "--text_tokens", type=non_negative_int, default=0, help="caption length (0: the context)"
    )
    group.add_argument("--steps", type=positive_int, default=10, help="timed steps per batch size")
    group.add_argument("--warmup_steps", type=positive_int, default=3, help="untimed steps first")
    group.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto", help=_PRECISION_HELP)
    group.add_argument("--device", default="auto", help="auto | cuda | cuda:N | cpu")
    group.add_argument(
        "--compile_backend", default="inductor", help="torch.compile backend of the compile variants"
    )
    group.add_argument(
        "--variants", type=_variant_list, default=None, help="plain,compile,ckpt,compile+ckpt (default: all)"
    )
    group.add_argument(
        "--peak_tflops", type=non_negative_float, default=0.0, help="device peak for MFU (default: looked up)"
    )
    group.add_argument("--report", type=file_to_write, help="also write the results as JSON to this file")
    bench.set_defaults(handler=run_benchmark_command)


def register(commands) -> None:
    """Add ``train``, ``evaluate`` and ``export`` to the ``pmc15m`` command line."""
    train = commands.add_parser(
        "train",
        help="pretrain a CLIP model on the shards (BiomedCLIP recipe)",
        description="Train ViT + BERT with a contrastive loss. Under torchrun every rank runs this.",
    )
    _data_arguments(train)
    _model_arguments(train)
    _optim_arguments(train)
    train.set_defaults(handler=run_train_command)

    evaluate = commands.add_parser("evaluate", help="retrieval recall@k on a split; zero-shot on a folder")
    evaluate.add_argument("--model", required=True, help="run folder, checkpoint file or exported folder")
    evaluate.add_argument(
        "--data", type=shard_pattern, help="shards of the split, e.g. 'out/test/{00000..00003}.tar'"
    )
    evaluate.add_argument(
        "--zeroshot", type=existing_folder, help="folder with one sub-folder of images per class name"
    )
    evaluate.add_argument("--batch_size", type=positive_int, default=256, help="samples per forward pass")
    evaluate.add_argument("--workers", type=non_negative_int, default=2, help="loader processes")
    evaluate.add_argument("--device", default="auto", help="auto | cuda | cuda:N | cpu")
    evaluate.add_argument("--report", type=file_to_write, help="also write the JSON report to this file")
    evaluate.set_defaults(handler=run_evaluate_command)

    export = commands.add_parser("export", help="write a trained model as a Hugging Face model folder")
    export.add_argument("--model", required=True, help="run folder, checkpoint file or exported folder")
    export.add_argument("--output", type=folder_to_write, required=True, help="folder to write")
    export.set_defaults(handler=run_export_command)
    _benchmark_parser(commands)
