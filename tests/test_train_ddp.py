"""DDP on two CPU processes (gloo on 127.0.0.1) matches one process on the same global batch.

Each rank trains on its half of a fixed global batch; the contrastive loss gathers the
other rank's features with gradients, and DDP averages the gradients. Losses (averaged over
ranks) and gradients must equal those of one process that sees the whole batch, with and
without gradient accumulation, over two optimiser steps.
"""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from train_support import TINY, synthetic_batch

from pmc15m.train.distributed import DistEnv, init_distributed, shutdown
from pmc15m.train.model import ModelConfig, build_model
from pmc15m.train.step import make_step_context, train_step
from pmc15m.train.train import TrainConfig

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


def _worker(rank: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank))
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    env = init_distributed("cpu")
    try:
        results = {accum: _run(env, accum) for accum in (1, 2)}
    finally:
        shutdown(env)
    if rank == 0:
        torch.save(results, out)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.timeout(300)
def test_two_gloo_ranks_match_one_process(tmp_path):
    out = str(tmp_path / "ddp.pt")
    mp.spawn(_worker, args=(_free_port(), out), nprocs=2, join=True)
    distributed = torch.load(out)
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
