"""Peak resident memory of a worker that decodes on its fetch pool, against the pixel budget.

A build decodes figures on the fetch pool's threads (``--fetch_concurrency``, 32), so what
bounds a worker's memory is how many decoded images it holds at once: ``--decode_memory_mb``
(``pmc15m.image.budget``). Three tables:

1. Large PNGs decoded by ``process_image`` on the fetch pool's own ``InFlight`` of 32
   threads, each run in a fresh process: the budget off (baseline) against the default and
   smaller budgets. Peak RSS is the process's high-water mark (``VmHWM``), imports and the
   compressed files included; the time is wall-clock on this machine.
2. The budget's estimate (``decode_bytes``) beside the measured peak of decoding one image
   of each pixel mode alone, in a fresh process: the estimate must not be below it.
3. The worst case per worker at the defaults, before and with the budget: the fixed
   overhead of a worker process (Beam and pmc15m imported, measured) plus what the decodes
   may hold (from the estimate: a full fetch pool of max-size images, or the budget).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.table import format_table
from pmc15m.core.config import ImageConfig
from pmc15m.corpus.imagefiles import encode_image
from pmc15m.image.budget import MIB, decode_bytes
from pmc15m.image.process import output_size

ROOT = Path(__file__).resolve().parents[1]
THREADS = 32  # SourceOptions().concurrency: the fetch pool a worker decodes on
LARGE = (8, 8000, 6000)  # 8 RGB PNGs of 48 megapixels (183 MiB decoded each)
UNLIMITED_MB = 10**7
DEFAULT_MB = ImageConfig().decode_memory_mb
BUDGETS = ((UNLIMITED_MB, "(baseline)"), (DEFAULT_MB, "(default)"), (384, ""), (128, ""))
# Pixel modes of table 2: (label, mode, how the file is written), 24 megapixels each.
MODES = (
    ("L", "L", "png"),
    ("1", "1", "png"),
    ("P", "P", "png"),
    ("P + tRNS", "P", "png_keyed"),
    ("RGB", "RGB", "png"),
    ("RGB 16-bit", "RGB", "png_rgb16"),
    ("RGBA", "RGBA", "png"),
    ("I;16", "I;16", "png"),
    ("F (TIFF)", "F", "tiff"),
    ("CMYK JPEG", "CMYK", "jpeg"),
    ("RGB JPEG (drafted)", "RGB", "jpeg"),
)
MODE_SIZE = (6000, 4000)
GIB = 1 << 30
WORST_CASES = (("L", "L", False), ("RGB", "RGB", False), ("RGBA", "RGBA", False), ("I;16", "I;16", False))
WORST_CASES += (("F", "F", False), ("RGB 16-bit", "RGB", True))
ROUNDS = 2  # runs of table 1; each row shows its highest peak and its fastest time


def _status(field: str) -> int:
    """A memory field of /proc/self/status, in bytes."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", text).group(1)) * 1024


def _child(task: dict) -> dict:
    """Runs in a fresh process: decode the task's files, report memory and time."""
    from pmc15m.image import budget as pixelbudget
    from pmc15m.image.process import process_image
    from pmc15m.storage.inflight import InFlight

    if task.get("beam"):  # what a worker process holds before any figure: Beam and pmc15m
        import pipelines.stages  # noqa: F401

    config = ImageConfig(decode_memory_mb=task["budget_mb"])
    files = [Path(p).read_bytes() for p in task["files"]]
    process_image(Path(task["warmup"]).read_bytes(), config)  # lazy imports and caches
    base = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # restart the high-water mark here
    start = time.perf_counter()
    pool = InFlight(lambda data: process_image(data, config), THREADS)
    done = [r for data in files for r in pool.submit(data)] + list(pool.drain())
    pool.close()
    seconds = time.perf_counter() - start
    budget = pixelbudget.shared(task["budget_mb"] * MIB)
    return {
        "base": base,
        "peak": _status("VmHWM"),
        "seconds": seconds,
        "held_peak": budget.peak,
        "waits": budget.waits,
        "done": len(done),
    }


