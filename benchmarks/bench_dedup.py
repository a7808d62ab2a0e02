"""Deduplication: detection quality on planted duplicates, and cost at 10^5 / 10^6 hashes.

Quality: precision and recall of exact and near-duplicate detection (a) in a Beam build of
the seed-0 mini corpus, against its ground truth, and (b) on a figure set rendered here
(distinct figures, byte copies, JPEG->PNG re-encodes, ``near_duplicate`` copies) at
three distances. At this size k = 4, 6 and 8 all score 1.0; the default k = 6 rests on
the larger measurement in ``pmc15m.rules.dedup``'s docstring (600 copies, 3,000 figures).

Cost: synthetic hashes (a tenth near copies, a twentieth exact copies, three figures per
article) through the whole policy, in memory (``pmc15m.rules.dedup.deduplicate``) and on
the local runner (``pipelines.dedup.Deduplicate``, from Sample records to kept and rejected
Samples), each at 10^5 and 10^6. The baseline is all pairs, timed on 2·10^4 hashes and
extrapolated (quadratic); ratios are baseline / measured wall time. Beam rows give CPU
time too: on a shared machine wall time also counts other processes' turns.
"""

from __future__ import annotations

import functools
import io
import json
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import apache_beam as beam
import numpy as np
from apache_beam.options.pipeline_options import PipelineOptions
from PIL import Image

from benchmarks.table import format_table
from pipelines.build import run_build
from pipelines.dedup import Deduplicate
from pipelines.local_runner import LocalRunner
from pmc15m.core.config import BuildConfig, DedupConfig
from pmc15m.core.record import Sample
from pmc15m.corpus.dedup_eval import detection_scores, output_rows
from pmc15m.corpus.generator import generate_corpus
from pmc15m.corpus.imagefiles import encode_image, near_duplicate, render_figure
from pmc15m.image.process import process_image
from pmc15m.rules import nearsearch
from pmc15m.rules.dedup import MEMORY_KEY_COST, Digest, deduplicate, deduplicate_samples, rank_of
from pmc15m.rules.splits import assign_split

BASELINE_N = 20_000


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


# --------------------------------------------------------------------------- quality


def _figure_set(n: int, seed: int = 11) -> tuple[list[Sample], dict[str, list[list[str]]]]:
    """Processed samples of n distinct figures plus copies, and the planted groups by kind."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    planted: dict[str, list[list[str]]] = {"exact": [], "near": []}
    config = BuildConfig().image

    def add(key: str, data: bytes, kind: str = "") -> None:
        img = process_image(data, config)
        pmcid = f"PMC{len(samples) + 1}"
        samples.append(
            Sample(
                key=f"{pmcid}_1_{key}",
                pmcid=pmcid,
                version=1,
                caption=key,
                phash=img.phash,
                pixel_sha256=img.pixel_sha256,
                src_sha256=img.src_sha256,
                split="train",
            )
        )
        if kind:
            planted[kind].append([samples[-2].key, samples[-1].key])

    for index in range(n):
        width = rng.randint(500, 1000)
        img = render_figure(70_000 + index, width, int(width * rng.uniform(0.6, 0.9)))
        jpeg = encode_image(img, "jpeg")
        add(f"f{index}", jpeg)
        roll = index % 4
        if roll == 0:
            add(f"f{index}copy", jpeg, "exact")
        elif roll == 1:
            with Image.open(io.BytesIO(jpeg)) as decoded:
                add(f"f{index}png", encode_image(decoded.convert("RGB"), "png"), "exact")
        elif roll == 2:
            add(f"f{index}near", encode_image(near_duplicate(img, 90_000 + index), "jpeg"), "near")
    return samples, planted


def _corpus_rows() -> list[list[object]]:
    """Precision and recall in a real build of the seed-0 mini corpus (local runner)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        generate_corpus(root, seed=0)
        truth = json.loads((root / "ground-truth.json").read_text())
        run_build(str(root), str(Path(tmp) / "out"), BuildConfig(), ["--runner=LocalRunner"])
        scores = detection_scores(truth["duplicates"], *output_rows(Path(tmp) / "out"))
    k = DedupConfig().near_distance
    return [
        ["mini corpus, Beam build", kind, k, s["groups"], s["precision"], s["recall"]]
        for kind, s in scores.items()
    ]


def quality_table() -> str:
    rows = _corpus_rows()
    samples, planted = _figure_set(160)
    for k in (4, 6, 8):
        out = {s.key: s.row() for s in deduplicate_samples(samples, DedupConfig(near_distance=k))}
        kept = {key: row for key, row in out.items() if not row["reject_reason"]}
        rejected = {key: row for key, row in out.items() if row["reject_reason"]}
        for kind, score in detection_scores(planted, kept, rejected).items():
            label = f"{len(samples)} rendered figures"
            rows.append([label, kind, k, score["groups"], score["precision"], score["recall"]])
    return format_table(
        "dedup: detection of planted duplicates",
        ["data", "kind", "k", "planted", "precision", "recall"],
        rows,
    )


# --------------------------------------------------------------------------- cost


