"""Make encoder output byte-stable where the encoder itself is not.

Pillow writes libtiff-compressed TIFFs through an in-memory buffer that libtiff seeks
past to word-align each directory; the skipped byte is never written and holds whatever
the memory held, so the same image encodes to different bytes in different processes.
The corpus promises byte-identical trees (and stable MD5s and ETags), so every TIFF is
rewritten with all bytes no structure refers to set to zero: same pixels, stable bytes.
"""

from __future__ import annotations

import struct

import numpy as np

# Byte size of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, ..., LONG8).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8}
# (offsets tag, byte counts tag): strips, then tiles.
_DATA_TAGS = ((273, 279), (324, 325))
_SUB_IFD_TAGS = frozenset({330, 34665, 34853})  # SubIFDs, Exif IFD, GPS IFD


def _values(data: bytes, order: str, ftype: int, count: int, field: int) -> list[int]:
    size = _TYPE_SIZES.get(ftype, 1)
    start = field if size * count <= 4 else struct.unpack_from(order + "I", data, field)[0]
    code = {1: "B", 3: "H", 4: "I", 13: "I", 16: "Q"}.get(ftype)
    if code is None:
        return []
    return list(struct.unpack_from(f"{order}{count}{code}", data, start))


def _ifd_ranges(data: bytes, order: str, offset: int, ranges: list[tuple[int, int]]) -> list[int]:
    """Record the byte ranges one directory refers to; return the directories it links."""
    (count,) = struct.unpack_from(order + "H", data, offset)
    ranges.append((offset, offset + 2 + 12 * count + 4))
    tags: dict[int, list[int]] = {}
    linked: list[int] = []
    for i in range(count):
        field = offset + 2 + 12 * i
        tag, ftype, n = struct.unpack_from(order + "HHI", data, field)
        size = _TYPE_SIZES.get(ftype, 1) * n
        if size > 4:
            start = struct.unpack_from(order + "I", data, field + 8)[0]
            ranges.append((start, start + size))
        if tag in {t for pair in _DATA_TAGS for t in pair} or tag in _SUB_IFD_TAGS:
            tags[tag] = _values(data, order, ftype, n, field + 8)
    for offsets_tag, counts_tag in _DATA_TAGS:
        for start, length in zip(tags.get(offsets_tag, []), tags.get(counts_tag, []), strict=False):
            ranges.append((start, start + length))
    for tag in _SUB_IFD_TAGS:
        linked.extend(tags.get(tag, []))
    (following,) = struct.unpack_from(order + "I", data, offset + 2 + 12 * count)
    return [*linked, following] if following else linked


def zero_tiff_gaps(data: bytes) -> bytes:
    """``data`` with unreferenced bytes zeroed if it is a classic TIFF; else unchanged."""
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return data
    order = "<" if data[:2] == b"II" else ">"
    ranges: list[tuple[int, int]] = [(0, 8)]
    try:
        pending = [struct.unpack_from(order + "I", data, 4)[0]]
        seen: set[int] = set()
        while pending:
            offset = pending.pop()
            if offset in seen or not 8 <= offset < len(data):
                continue
            seen.add(offset)
            pending.extend(_ifd_ranges(data, order, offset, ranges))
    except struct.error:
        return data  # not a structure we understand (a truncated file): leave it alone
    keep = np.zeros(len(data), dtype=bool)
    for start, end in ranges:
        keep[max(0, start) : max(0, end)] = True
    out = np.frombuffer(data, dtype=np.uint8).copy()
    out[~keep] = 0
    return out.tobytes()
