"""The training loop: BiomedCLIP's recipe on the shards, on one device or many via torchrun.

AdamW (lr 5e-4, weight decay 0.2 off gains/biases/scale, betas 0.9/0.98, eps 1e-6) with a
linear warm-up and a cosine decay; bf16 autocast where the device has it; optional layer
recomputation and ``torch.compile``; DDP across ranks with the contrastive loss taking its
negatives from all of them.

Gradient accumulation and the DDP step live in ``step``.

Every ``checkpoint_every`` steps the run saves what ``checkpoint`` lists; ``resume`` picks up
the newest and continues with the same batches, the same random draws and the same losses.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.distributed as dist

from pmc15m.shards.format import SIZES_JSON
from pmc15m.train.checkpoint import (
    RESUME_KEYS,
    list_checkpoints,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from pmc15m.train.config import TrainConfig
from pmc15m.train.data import BatchStream, DataError, LoaderConfig, epoch_size, expand_shards, read_captions
from pmc15m.train.distributed import DistEnv, all_gather_object, barrier, init_distributed, shutdown
from pmc15m.train.model import ClipModel, ModelConfig, build_model, dual_encoder_from_config
from pmc15m.train.step import StepContext, make_step_context, to_device, train_step
from pmc15m.train.tokenize import load_tokenizer, train_wordpiece

log = logging.getLogger(__name__)


class TrainError(ValueError):
    """Settings or a run folder the trainer cannot work with."""


@dataclass
class TrainResult:
    losses: list[float] = field(default_factory=list)  # per step, averaged over ranks
    step: int = 0
    checkpoint: str | None = None
    bad_samples: dict[str, int] = field(default_factory=dict)
    samples_per_second: float = 0.0


@dataclass
class _Run:
    env: DistEnv
    ctx: StepContext
    stream: BatchStream
    total_steps: int
    model_cfg: ModelConfig
    step: int = 0


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _tokenizer_and_model(
    cfg: TrainConfig, env: DistEnv, shards: list[str], state: dict | None, model_cfg: ModelConfig
) -> tuple[object, ClipModel]:
    """The tokenizer from the run's own copy in ``<output>/tokenizer``, and the model.

    Rank 0 learns or loads the tokenizer and builds the model before it writes that copy,
    so a mistyped ``--tokenizer``, ``--vision`` or ``--text`` fails before the run folder
    exists. The other ranks read the copy after the barrier and build their model then;
    ``_load_model`` seeds itself, so every rank starts from the same weights either way.
    """
    folder = os.path.join(cfg.output, "tokenizer")
    model = None
    if env.is_main and not (state is not None and os.path.isdir(folder)):
        fresh = _new_tokenizer(cfg, shards, model_cfg.context_length)
        model = _load_model(state, model_cfg, len(fresh), cfg)
        os.makedirs(cfg.output, exist_ok=True)
        fresh.save_pretrained(folder)
    barrier(env)
    tokenizer = load_tokenizer(folder, model_cfg.context_length)
    if model is None:
        model = _load_model(state, model_cfg, len(tokenizer), cfg)
    return tokenizer, model


def _new_tokenizer(cfg: TrainConfig, shards: list[str], context: int):
    """A WordPiece vocabulary learned from the captions, or the named tokenizer (in memory)."""
    if cfg.tokenizer_vocab <= 0:
        return load_tokenizer(cfg.tokenizer, context)
    captions = read_captions(shards, limit=1_000_000)
    tokenizer = train_wordpiece(captions, cfg.tokenizer_vocab, context)
    log.info("built a %d-token WordPiece vocabulary from %d captions", len(tokenizer), len(captions))
    return tokenizer


def _loader_config(cfg: TrainConfig, model_cfg: ModelConfig, shards: list[str]) -> LoaderConfig:
    return LoaderConfig(
        shards=tuple(shards),
        batch_size=cfg.batch_size,
        image_size=model_cfg.image_size,
        context_length=model_cfg.context_length,
        train=True,
        resampled=cfg.resampled,
        shuffle_buffer=cfg.shuffle_buffer,
        workers=cfg.workers,
        seed=cfg.seed,
        epoch_samples=cfg.epoch_samples,
        draft=cfg.draft,
        augment=cfg.augment,
    )


def _load_model(state: dict | None, model_cfg: ModelConfig, vocab_size: int, cfg: TrainConfig) -> ClipModel:
    seed_everything(cfg.seed)  # the same initial weights on every rank
    if state is None:
        model = build_model(model_cfg, vocab_size)
    else:
        model = ClipModel(dual_encoder_from_config(state["architecture"]))
        model.load_state_dict(state["model"])
    if cfg.grad_checkpointing:
        model.enable_checkpointing()
    return model


def _setup(cfg: TrainConfig, model_cfg: ModelConfig, env: DistEnv) -> _Run:
    shards = expand_shards(cfg.data)
    existing = list_checkpoints(os.path.join(cfg.output, "checkpoints"))
    if existing and not cfg.resume:
        raise TrainError(f"{cfg.output} already holds checkpoints; pass --resume or choose a new --output")
    state = load_checkpoint(existing[-1], keys=RESUME_KEYS) if cfg.resume and existing else None
    if state is not None:
        model_cfg = ModelConfig(**state["model_config"])  # the run's own architecture and sizes
    if not cfg.resampled and len(shards) < env.world_size:
        raise TrainError(
            f"{len(shards)} shard(s) cannot be split over {env.world_size} ranks; "
            "give more shards or pass --resampled"
        )
    loader_cfg = _loader_config(cfg, model_cfg, shards)
    global_batch = cfg.batch_size * env.world_size * cfg.accum_freq
    total = cfg.steps or cfg.epochs * max(1, loader_cfg.samples_per_epoch() // global_batch)
    if cfg.resampled:
        loader_cfg.samples_per_epoch()  # resampled epochs need sizes.json: fail before loading models
    _check_batch_fits(cfg, loader_cfg, env)
    tokenizer, model = _tokenizer_and_model(cfg, env, shards, state, model_cfg)
    model = model.to(env.device)
    ctx = make_step_context(model, env, cfg, total)
    step, position = 0, (0, 0)
    if state is None:
        seed_everything(cfg.seed + env.rank)  # dropout differs between ranks
    else:
        ctx.optimizer.load_state_dict(state["optimizer"])
        ctx.scheduler.load_state_dict(state["scheduler"])
        step, position = state["step"], _rank_position(state, env)
        set_rng_state(state["rng"][env.rank])
    stream = BatchStream(loader_cfg, tokenizer, env.world_size, position)
    return _Run(env, ctx, stream, total, model_cfg, step)


def _check_batch_fits(cfg: TrainConfig, loader_cfg: LoaderConfig, env: DistEnv) -> None:
    """Refuse a batch larger than the shards' share of one rank, before anything is written.

    Batches are full or dropped, so a rank whose shards hold fewer samples than one batch
    would fail in its first epoch, after the run folder was made. Only sizes.json counts
    are checked: ``--epoch_samples`` sets an epoch's length, not the data's, and resampled
    shards are drawn again and again until batches fill.
    """
    if cfg.resampled or cfg.epoch_samples:
        return
    try:
        samples = epoch_size(loader_cfg.shards)
    except DataError:  # --steps given and no sizes.json: nothing to check against
        return
    if samples < cfg.batch_size * env.world_size:
        raise TrainError(
            f"the shards hold {samples} samples ({SIZES_JSON}), fewer than one batch of {cfg.batch_size} "
            f"for each of {env.world_size} rank(s); lower --batch_size"
        )


def _rank_position(state: dict, env: DistEnv) -> tuple[int, int]:
    positions = state["positions"]
    if len(positions) != env.world_size:
        epoch = max(p[0] for p in positions) + 1
        log.warning(
            "checkpoint from %d ranks, running on %d: data restarts at epoch %d",
            len(positions),
            env.world_size,
            epoch,
        )
        return epoch, 0
    epoch, batch = positions[env.rank]
    return epoch, batch


def _save(cfg: TrainConfig, run: _Run) -> str | None:
    """Gather every rank's RNG state and loader position; rank 0 writes the checkpoint."""
    rngs = all_gather_object(run.env, rng_state())
    positions = all_gather_object(run.env, list(run.stream.position()))
    if not run.env.is_main:
        return None
    state = {
        "model": run.ctx.model.state_dict(),
        "optimizer": run.ctx.optimizer.state_dict(),
        "scheduler": run.ctx.scheduler.state_dict(),
        "step": run.step,
        "rng": rngs,
        "positions": positions,
        "architecture": run.ctx.model.hf.config.to_dict(),
        "model_config": asdict(run.model_cfg),
        "train_config": asdict(cfg),
    }
    return save_checkpoint(os.path.join(cfg.output, "checkpoints"), run.step, state, cfg.keep_checkpoints)


