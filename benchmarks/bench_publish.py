"""Output side of a build: writing shards locally vs to S3, and what inspect, report, the
publish dry run and progress counting cost.

Baselines measured in the same run: for writes, the local file system; for the readers
(inspect, report, publish --dry-run), one plain pass that reads and hashes every output file,
i.e. the least any integrity check must do; for progress, a bare dict-counter increment.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import random
import shutil
import tempfile
import time

from PIL import Image

from benchmarks.table import format_table
from pmc15m.core.record import Sample
from pmc15m.publish.hub import prepare
from pmc15m.publish.report import write_report
from pmc15m.rules.splits import assign_shard, shard_count
from pmc15m.shards import writers
from pmc15m.shards.format import shard_name
from pmc15m.shards.inspect import inspect_output
from pmc15m.shards.manifest import finish_build
from pmc15m.storage import fs, progress

LICENSES = ("CC BY", "CC BY", "CC BY", "CC0", "CC BY-NC", "CC BY-SA")


def _image(rng: random.Random) -> bytes:
    img = Image.effect_noise((256, 192), 40 + rng.random() * 40).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _samples(n: int) -> list[Sample]:
    rng = random.Random(0)
    images = [_image(rng) for _ in range(16)]
    words = ["tumour", "cells", "expression", "hypoxia", "panel", "shown", "control", "mean", "fold"]
    return [
        Sample(
            key=f"PMC{100000 + i // 5}_1_F{i % 5 + 1}",
            pmcid=f"PMC{100000 + i // 5}",
            version=1,
            caption=" ".join(rng.choice(words) for _ in range(rng.randint(8, 120))) + ".",
            journal=f"Journal {i % 37}",
            year=2000 + i % 25,
            license_code=LICENSES[i % len(LICENSES)],
            src_width=rng.randint(200, 3000),
            src_height=rng.randint(200, 3000),
            width=256,
            height=192,
            split="train" if i % 20 else "test",
            image=images[i % len(images)],
        )
        for i in range(n)
    ]


def _write(out: str, samples: list[Sample], shard_size: int) -> float:
    start = time.perf_counter()
    stats = []
    for split in ("train", "test"):
        members = [s for s in samples if s.split == split]
        n_shards = shard_count(len(members), shard_size)
        for index in range(n_shards):
            chunk = [s for s in members if assign_shard(s.key, n_shards) == index]
            stat = writers.write_shard(fs.join(out, split), shard_name(index), chunk)
            if stat:
                stats.append({"split": split, "name": shard_name(index), "count": stat["count"]})
    counts = {"listed": len(samples) // 5, "selected": len(samples) // 5, "gated": len(samples) // 5}
    finish_build(stats, out, {"build_id": "bench", "code_version": "bench"}, counts, 0)
    return time.perf_counter() - start


def _hash_everything(out: str) -> float:
    start = time.perf_counter()
    for name in fs.walk(out):
        with open(os.path.join(out, name), "rb") as handle:
            hashlib.file_digest(handle, "sha256")
    return time.perf_counter() - start


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _s3_write(samples: list[Sample], shard_size: int) -> float:
    from moto.server import ThreadedMotoServer

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        fs.configure(fs.FsOptions(s3_endpoint_url=f"http://{host}:{port}"))
        fs.s3_client().create_bucket(Bucket="bench")
        return _write("s3://bench/out", samples, shard_size)
    finally:
        fs.configure(None)
        server.stop()


def _progress_cost(n: int = 1_000_000) -> tuple[float, float]:
    counts: dict[str, int] = {}
    start = time.perf_counter()
    for _ in range(n):
        counts["images"] = counts.get("images", 0) + 1
    bare = time.perf_counter() - start
    progress.reset()
    start = time.perf_counter()
    for _ in range(n):
        progress.tick("images")
    return bare, time.perf_counter() - start


def run(n_samples: int = 3000, shard_size: int = 500) -> str:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    samples = _samples(n_samples)
    mb = sum(len(s.image or b"") for s in samples) / 1e6
    rows = []
    tmp = tempfile.mkdtemp(prefix="bench-publish-")
    try:
        out = os.path.join(tmp, "out")
        local = _write(out, samples, shard_size)
        rows.append(["write shards, local (baseline)", n_samples, local, n_samples / local, mb / local, 1.0])
        remote = _s3_write(samples, shard_size)
        rows.append(
            [
                "write shards, s3:// on moto",
                n_samples,
                remote,
                n_samples / remote,
                mb / remote,
                remote / local,
            ]
        )
        base = _hash_everything(out)
        rows.append(
            ["read + sha256 every file (baseline)", n_samples, base, n_samples / base, mb / base, 1.0]
        )
        for name, fn in (
            ("pmc15m inspect", lambda: inspect_output(out)),
            ("pmc15m report", lambda: write_report(out)),
            ("publish --dry-run (gate, inspect, card)", lambda: prepare(out, "org/name")),
        ):
            seconds = _timed(fn)
            rows.append([name, n_samples, seconds, n_samples / seconds, mb / seconds, seconds / base])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    bare, ticks = _progress_cost()
    rows.append(["1M bare dict-counter increments (baseline)", 1_000_000, bare, 1e6 / bare, "", 1.0])
    rows.append(["1M progress.tick calls", 1_000_000, ticks, 1e6 / ticks, "", ticks / bare])
    header = ("step", "items", "seconds", "items/s", "image MB/s", "x baseline")
    return format_table(f"publishing side ({n_samples} samples, {mb:.0f} MB of images)", header, rows)
