"""The training loop on real shards: the loss falls, a small set is fitted, resume is exact."""

from __future__ import annotations

import math
import shutil

import pytest
import torch
from support.train_support import (
    TINY,
    caption_tokenizer,
    demo_samples,
    one_thread,
    pattern,
    reshard_demo,
    write_shards,
)

from pmc15m.train.checkpoint import list_checkpoints, load_checkpoint
from pmc15m.train.config import TrainConfig
from pmc15m.train.evaluate import evaluate_retrieval
from pmc15m.train.export import load_trained
from pmc15m.train.model import ModelConfig
from pmc15m.train.train import TrainError, train


@pytest.fixture(scope="module")
def shards(demo_build, tmp_path_factory):
    return reshard_demo(demo_build, tmp_path_factory.mktemp("shards"))


@pytest.fixture(scope="module")
def tokenizer_folder(demo_build, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tokenizer")
    caption_tokenizer(demo_build, folder)
    return str(folder)


@pytest.fixture(autouse=True)
def _single_thread():
    with one_thread():
        yield


def _config(data: str, output, tokenizer: str, **overrides) -> TrainConfig:
    settings = {
        "tokenizer": tokenizer,
        "batch_size": 16,
        "warmup": 2,
        "workers": 2,
        "shuffle_buffer": 100,
        "log_every": 4,
    }
    return TrainConfig(data=data, output=str(output), **(settings | overrides))


def test_loss_falls_on_the_demo_shards(shards, tokenizer_folder, tmp_path):
    # The recipe's settings (weight decay 0.2, random crops) with a tiny model, 24 steps.
    # Demo captions are drawn independently of the demo images, so below chance (ln 16)
    # lies only memorisation, which the next test covers.
    cfg = _config(pattern(shards), tmp_path / "run", tokenizer_folder, steps=24, lr=1e-3)
    result = train(cfg, ModelConfig(**TINY))
    assert len(result.losses) == 24 and result.step == 24
    first, last = sum(result.losses[:4]) / 4, sum(result.losses[-8:]) / 8
    assert last < first - 0.15, result.losses
    assert last < math.log(16) + 0.1
    assert result.bad_samples == {} and result.samples_per_second > 0


def test_overfits_64_pairs_to_high_recall(demo_build, tokenizer_folder, tmp_path):
    shard = write_shards(tmp_path / "pairs", demo_samples(demo_build)[:64], 1)
    cfg = _config(
        str(shard[0]),
        tmp_path / "run",
        tokenizer_folder,
        batch_size=32,
        steps=240,
        lr=2e-3,
        weight_decay=0.0,
        augment=False,
        workers=0,
        log_every=40,
    )
    result = train(cfg, ModelConfig(**TINY, dropout=0.0))  # memorising is what dropout fights
    assert result.losses[-1] < 0.5 * result.losses[0], result.losses
    recall = evaluate_retrieval(load_trained(str(tmp_path / "run")), str(shard[0]), workers=0)
    assert recall.pairs == 64
    assert recall.image_to_text[1] >= 0.9 and recall.text_to_image[1] >= 0.9, (recall, result.losses)
    assert recall.image_to_text[10] >= recall.image_to_text[5] >= recall.image_to_text[1]


def test_resume_continues_exactly_like_the_uninterrupted_run(shards, tokenizer_folder, tmp_path):
    # Dropout on (BERT's 0.1), random crops, shuffling, two loader workers and accumulation:
    # every source of randomness and every piece of state must come back from the checkpoint.
    settings = {"batch_size": 8, "accum_freq": 2, "steps": 6, "checkpoint_every": 3, "keep_checkpoints": 5}
    first = tmp_path / "uninterrupted"
    full = train(_config(pattern(shards), first, tokenizer_folder, **settings), ModelConfig(**TINY))
    assert [int(p[-11:-3]) for p in list_checkpoints(str(first / "checkpoints"))] == [3, 6]
    state = load_checkpoint(str(first / "checkpoints" / "step_00000003.pt"))
    assert state["step"] == 3 and state["positions"] == [[0, 6]]  # 3 steps x 2 micro-batches

    second = tmp_path / "resumed"
    shutil.copytree(first, second)
    (second / "checkpoints" / "step_00000006.pt").unlink()
    torch.manual_seed(12345)  # a different process state: the checkpoint must override it
    resumed = train(
        _config(pattern(shards), second, tokenizer_folder, resume=True, **settings), ModelConfig()
    )
    assert resumed.step == 6
    assert resumed.losses == pytest.approx(full.losses[3:], abs=1e-6)
    final_a = load_checkpoint(str(first / "checkpoints" / "step_00000006.pt"))["model"]
    final_b = load_checkpoint(str(second / "checkpoints" / "step_00000006.pt"))["model"]
    assert all(torch.allclose(final_a[k], final_b[k], atol=1e-6) for k in final_a)


def test_a_used_run_folder_needs_resume(shards, tokenizer_folder, tmp_path):
    cfg = _config(pattern(shards), tmp_path / "run", tokenizer_folder, steps=1, workers=0)
    train(cfg, ModelConfig(**TINY))
    with pytest.raises(TrainError, match="--resume"):
        train(cfg, ModelConfig(**TINY))
