"""Keep image decoders from printing: every damaged file is a counted rejection, not a log line.

A full build decodes tens of millions of figure files, and a few in ten thousand are
damaged. Two sources would otherwise repeat a line per damaged file in every worker's log:

- Pillow's Python warnings. They carry per-image text, so Python's once-per-message rule
  does not stop them repeating, and ``catch_warnings()`` is not thread-safe. We install
  two process-wide filters narrowed to Pillow's modules: (1) TIFF and GIF plugins still
  consult Pillow's global pixel limit while loading; our configured ``max_pixels`` check
  has run by then, so the warning only restates a decision already made (Pillow's bomb
  *error* still surfaces, as too-large); (2) the TIFF plugin warns about each damaged
  tag it skips; the file then decodes, or is rejected with the decoder's message.
- libtiff's C error handler, which writes straight to the process's stderr (for example
  ``Fax4Decode: Bad code word at line 12``, once per damaged line). Pillow turns the
  failure into an exception anyway, so the message adds nothing but noise. Pillow offers
  no switch, so we clear libtiff's global handler with ``TIFFSetErrorHandler(NULL)`` in
  the copy of libtiff that Pillow loaded (found in ``/proc/self/maps``). Where that
  cannot be done (no ``/proc``, libtiff linked statically) decoding works as before.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import re
import warnings

from PIL import Image

log = logging.getLogger(__name__)

_QUIET = (
    (Image.DecompressionBombWarning, r"PIL\."),
    (UserWarning, r"PIL\.TiffImagePlugin"),
)
_QUIET_FILTERS = tuple(("ignore", None, category, re.compile(module), 0) for category, module in _QUIET)


def quiet_decoders() -> None:
    """Silence Pillow's per-image warnings and libtiff's stderr messages (cheap to repeat)."""
    _quiet_pillow_warnings()
    _silence_libtiff()


def _quiet_pillow_warnings() -> None:
    """Install the filters if missing: a caller's ``catch_warnings()`` may have undone them."""
    if not all(entry in warnings.filters for entry in _QUIET_FILTERS):
        for category, module in _QUIET:
            warnings.filterwarnings("ignore", category=category, module=module)


@functools.cache
def _silence_libtiff() -> bool:
    """Clear libtiff's error handlers in this process; True when that was possible."""
    path = loaded_library("libtiff")
    if path is None:
        log.debug("libtiff not found among the loaded libraries; its errors go to stderr")
        return False
    try:
        lib = ctypes.CDLL(path)
        for name in ("TIFFSetErrorHandler", "TIFFSetErrorHandlerExt"):
            setter = getattr(lib, name)
            setter.argtypes = [ctypes.c_void_p]
            setter.restype = ctypes.c_void_p
            setter(None)
    except (OSError, AttributeError) as exc:
        log.debug("could not silence libtiff at %s: %s", path, exc)
        return False
    return True


def loaded_library(stem: str) -> str | None:
    """The path of the shared library ``stem`` (e.g. ``libtiff``) mapped into this process."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                name = os.path.basename(path)
                if name.startswith((f"{stem}.", f"{stem}-")) and ".so" in name:
                    return path
    except OSError:
        return None
    return None
