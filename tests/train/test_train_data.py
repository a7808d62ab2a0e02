"""The streaming loader: rank/worker splitting, epochs, resampling, positions, bad samples."""

from __future__ import annotations

import io
import itertools
import json

import pytest
import torch
from PIL import Image
from support.train_support import caption_tokenizer, demo_samples, pattern, reshard_demo, write_shards

from pmc15m.train.data import (
    BatchStream,
    DataError,
    LoaderConfig,
    epoch_size,
    expand_shards,
    is_report,
    make_loader,
)


@pytest.fixture(scope="module")
def shards(demo_build, tmp_path_factory):
    return reshard_demo(demo_build, tmp_path_factory.mktemp("shards"))


@pytest.fixture(scope="module")
def tokenizer(demo_build, tmp_path_factory):
    return caption_tokenizer(demo_build, tmp_path_factory.mktemp("tokenizer"))


def _config(shards, **overrides) -> LoaderConfig:
    settings = {"batch_size": 8, "image_size": 32, "context_length": 64, "workers": 2, "shuffle_buffer": 50}
    return LoaderConfig(shards=tuple(str(s) for s in shards), **(settings | overrides))


def _keys(cfg, tokenizer, epoch=0) -> list[str]:
    return [
        key for batch in make_loader(cfg, tokenizer, epoch) if not is_report(batch) for key in batch["keys"]
    ]


def _as_rank(monkeypatch, rank: int, world: int = 2) -> None:
    # What torchrun sets; wds.split_by_node and the loader's seeds read it.
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setenv("WORLD_SIZE", str(world))


def test_epoch_size_and_brace_patterns(demo_build, shards, tmp_path):
    shards = expand_shards(pattern(shards))
    assert shards == [str(p) for p in shards]
    assert epoch_size(shards) == len(demo_samples(demo_build))
    (tmp_path / "sizes.json").write_text(json.dumps({"00000.tar": 3}))
    assert epoch_size([str(tmp_path / "00000.tar")]) == 3
    with pytest.raises(DataError, match="not listed"):
        epoch_size([str(tmp_path / "00001.tar")])
    with pytest.raises(DataError, match=r"sizes\.json"):
        epoch_size([str(tmp_path / "elsewhere" / "00000.tar")])


def test_each_sample_exactly_once_per_epoch_across_2_ranks_x_2_workers(
    monkeypatch, demo_build, shards, tokenizer
):
    expected = sorted(key for key, _ in demo_samples(demo_build))
    cfg = _config(shards, drop_last=False)  # training shuffles, but keeps the tails
    orders = []
    for epoch in (0, 1):
        per_rank = []
        for rank in (0, 1):
            _as_rank(monkeypatch, rank)
            per_rank.append(_keys(cfg, tokenizer, epoch))
        assert all(per_rank), "every rank gets shards"
        assert not set(per_rank[0]) & set(per_rank[1])
        merged = per_rank[0] + per_rank[1]
        assert sorted(merged) == expected  # exactly once: nothing missing, nothing twice
        orders.append(merged)
    assert orders[0] != orders[1], "shards and samples are reshuffled each epoch"


def test_resampled_epochs_have_equal_length_on_every_rank(monkeypatch, shards, tokenizer):
    cfg = _config(shards, resampled=True, batch_size=16, epoch_samples=200)
    per_worker = cfg.worker_batches(world_size=2)
    assert per_worker == 4  # ceil(200 / (2 ranks * 2 workers * 16))
    streams = {}
    for rank in (0, 1):
        _as_rank(monkeypatch, rank)
        batches = [b for b in make_loader(cfg, tokenizer, epoch=0, world_size=2) if not is_report(b)]
        assert len(batches) == per_worker * cfg.workers
        streams[rank] = [b["keys"] for b in batches]
        again = [b["keys"] for b in make_loader(cfg, tokenizer, epoch=0, world_size=2) if not is_report(b)]
        assert again == streams[rank], "a (seed, epoch, rank) always draws the same samples"
    assert streams[0] != streams[1]


def test_stream_resumes_at_a_position_with_identical_batches(shards, tokenizer):
    cfg = _config(shards, workers=2)  # augmentation on: crops must repeat too
    first = BatchStream(cfg, tokenizer)
    taken = list(itertools.islice(iter(first), 5))
    assert first.position() == (0, 5)
    resumed = BatchStream(cfg, tokenizer, position=(0, 2))
    again = list(itertools.islice(iter(resumed), 3))
    for a, b in zip(taken[2:], again, strict=True):
        assert a["keys"] == b["keys"]
        assert torch.equal(a["pixel_values"], b["pixel_values"])
        assert torch.equal(a["input_ids"], b["input_ids"])


def _broken_samples(demo_build) -> tuple[list, set[str]]:
    good = demo_samples(demo_build)[:40]
    big = io.BytesIO()
    Image.new("RGB", (1200, 1000), "white").save(big, format="PNG")
    bad = [
        ("bad_corrupt", {"jpg": b"\xff\xd8\xff\xe0 not really a jpeg", "txt": b"a caption"}),
        ("bad_nocaption", {"jpg": good[0][1]["jpg"], "txt": b"   "}),
        ("bad_noimage", {"txt": b"a caption without its figure"}),
        ("bad_huge", {"png": big.getvalue(), "txt": b"a caption for a huge image"}),
    ]
    samples = good[:20] + bad + good[20:]  # the bad ones in shards 1 and 2 (3 gets truncated)
    return samples, {key for key, _ in good}


def test_bad_samples_are_skipped_and_counted(demo_build, tmp_path, tokenizer):
    samples, good = _broken_samples(demo_build)
    shards = write_shards(tmp_path / "shards", samples, 4)
    truncated = shards[3].read_bytes()
    shards[3].write_bytes(truncated[: len(truncated) // 2])  # a download cut short
    cfg = _config(shards, train=False, drop_last=False, max_pixels=1_000_000)
    keys, reported = [], {}
    for batch in make_loader(cfg, tokenizer):
        reported[batch["worker"]] = batch["bad"]
        keys += [] if is_report(batch) else batch["keys"]
    totals: dict[str, int] = {}
    for counts in reported.values():
        for reason, n in counts.items():
            totals[reason] = totals.get(reason, 0) + n
    assert not {k for k in keys if k.startswith("bad_")}
    assert set(keys) < good and len(keys) >= 25  # the truncated shard loses its tail, nothing else
    assert totals["image"] == 3 and totals["caption"] == 1
    assert sum(n for reason, n in totals.items() if reason.startswith("read-")) >= 1


def test_an_epoch_without_a_full_batch_stops_the_stream(demo_build, tmp_path, tokenizer):
    shard = write_shards(tmp_path / "few", demo_samples(demo_build)[:5], 1)
    stream = BatchStream(_config(shard, batch_size=8, workers=0), tokenizer)
    with pytest.raises(DataError, match="no full batch of 8"):  # not an endless loop over epochs
        next(iter(stream))
