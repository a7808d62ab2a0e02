"""pmc15m.image.budget: decoded-image memory per worker stays within its budget, on real threads.

Every wait in these tests has a timeout, so a budget that deadlocks or never admits a
request fails the test instead of hanging it. Nothing here measures time.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import queue
import random
import threading
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig, ImageConfig
from pmc15m.image import budget as pixelbudget
from pmc15m.image.budget import MIB, PixelBudget, decode_bytes
from pmc15m.image.process import ImageRejected, ProcessedImage, output_size, process_image

WAIT_S = 30.0  # a generous bound on any one wait: reached only when the budget is broken


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait (polling) until ``condition`` holds; fail after ``WAIT_S`` seconds."""
    done = threading.Event()
    for _ in range(int(WAIT_S * 1000)):
        if condition():
            return
        done.wait(0.001)
    raise AssertionError(f"timed out waiting until {what}")


def _start(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def _join(*threads: threading.Thread) -> None:
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive(), "a thread is stuck in the budget"


def _decode_on_threads(files: list[bytes], config: ImageConfig, threads: int = 32) -> list[ProcessedImage]:
    """``process_image`` over ``files`` on daemon threads, as the fetch pool runs it; a thread
    stuck in a broken budget fails the test, where a thread pool would hang its exit."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(files)):
        todo.put(i)
    results: dict[int, ProcessedImage] = {}

    def worker() -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                i = todo.get_nowait()
                results[i] = process_image(files[i], config)

    _join(*[_start(worker) for _ in range(threads)])
    assert len(results) == len(files), "a decode failed (see the thread's exception above)"
    return [results[i] for i in range(len(files))]


def test_many_threads_never_hold_more_than_the_budget() -> None:
    budget = PixelBudget(1000)
    over: list[int] = []
    start = threading.Barrier(24)
    pause = threading.Event()  # never set: its wait lets other threads run while one holds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait(WAIT_S)
        for _ in range(200):
            amount = rng.randint(0, 400)
            with budget.hold(amount):
                if budget.held > budget.capacity:
                    over.append(budget.held)
                pause.wait(0.0001)

    _join(*[_start(lambda seed=seed: worker(seed)) for seed in range(24)])
    assert over == [] and budget.peak <= budget.capacity
    assert budget.held == 0 and budget.waiting == 0


def test_requests_that_fit_are_held_at_once() -> None:
    """The budget bounds memory, not concurrency: five shares of a fifth all run together."""
    budget = PixelBudget(1000)
    together = threading.Barrier(5)  # passed only while all five hold their share

    def worker() -> None:
        with budget.hold(200):
            together.wait(WAIT_S)

    _join(*[_start(worker) for _ in range(5)])
    assert budget.peak == 1000 and budget.waits == 0


def test_an_oversize_request_waits_for_an_empty_budget_then_runs_alone() -> None:
    budget = PixelBudget(100)
    budget.acquire(30)
    big_in, big_out = threading.Event(), threading.Event()

    def big() -> None:
        with budget.hold(500):
            big_in.set()
            big_out.wait(WAIT_S)

    big_thread = _start(big)
    _until(lambda: budget.waiting == 1, "the oversize request waits")
    assert not big_in.is_set()
    budget.release(30)
    assert big_in.wait(WAIT_S)
    small_thread = _start(lambda: budget.acquire(1, timeout=WAIT_S))  # even 1 waits beside it
    _until(lambda: budget.waiting == 1, "a small request waits while the oversize one runs")
    assert budget.held == 500
    big_out.set()
    _join(big_thread, small_thread)
    assert budget.held == 1 and budget.peak == 500


def test_arrival_order_keeps_a_large_request_from_starving() -> None:
    """A small request that would fit waits behind a large one that came first."""
    budget = PixelBudget(100)
    budget.acquire(60)
    order: list[str] = []

    def take(name: str, amount: int) -> None:
        budget.acquire(amount, timeout=WAIT_S)
        order.append(name)

    large = _start(lambda: take("large", 80))
    _until(lambda: budget.waiting == 1, "the large request waits")
    small = _start(lambda: take("small", 10))  # 60 + 10 fits, but it is second in line
    _until(lambda: budget.waiting == 2, "the small request queues behind it")
    assert order == []
    budget.release(60)
    _join(large, small)
    assert order == ["large", "small"] and budget.held == 90


def test_hold_gives_back_on_exception() -> None:
    budget = PixelBudget(100)
    with pytest.raises(RuntimeError), budget.hold(70):
        raise RuntimeError("decoder bug")
    assert budget.held == 0
    budget.acquire(100, timeout=WAIT_S)  # the whole budget is free again


def test_large_shares_hand_memory_back_before_they_are_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """glibc keeps freed blocks in per-thread arenas; a large share trims them on its way out."""
    trims: list[int] = []
    budget = PixelBudget(1 << 40)
    real_trim = pixelbudget._trim
    monkeypatch.setattr(pixelbudget, "_trim", lambda: trims.append(budget.held))
    with budget.hold(pixelbudget.TRIM_FROM - 1):
        pass
    assert trims == []
    with budget.hold(pixelbudget.TRIM_FROM):
        pass
    assert trims == [pixelbudget.TRIM_FROM]  # still held while trimming
    real_trim()  # malloc_trim where the C library has it: runs and returns


def test_a_timed_out_request_leaves_the_line() -> None:
    budget = PixelBudget(100)
    budget.acquire(90)
    with pytest.raises(TimeoutError):
        budget.acquire(50, timeout=0.01)
    assert budget.waiting == 0
    budget.acquire(10, timeout=WAIT_S)  # not stuck behind the request that gave up
    assert budget.held == 100


def test_bad_amounts_and_capacities_are_errors() -> None:
    with pytest.raises(ValueError, match="positive"):
        PixelBudget(0)
    budget = PixelBudget(10)
    with pytest.raises(ValueError, match="negative"):
        budget.acquire(-1)
    with pytest.raises(ValueError, match="only 0"):
        budget.release(1)


def test_shared_is_one_budget_per_process_and_capacity() -> None:
    seen: list[PixelBudget] = []
    _join(*[_start(lambda: seen.append(pixelbudget.shared(7 * MIB))) for _ in range(8)])
    assert len({id(b) for b in seen}) == 1
    assert pixelbudget.shared(7 * MIB) is seen[0]
    assert pixelbudget.shared(8 * MIB) is not seen[0]


def _held_in_child(queue: multiprocessing.Queue) -> None:
    queue.put(pixelbudget.shared(9 * MIB).held)


def test_a_forked_child_starts_with_nothing_held() -> None:
    """The parent's holders are threads the child does not have: nothing would release."""
    budget = pixelbudget.shared(9 * MIB)
    budget.acquire(5)
    try:
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_held_in_child, args=(queue,))
        child.start()
        assert queue.get(timeout=WAIT_S) == 0
        child.join(WAIT_S)
    finally:
        budget.release(5)