@functools.cache
def synthetic_rows(n: int, seed: int = 0) -> list[tuple[str, str, str, str, str]]:
    """(key, pmcid, phash, pixel hash, split) of n samples: random hashes, a tenth near
    copies (up to k flipped bits), a twentieth exact copies, three figures per article."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    source, roll = rng.integers(0, n, n), rng.random(n)
    near = roll < 0.10
    hashes[near] = hashes[source[near]]
    for _ in range(DedupConfig().near_distance):
        flip = near & (rng.random(n) < 0.5)
        hashes[flip] ^= np.uint64(1) << rng.integers(0, 64, int(flip.sum())).astype(np.uint64)
    exact = (roll >= 0.10) & (roll < 0.15)
    hashes[exact] = hashes[source[exact]]
    pixel = np.where(exact, source, np.arange(n))
    build = BuildConfig()
    rows = []
    for index, (value, px) in enumerate(zip(hashes.tolist(), pixel.tolist(), strict=True)):
        pmcid = f"PMC{1_000_000 + index // 3}"
        rows.append(
            (f"{pmcid}_1_f{index % 3}", pmcid, f"{value:016x}", f"px{px}", assign_split(pmcid, build))
        )
    return rows


def row_sample(key: str, pmcid: str, phash: str, pixel: str, split: str) -> Sample:
    return Sample(key=key, pmcid=pmcid, version=1, phash=phash, pixel_sha256=pixel, split=split)


def synthetic_samples(n: int, seed: int = 0) -> list[Sample]:
    return [row_sample(*row) for row in synthetic_rows(n, seed)]


def _digests(n: int) -> list[Digest]:
    """The digests of ``synthetic_rows`` made directly (no Sample objects: faster set-up)."""
    return [
        Digest(key, pmcid, split, pixel, int(phash, 16), "", rank_of(key, pmcid, 1))
        for key, pmcid, phash, pixel, split in synthetic_rows(n)
    ]


def _hashes(n: int, seed: int = 0) -> np.ndarray:
    return np.array([int(row[2], 16) for row in synthetic_rows(n, seed)], dtype=np.uint64)


def _chunk_samples(chunk: tuple[int, int, int]) -> Iterator[Sample]:
    """The samples of rows [start, end) of ``synthetic_rows(n)``: made on the worker
    (cached per process), as a build makes samples, rather than shipped in the graph."""
    n, start, end = chunk
    for row in synthetic_rows(n)[start:end]:
        yield row_sample(*row)


def _beam_seconds(n: int, chunk: int = 10_000) -> tuple[float, float]:
    """Deduplicate on the local runner: (wall, CPU) seconds from the pipeline's construction to
    its end. CPU time is the process's, all threads: on a shared machine wall time also
    counts other processes' turns, so both are reported."""
    synthetic_rows(n)  # generated before the clock starts, like the other paths' input
    chunks = [(n, start, min(n, start + chunk)) for start in range(0, n, chunk)]
    wall, cpu = time.perf_counter(), time.process_time()
    with beam.Pipeline(runner=LocalRunner(), options=PipelineOptions()) as p:
        samples = p | beam.Create(chunks) | "Samples" >> beam.FlatMap(_chunk_samples)
        out = samples | Deduplicate(DedupConfig())
        _ = out["samples"] | "CountKept" >> beam.combiners.Count.Globally()
    return time.perf_counter() - wall, time.process_time() - cpu


def _cpu_timed(fn, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _cost_row(label: str, n: int, wall: float, cpu: float, baseline: float) -> list[object]:
    extrapolated = baseline * (n / BASELINE_N) ** 2
    return [label, n, wall, cpu, wall / n * 1e6, cpu / n * 1e6, extrapolated / wall]


def cost_table() -> str:
    _, base, base_cpu = _cpu_timed(
        nearsearch.pairs_within, _hashes(BASELINE_N, seed=1), DedupConfig().near_distance
    )
    rows = [_cost_row("all pairs (baseline)", BASELINE_N, base, base_cpu, base)]
    for n in (100_000, 1_000_000):
        digests = _digests(n)
        decisions, wall, cpu = _cpu_timed(deduplicate, digests, DedupConfig())
        rows.append(_cost_row(f"library ({len(decisions):,} in clusters)", n, wall, cpu, base))
    for n in (100_000, 1_000_000):
        rows.append(_cost_row("Beam, local runner", n, *_beam_seconds(n), base))
    return format_table(
        "dedup: cost (the baseline is all pairs, extrapolated as n^2 from its row; x = baseline / wall)",
        ["path", "hashes", "wall s", "CPU s", "wall us/hash", "CPU us/hash", "x faster than all pairs"],
        rows,
    )


def bands_table() -> str:
    """What the band count trades: keys per hash against comparisons per hash."""
    k = DedupConfig().near_distance
    rows = []
    for n in (100_000, 1_000_000):
        hashes = _hashes(n)
        chosen = nearsearch.choose_bands(k, n, MEMORY_KEY_COST)
        for m in (k + 1, k + 2, k + 3):
            if m == k + 1 and n > 100_000:
                continue  # about 6,000 comparisons per hash: minutes
            found, seconds = _timed(nearsearch.near_pairs, hashes, k, m)
            label = f"{m}{' (chosen)' if m == chosen else ''}"
            rows.append([label, n, len(found.i), found.compared / n, seconds, seconds / n * 1e6])
    return format_table(
        f"dedup: in-memory candidate search by bands (k = {k}; the pairs found must not depend on m)",
        ["bands m", "hashes", "pairs found", "comparisons / hash", "seconds", "us / hash"],
        rows,
    )


def run() -> str:
    return "\n".join([quality_table(), cost_table(), bands_table()])