def _mean_over_ranks(env: DistEnv, losses: list[torch.Tensor]) -> list[float]:
    values = torch.stack(losses).float()
    if env.distributed:
        values = values.to(env.device)
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= env.world_size
    return values.cpu().tolist()


def _log(cfg: TrainConfig, run: _Run, loss: float, rate: float) -> None:
    record = {
        "step": run.step,
        "loss": round(loss, 6),
        "lr": run.ctx.scheduler.get_last_lr()[-1],
        "logit_scale": round(float(run.ctx.model.logit_scale.detach().exp()), 4),
        "samples_per_s": round(rate, 2),
        "bad_samples": sum(run.stream.bad_samples.values()),
    }
    log.info(
        "step %d/%d loss %.4f lr %.3g logit scale %.2f %.1f samples/s",
        run.step,
        run.total_steps,
        loss,
        record["lr"],
        record["logit_scale"],
        rate,
    )
    if run.env.is_main:
        with open(os.path.join(cfg.output, "metrics.jsonl"), "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def _loop(cfg: TrainConfig, run: _Run) -> TrainResult:
    result, pending = TrainResult(step=run.step), []
    batches: Iterator[dict] = iter(run.stream)
    samples_per_step = cfg.batch_size * run.env.world_size * cfg.accum_freq
    started, since = time.perf_counter(), run.step
    run.ctx.model.train()
    while run.step < run.total_steps:
        micro = [to_device(next(batches), run.env.device) for _ in range(cfg.accum_freq)]
        pending.append(train_step(run.ctx, micro))
        run.step += 1
        last = run.step == run.total_steps
        if run.step % cfg.log_every == 0 or last:
            values = _mean_over_ranks(run.env, pending)
            result.losses += values
            elapsed = time.perf_counter() - started
            result.samples_per_second = (run.step - since) * samples_per_step / max(elapsed, 1e-9)
            _log(cfg, run, values[-1], result.samples_per_second)
            pending = []
        if run.step % cfg.checkpoint_every == 0 or last:
            result.checkpoint = _save(cfg, run) or result.checkpoint
    result.step, result.bad_samples = run.step, dict(run.stream.bad_samples)
    return result


def train(cfg: TrainConfig, model_cfg: ModelConfig) -> TrainResult:
    """Train (or resume) a run; under torchrun every rank calls this.

    Nothing is written before every setting that depends on the user (shards, epoch size,
    checkpoints to resume, tokenizer, towers) has been checked: a refused run leaves no
    empty run folder behind (rank 0 makes it in ``_tokenizer_and_model``).
    """
    if cfg.batch_size <= 0 or cfg.accum_freq <= 0 or cfg.log_every <= 0 or cfg.checkpoint_every <= 0:
        raise TrainError("batch size, accumulation, log and checkpoint intervals must be positive")
    env = init_distributed(cfg.device)
    try:
        result = _loop(cfg, _setup(cfg, model_cfg, env))
    except BaseException:
        shutdown(env, wait_for_peers=False)
        raise
    shutdown(env)
    return result