def test_decode_bytes_counts_mode_transparency_depth_and_output() -> None:
    mp = (1000, 1000)
    assert decode_bytes("RGB", mp, (0, 0)) == 4_000_000
    assert decode_bytes("F", (10, 10), (0, 0)) > 20 * MIB  # high-depth mapping works in blocks
    assert decode_bytes("L", mp, (0, 0)) == 1_000_000
    assert decode_bytes("P", mp, (0, 0), keyed=True) > decode_bytes("P", mp, (0, 0))
    assert decode_bytes("RGB", mp, (0, 0), wide=True) > decode_bytes("RGBA", mp, (0, 0))
    assert decode_bytes("LAB", mp, (0, 0)) >= max(decode_bytes(m, mp, (0, 0)) for m in ("RGBA", "I;16"))
    assert decode_bytes("RGB", (0, 0), (512, 512)) > 512 * 512 * 3


@pytest.mark.parametrize(("kind", "wide"), [("png_rgb16", True), ("png_16bit", False), ("png", False)])
def test_process_image_asks_for_what_the_file_needs(kind: str, wide: bool) -> None:
    """The share comes from the header: mode, size and 16-bit colour samples."""
    from pmc15m.corpus.imagefiles import encode_image

    capacity = {"png_rgb16": 41, "png_16bit": 43, "png": 47}[kind] * MIB  # one budget per case
    data = encode_image(Image.fromarray(_ramp(900, 600, 1)).convert("RGB"), kind)
    process_image(data, ImageConfig(decode_memory_mb=capacity // MIB))
    with Image.open(io.BytesIO(data)) as img:
        target = output_size(*img.size, ImageConfig())
        expected = decode_bytes(img.mode, img.size, target, wide=wide)
    assert pixelbudget.shared(capacity).peak == expected


def test_the_budget_is_not_part_of_the_build_config_record() -> None:
    """How much a worker decodes at once changes no output: not the manifest, not the build id."""
    small = BuildConfig(image=ImageConfig(decode_memory_mb=1))
    assert small.digest() == BuildConfig().digest()
    assert "decode_memory_mb" not in small.to_dict()["image"]
    assert BuildConfig.from_dict(small.to_dict()) == BuildConfig()


def test_the_option_reaches_the_image_config() -> None:
    from pipelines.cli.build_options import config_from_args
    from pipelines.cli.main import make_parser

    parser = make_parser()
    args, _ = parser.parse_known_args(["build", "--source", "s3://b", "--decode_memory_mb", "300"])
    assert config_from_args(args).image.decode_memory_mb == 300
    args, _ = parser.parse_known_args(["build", "--source", "s3://b"])
    assert config_from_args(args).image.decode_memory_mb == ImageConfig().decode_memory_mb


def _ramp(width: int, height: int, seed: int) -> np.ndarray:
    return (np.add.outer(np.arange(height), np.arange(width) * (seed + 1)) % 253).astype(np.uint8)


def _png(width: int, height: int, mode: str, seed: int) -> bytes:
    """A large, quickly encoded PNG (gradients compress well; decoding still costs its size)."""
    ramp = _ramp(width, height, seed)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    array = np.stack([np.roll(ramp, 7 * c, axis=1) for c in range(channels)], -1)
    buf = io.BytesIO()
    Image.fromarray(array[..., 0] if mode == "L" else array, mode).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


@pytest.fixture(scope="module")
def large_pngs() -> list[bytes]:
    sizes = [(2400, 1800, "RGB"), (3000, 2000, "RGBA"), (2000, 2000, "L"), (1600, 1200, "RGB")]
    return [_png(w, h, mode, i) for i, (w, h, mode) in enumerate(sizes * 3)]


def _cost(data: bytes, config: ImageConfig) -> int:
    with Image.open(io.BytesIO(data)) as img:
        return decode_bytes(img.mode, img.size, output_size(*img.size, config), "transparency" in img.info)


def test_process_image_on_many_threads_stays_within_the_budget(large_pngs: list[bytes]) -> None:
    config = ImageConfig(decode_memory_mb=53)  # a capacity no other test shares
    costs = [_cost(data, config) for data in large_pngs]
    budget = pixelbudget.shared(53 * MIB)
    assert max(costs) <= budget.capacity < sum(costs)
    serial = [process_image(data, ImageConfig()) for data in large_pngs]
    threaded = _decode_on_threads(large_pngs * 2, config)
    assert 0 < budget.peak <= budget.capacity and budget.held == 0 and budget.waiting == 0
    assert threaded == serial * 2  # the budget changes when images decode, never a byte of them


def test_an_image_larger_than_the_budget_is_decoded_alone(large_pngs: list[bytes]) -> None:
    config = ImageConfig(decode_memory_mb=59)
    budget = pixelbudget.shared(59 * MIB)
    huge = _png(4000, 3000, "RGBA", 9)
    assert max(_cost(data, config) for data in large_pngs) <= budget.capacity < _cost(huge, config)
    files = [*large_pngs[:6], huge, *large_pngs[6:]]
    results = _decode_on_threads(files, config)
    assert results[6].width == 512
    # Held reached the huge image's cost and never more: nothing was decoded beside it.
    assert budget.peak == _cost(huge, config) and budget.held == 0


def test_a_rejected_image_gives_its_share_back(large_pngs: list[bytes]) -> None:
    config = ImageConfig(decode_memory_mb=31)
    budget = pixelbudget.shared(31 * MIB)
    damaged = large_pngs[0][: len(large_pngs[0]) // 2]
    with pytest.raises(ImageRejected) as info:
        process_image(damaged, config)
    assert info.value.reason == reasons.IMAGE_TRUNCATED
    assert budget.peak > 0 and budget.held == 0
