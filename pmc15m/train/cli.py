"""``pmc15m train``, ``pmc15m evaluate`` and ``pmc15m export``.

Registered by ``pipelines.cli.main`` through ``register(commands)``. This module imports nothing
heavy: torch and transformers load inside the handlers, so ``pmc15m --help`` stays fast.
Errors in what the user gave (no shards, no tokenizer, a run folder already used, no
checkpoint) leave as ``pmc15m.core.errors.UserError``, which the command line prints as one line,
exit 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys

from pmc15m.core.argtypes import (
    existing_folder,
    file_to_write,
    folder_to_write,
    non_negative_float,
    non_negative_int,
    positive_int,
    shard_pattern,
)
from pmc15m.core.errors import UserError
from pmc15m.train.config import TrainConfig
from pmc15m.train.options import (
    PRECISION_HELP,
    data_arguments,
    model_arguments,
    optim_arguments,
    size_list,
    variant_list,
    vocab_size,
)
from pmc15m.train.tokenize import BIOMEDBERT

log = logging.getLogger(__name__)


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
    model_arguments(bench)
    group = bench.add_argument_group("benchmark")
    group.add_argument("--vocab_size", type=vocab_size, default=30522, help="text vocabulary (BiomedBERT's)")
    group.add_argument(
        "--batch_sizes",
        type=size_list,
        default="64,128,256,512,1024,2048",  # argparse passes a string default through size_list
        help="batch sizes to try, comma-separated, ascending until one runs out of memory",
    )
    group.add_argument(
        "--text_tokens", type=non_negative_int, default=0, help="caption length (0: the context)"
    )
    group.add_argument("--steps", type=positive_int, default=10, help="timed steps per batch size")
    group.add_argument("--warmup_steps", type=positive_int, default=3, help="untimed steps first")
    group.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto", help=PRECISION_HELP)
    group.add_argument("--device", default="auto", help="auto | cuda | cuda:N | cpu")
    group.add_argument(
        "--compile_backend", default="inductor", help="torch.compile backend of the compile variants"
    )
    group.add_argument(
        "--variants", type=variant_list, default=None, help="plain,compile,ckpt,compile+ckpt (default: all)"
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
    data_arguments(train)
    model_arguments(train)
    optim_arguments(train)
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