def _in_child(task: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", json.dumps(task)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ramp(width: int, height: int, seed: int) -> np.ndarray:
    """Gradients: they encode and inflate fast, and a decode costs its size whatever the content."""
    return (np.add.outer(np.arange(height), np.arange(width) * (seed % 3 + 1)) % 251).astype(np.uint8)


def _write(path: Path, mode: str, how: str, size: tuple[int, int], seed: int) -> Path:
    ramp = _ramp(*size, seed)
    if mode == "I;16":
        img = Image.fromarray(ramp.astype(np.uint16) * 257)
    elif mode in ("L", "1", "P", "F"):
        img = Image.fromarray(ramp).convert(mode)
    else:
        img = Image.fromarray(np.stack([ramp, ramp[::-1], ramp[:, ::-1]], -1)).convert(mode)
    if how == "png_rgb16":
        path.write_bytes(encode_image(img, how))
    elif how == "png_keyed":
        img.save(path, "PNG", compress_level=1, transparency=3)
    elif how == "png":
        img.save(path, "PNG", compress_level=1)
    elif how == "tiff":
        img.save(path, "TIFF")
    else:
        img.save(path, "JPEG", quality=90)
    return path


def budget_table(folder: Path, warmup: Path) -> str:
    count, width, height = LARGE
    files = [str(_write(folder / f"large{i}.png", "RGB", "png", (width, height), i)) for i in range(count)]
    runs: dict[int, list[dict]] = {mb: [] for mb, _ in BUDGETS}
    for _ in range(ROUNDS):  # interleaved, so a busy moment of the machine hits every row alike
        for budget_mb, _ in BUDGETS:
            runs[budget_mb].append(_in_child({"files": files, "budget_mb": budget_mb, "warmup": str(warmup)}))
    rows, baseline = [], None
    for budget_mb, label in BUDGETS:
        assert all(r["done"] == count for r in runs[budget_mb])
        r = max(runs[budget_mb], key=lambda r: r["peak"])  # the highest peak, the fastest time
        r = {**r, "seconds": min(run["seconds"] for run in runs[budget_mb])}
        baseline = baseline or r
        shown = "off" if budget_mb == UNLIMITED_MB else f"{budget_mb:,}"
        rows.append([f"{shown} {label}".strip(), *_memory_cells(r, baseline)])
    one = decode_bytes("RGB", (width, height), output_size(width, height, ImageConfig())) / MIB
    title = (
        f"memory: {count} PNGs of {width}x{height} RGB ({one:.0f} MiB each by the estimate) decoded by "
        f"process_image on a {THREADS}-thread fetch pool, one fresh process per row (MiB, s)"
    )
    header = ["budget", "RSS before", "peak RSS", "decode peak", "held peak", "waits", "s", "x peak", "x s"]
    return format_table(title, header, rows)


def _memory_cells(r: dict, baseline: dict) -> list[object]:
    return [
        r["base"] / MIB,
        r["peak"] / MIB,
        (r["peak"] - r["base"]) / MIB,
        r["held_peak"] / MIB,
        r["waits"],
        r["seconds"],
        r["peak"] / baseline["peak"],
        r["seconds"] / baseline["seconds"],
    ]


def mode_table(folder: Path, warmup: Path) -> str:
    rows = []
    for i, (label, mode, how) in enumerate(MODES):
        ext = {"tiff": "tif", "jpeg": "jpg"}.get(how, "png")
        path = _write(folder / f"mode{i}.{ext}", mode, how, MODE_SIZE, i)
        r = _in_child({"files": [str(path)], "budget_mb": UNLIMITED_MB, "warmup": str(warmup)})
        measured, estimate = r["peak"] - r["base"], r["held_peak"]  # held: what process_image asked for
        pixels = MODE_SIZE[0] * MODE_SIZE[1]
        rows.append([label, measured / MIB, estimate / MIB, measured / pixels, estimate / measured])
    title = (
        f"memory: one {MODE_SIZE[0]}x{MODE_SIZE[1]} image of each mode decoded alone: "
        "the measured peak and the budget's estimate"
    )
    header = ["source", "measured MiB", "estimate MiB", "measured B/px", "estimate / measured"]
    return format_table(title, header, rows)


def worst_case_table(warmup: Path) -> str:
    """A worker at the defaults: its measured overhead plus what its decodes may hold."""
    task = {"files": [], "budget_mb": UNLIMITED_MB, "warmup": str(warmup), "beam": True}
    overhead = _in_child(task)["peak"]
    config = ImageConfig()
    budget, side = config.decode_memory_mb * MIB, int(config.max_pixels**0.5)
    rows = []
    for label, mode, wide in WORST_CASES:
        one = decode_bytes(mode, (side, side), (config.max_side, config.max_side), wide=wide)
        before, after = overhead + THREADS * one, overhead + max(budget, one)
        rows.append([label, one / MIB, before / GIB, after / GIB, after / before])
    title = (
        f"memory: worst case per worker at the defaults ({THREADS} in flight, {config.max_pixels:,}-pixel "
        f"images, budget {config.decode_memory_mb:,} MiB, worker overhead {overhead / MIB:.0f} MiB measured)"
    )
    header = ["source", "one image MiB", "no budget GiB", "with budget GiB", "ratio"]
    return format_table(title, header, rows)


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warmup = _write(folder / "warmup.png", "RGB", "png", (900, 700), 0)
        tables = [budget_table(folder, warmup), mode_table(folder, warmup), worst_case_table(warmup)]
        return "\n".join(tables)


if __name__ == "__main__":
    if len(sys.argv) == 2:
        sys.stdout.write(json.dumps(_child(json.loads(sys.argv[1]))) + "\n")
    else:
        sys.stdout.write(run())
