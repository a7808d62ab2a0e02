"""One budget of decoded-image memory per worker process, shared by every decoding thread.

``max_pixels`` bounds one image, but a worker decodes on its fetch pool: ``--fetch_concurrency``
threads per DoFn instance, several instances per process. At the defaults that is 32
decodes of up to 150 megapixels at once, 14-19 GiB, more than a cloud worker has. The
fetches may stay concurrent (their waiting is in sockets); the decodes must share a bound.

The unit is bytes, not pixels or threads: a 1-bit scan and a 16-bit micrograph of the same
size differ tenfold in what ``pmc15m.image.process.process_image`` holds while it decodes, converts
and resizes. ``decode_bytes`` estimates that from the header, after libjpeg's draft scaling
has fixed the decode size, with factors measured per mode (``benchmarks/bench_memory.py``
prints the estimate beside the measured peak of each).

``PixelBudget`` admits requests in arrival order (a ticket queue). A request waits until it
is first in line and fits; one larger than the whole budget runs when nothing else is held,
alone, so no image is refused by the budget and none waits forever. Strict order means a
large request at the head holds back the small ones behind it until memory frees up: that
costs some concurrency when a large image arrives, and is what keeps a stream of small
images from starving it.

``shared`` hands out one budget per capacity per process: every thread and every DoFn
instance of a worker count against the same one. The budget changes when work runs, never
what it produces.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MIB = 1 << 20

# Bytes per decoded pixel that process_image holds at its peak while it brings a source of
# each mode to the output size: the decoded buffer and its working copies. Measured
# (benchmarks/bench_memory.py, Pillow 12, 24-megapixel sources): L 1.0, 1 2.1 (an L copy),
# P 5.3 (an RGB copy), RGB 4.3, RGBA 8.4 (Pillow resizes premultiplied: an RGBa copy),
# I;16 6.0 and F 14.3 (numpy mapping to 8 bits, pmc15m.image.highdepth). CMYK also counts the
# inverted copy of an Adobe-less JPEG. Modes not listed count as the widest listed.
_DECODE_BYTES = {
    "1": 2,
    "L": 1,
    "P": 5,
    "LA": 8,
    "La": 8,
    "PA": 12,
    "RGB": 4,
    "RGBA": 8,
    "RGBa": 8,
    "RGBX": 4,
    "CMYK": 8,
    "YCbCr": 8,
    "I;16": 7,
    "I;16L": 7,
    "I;16B": 7,
    "I;16N": 7,
    "I": 16,
    "F": 16,
}
_WIDEST = 16
# A transparency key (tRNS, GIF) turns the pixels into RGBA, then premultiplied RGBa: two
# copies of 4 bytes beside the decoded ones (measured: P 9.4, RGB 12.3).
_KEYED_BYTES = 8
# 16 bits per colour sample, which Pillow decodes as 8-bit RGB(A) twice, high and low
# bytes, and pmc15m.image.highdepth joins and maps with numpy.
_WIDE_BYTES = 21
# Whatever the image size, pmc15m.image.highdepth maps blocks of 2**20 samples through float64
# (I, F) or a 65536-entry table (16-bit): temporaries measured at 22 and 8 MiB.
_BLOCK_BYTES = {"I": 24 * MIB, "F": 24 * MIB, **{m: 8 * MIB for m in ("I;16", "I;16L", "I;16B", "I;16N")}}
# Per output pixel: alpha compositing, colour management, the pixel facts and the encoder.
# Resize mode "none" keeps the source size, so this term can be the larger one (RGB: 6.8).
_OUTPUT_BYTES = 12


def decode_bytes(
    mode: str, decoded: tuple[int, int], output: tuple[int, int], keyed: bool = False, wide: bool = False
) -> int:
    """What decoding a ``decoded``-sized image into ``output`` holds at its peak.

    ``keyed``: the file has a transparency key; ``wide``: 16-bit colour samples.
    """
    if wide:
        per_pixel = _WIDE_BYTES
    elif keyed:
        per_pixel = (1 if mode in ("1", "L", "P") else 4) + _KEYED_BYTES
    else:
        per_pixel = _DECODE_BYTES.get(mode, _WIDEST)
    fixed = _BLOCK_BYTES.get(mode, 0)
    return decoded[0] * decoded[1] * per_pixel + output[0] * output[1] * _OUTPUT_BYTES + fixed


class PixelBudget:
    """A counting budget of ``capacity`` bytes; first come, first served (see module doc).

    ``peak`` (the most ever held) and ``waits`` (requests that had to wait) let tests and
    benchmarks see what the budget did.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a pixel budget must be positive, got {capacity} bytes")
        self.capacity = capacity
        self._cond = threading.Condition()
        self._line: deque[object] = deque()  # tickets of the waiting requests, oldest first
        self._held = 0
        self._peak = 0
        self._waits = 0

    @property
    def held(self) -> int:
        return self._held

    @property
    def peak(self) -> int:
        return self._peak

    @property
    def waits(self) -> int:
        return self._waits

    @property
    def waiting(self) -> int:
        """Requests in line now."""
        return len(self._line)

    @contextmanager
    def hold(self, amount: int) -> Iterator[None]:
        """Hold ``amount`` bytes for the block; they are given back however it ends.

        The block must free what it decoded before it ends; a large share's memory then
        goes back to the operating system before the next request may use it.
        """
        self.acquire(amount)
        try:
            yield
        finally:
            if amount >= TRIM_FROM:
                _trim()
            self.release(amount)

    def acquire(self, amount: int, timeout: float | None = None) -> None:
        """Wait for ``amount`` bytes; ``TimeoutError`` after ``timeout`` seconds (None: never)."""
        if amount < 0:
            raise ValueError(f"cannot acquire a negative amount: {amount}")
        ticket = object()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._line.append(ticket)
            if not self._admits(ticket, amount):
                self._waits += 1
            try:
                while not self._admits(ticket, amount):
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise TimeoutError(f"{amount} bytes not free within {timeout} s")
                    self._cond.wait(left)
            except BaseException:
                self._line.remove(ticket)
                self._cond.notify_all()  # the one behind may now be first and fit
                raise
            self._line.popleft()
            self._held += amount
            self._peak = max(self._peak, self._held)
            self._cond.notify_all()  # the next in line may fit beside this one

    def release(self, amount: int) -> None:
        with self._cond:
            if amount > self._held:
                raise ValueError(f"releasing {amount} bytes, but only {self._held} are held")
            self._held -= amount
            self._cond.notify_all()

    def _admits(self, ticket: object, amount: int) -> bool:
        """First in line, and it fits, or nothing is held (an oversize request runs alone)."""
        return self._line[0] is ticket and (self._held == 0 or self._held + amount <= self.capacity)


