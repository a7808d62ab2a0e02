"""DDP on two CPU processes (gloo on 127.0.0.1) matches one process on the same global batch.

Each rank trains on its half of a fixed global batch; the contrastive loss gathers the
other rank's features with gradients, and DDP averages the gradients. Losses (averaged over
ranks) and gradients must equal those of one process that sees the whole batch, with and
without gradient accumulation, over two optimiser steps. The same two processes then run
the whole training loop (``train``, as torchrun runs ``pmc15m train`` on each rank) on two
shards: each rank reads its own shard, and the checkpoint gathers every rank's RNG state and
loader position.
"""

from __future__ import annotations

import os
import random
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from support.train_support import COLORS, TINY, color_image, pattern, synthetic_batch, write_shards

from pmc15m.train.checkpoint import load_checkpoint
from pmc15m.train.config import TrainConfig
from pmc15m.train.distributed import DistEnv, init_distributed, shutdown
from pmc15m.train.model import ModelConfig, build_model
from pmc15m.train.step import make_step_context, train_step
from pmc15m.train.tokenize import train_wordpiece
from pmc15m.train.train import train

GLOBAL_BATCH, STEPS, VOCAB = 16, 2, 100


def _run(env: DistEnv, accum: int) -> tuple[list[float], torch.Tensor]:
    """Two steps on this rank's share of the global batches; losses averaged over ranks."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(**TINY, dropout=0.0), vocab_size=VOCAB)
    ctx = make_step_context(model, env, TrainConfig(data="-", output="-", warmup=1), total_steps=10)
    share = GLOBAL_BATCH // env.world_size
    losses = []
    for step in range(STEPS):
        batch = synthetic_batch(GLOBAL_BATCH, VOCAB, seed=step)
        mine = {k: v[env.rank * share : (env.rank + 1) * share] for k, v in batch.items()}
        size = share // accum
        micro = [{k: v[i * size : (i + 1) * size] for k, v in mine.items()} for i in range(accum)]
        loss = train_step(ctx, micro)
        if env.distributed:
            dist.all_reduce(loss)
            loss /= env.world_size
        losses.append(float(loss))
    return losses, torch.cat([p.grad.flatten() for p in model.parameters()])


def _worker(rank: int, port: int, out: str, data: str, tokenizer: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank))
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    env = init_distributed("cpu")
    try:
        results = {accum: _run(env, accum) for accum in (1, 2)}
        # The whole loop under the same group, as torchrun runs ``pmc15m train`` on each rank.
        cfg = TrainConfig(
            data=data,
            output=os.path.join(os.path.dirname(out), "run"),
            tokenizer=tokenizer,
            batch_size=4,
            steps=2,
            warmup=1,
            workers=0,
            shuffle_buffer=10,
            log_every=1,
        )
        loop = train(cfg, ModelConfig(**TINY))
    except BaseException:
        shutdown(env, wait_for_peers=False)
        raise
    shutdown(env)
    torch.save({"results": results, "losses": loop.losses}, f"{out}.{rank}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _colour_shards(folder) -> tuple[str, str]:
    """Two shards of 16 pairs (one per rank) and a tokenizer learned from their captions."""
    rng = random.Random(0)
    samples = [
        (f"k{i:02d}_{name}", {"jpg": color_image(rgb, rng, size=24), "txt": f"a {name} square".encode()})
        for i in range(4)
        for name, rgb in COLORS.items()
    ]
    shards = write_shards(folder / "shards", samples * 2, 2)
    train_wordpiece([f"a {name} square" for name in COLORS], 60, TINY["context_length"]).save_pretrained(
        folder / "tokenizer"
    )
    return pattern(shards), str(folder / "tokenizer")


@pytest.mark.timeout(300)
def test_two_gloo_ranks_match_one_process(tmp_path):
    out = str(tmp_path / "ddp.pt")
    mp.spawn(_worker, args=(_free_port(), out, *_colour_shards(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(f"{out}.{rank}") for rank in (0, 1)]
    distributed = ranks[0]["results"]
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single_losses, single_grads = _run(DistEnv(0, 1, 0, torch.device("cpu")), accum=1)
    finally:
        torch.set_num_threads(previous)
    for accum, (losses, grads) in distributed.items():
        assert losses == pytest.approx(single_losses, abs=1e-5), accum
        assert torch.allclose(grads, single_grads, rtol=1e-4, atol=1e-6), accum
    assert single_losses[1] != single_losses[0]  # the second step saw updated weights
    # The training loop: both ranks log the same rank-averaged losses, one checkpoint holds
    # each rank's loader position (2 batches each, from its own shard) and RNG state.
    assert ranks[0]["losses"] == ranks[1]["losses"] and len(ranks[0]["losses"]) == 2
    state = load_checkpoint(str(tmp_path / "run"))
    assert state["step"] == 2 and state["positions"] == [[0, 2], [0, 2]] and len(state["rng"]) == 2