# glibc gives each thread its own malloc arena and, once a large block has been freed,
# serves blocks up to 32 MiB from those arenas instead of fresh mappings. Freed there, they
# stay resident: on 32 threads, 8 large PNGs decoded one at a time peaked at 1,405 MiB, as
# high as all 8 at once (bench_memory, budget 128 MiB; 302 MiB with the trim). malloc_trim
# hands free arena memory back; it costs a walk of the arenas, so only large shares pay it.
TRIM_FROM = 64 * MIB


def _find_malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS, Windows)."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):
        return None


_malloc_trim = _find_malloc_trim()


def _trim() -> None:
    if _malloc_trim is not None:
        _malloc_trim(0)


_budgets: dict[int, PixelBudget] = {}
_budgets_lock = threading.Lock()


def shared(capacity: int) -> PixelBudget:
    """This process's budget of ``capacity`` bytes: the same object for every caller."""
    budget = _budgets.get(capacity)
    if budget is None:
        with _budgets_lock:
            budget = _budgets.setdefault(capacity, PixelBudget(capacity))
    return budget


def _forget_after_fork() -> None:
    """A forked child has none of its parent's decoding threads, so none of their holdings:
    inherited counts would never be released, and an oversize image would wait forever."""
    global _budgets_lock
    _budgets.clear()
    _budgets_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
