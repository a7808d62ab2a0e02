"""Small ICC colour profiles built from numbers, for figure files that need colour management.

Tests must show that an embedded profile is honoured, which needs a profile whose colour
space differs visibly from sRGB. Profiles cannot be downloaded at test time and Pillow
can only create sRGB, Lab and XYZ ones, so this module writes a version 2 RGB
matrix/TRC profile (the kind cameras and image editors embed) from its published
numbers. LittleCMS reads it like any other.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable

# ICC's profile connection space white (D50), in XYZ.
D50 = (0.9642, 1.0, 0.8249)
# Adobe RGB (1998) primaries adapted to D50, as in Adobe's own profile, and its gamma.
ADOBE_RGB_COLORANTS = (
    (0.60974, 0.31111, 0.01947),
    (0.20528, 0.62567, 0.06087),
    (0.14919, 0.06322, 0.74457),
)
ADOBE_RGB_GAMMA = 563 / 256


def _s15fixed16(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15fixed16(v) for v in xyz)


def _gamma_tag(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _desc_tag(text: str) -> bytes:
    """A v2 textDescriptionType: ASCII, then empty Unicode and ScriptCode parts."""
    ascii_text = text.encode("ascii") + b"\0"
    return (
        b"desc\0\0\0\0"
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + struct.pack(">IIHB", 0, 0, 0, 0)
        + b"\0" * 67
    )


def _text_tag(text: str) -> bytes:
    return b"text\0\0\0\0" + text.encode("ascii") + b"\0"


def _header(size: int, device_class: bytes = b"mntr", colour_space: bytes = b"RGB ") -> bytes:
    """The 128-byte header of a v2.1 profile with the XYZ connection space."""
    return (
        struct.pack(">I4sI4s4s4s", size, b"\0" * 4, 0x02100000, device_class, colour_space, b"XYZ ")
        + struct.pack(">6H", 2020, 1, 1, 0, 0, 0)  # fixed date: identical bytes every time
        + b"acsp"
        + b"\0" * 24  # platform, flags, manufacturer, model, attributes
        + struct.pack(">I", 0)  # perceptual intent
        + b"".join(_s15fixed16(v) for v in D50)
        + b"\0" * 48  # creator, profile id, reserved
    )


def rgb_matrix_profile(
    description: str,
    colorants: tuple[tuple[float, float, float], ...] = ADOBE_RGB_COLORANTS,
    gamma: float = ADOBE_RGB_GAMMA,
) -> bytes:
    """An RGB matrix/TRC ICC profile: D50 colorants of R, G and B, one gamma for all three."""
    if len(colorants) != 3:
        raise ValueError("an RGB profile needs three colorants")
    tags = [
        (b"desc", _desc_tag(description)),
        (b"cprt", _text_tag("No copyright, use freely")),
        (b"wtpt", _xyz_tag(D50)),
        (b"rXYZ", _xyz_tag(colorants[0])),
        (b"gXYZ", _xyz_tag(colorants[1])),
        (b"bXYZ", _xyz_tag(colorants[2])),
        (b"rTRC", _gamma_tag(gamma)),
        (b"gTRC", _gamma_tag(gamma)),
        (b"bTRC", _gamma_tag(gamma)),
    ]
    return _assemble(tags, b"mntr", b"RGB ")


def _assemble(tags: list[tuple[bytes, bytes]], device_class: bytes, colour_space: bytes) -> bytes:
    first = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)  # tag data starts on 4-byte boundaries
        table += signature + struct.pack(">II", first + len(body), len(data))
        body += data
    header = _header(first + len(body), device_class, colour_space)
    return header + struct.pack(">I", len(tags)) + table + body


# Linear sRGB -> XYZ, Bradford-adapted to D50 (the connection space's white).
_SRGB_TO_XYZ_D50 = (
    (0.4360747, 0.3850649, 0.1430804),
    (0.2225045, 0.7168786, 0.0606169),
    (0.0139322, 0.0971045, 0.7141733),
)


def _srgb_to_xyz_d50(rgb: tuple[float, float, float]) -> tuple[float, ...]:
    def linear(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    lin = [linear(v) for v in rgb]
    return tuple(sum(m * c for m, c in zip(row, lin, strict=True)) for row in _SRGB_TO_XYZ_D50)


def _lut16_cmyk_tag(ink_colour: Callable[[tuple[int, int, int, int]], tuple[float, float, float]]) -> bytes:
    """An ``mft2`` lut: 4 inputs (C, M, Y, K), a 2-point grid per input, XYZ out (1.0 = 0x8000)."""
    head = b"mft2\0\0\0\0" + struct.pack(">BBBB", 4, 3, 2, 0)
    identity = b"".join(_s15fixed16(1.0 if i == j else 0.0) for i in range(3) for j in range(3))
    ramp = struct.pack(">2H", 0, 0xFFFF)  # linear input and output curves
    grid = b""
    for corner in itertools.product((0, 1), repeat=4):  # C varies slowest, as ICC orders it
        xyz = _srgb_to_xyz_d50(ink_colour(corner))  # type: ignore[arg-type]
        grid += struct.pack(">3H", *(min(0xFFFF, round(v * 0x8000)) for v in xyz))
    return head + identity + struct.pack(">HH", 2, 2) + ramp * 4 + grid + ramp * 3


def cmyk_lut_profile(
    description: str, ink_colour: Callable[[tuple[int, int, int, int]], tuple[float, float, float]]
) -> bytes:
    """A CMYK output profile whose inks print as ``ink_colour(corner)`` (sRGB in [0, 1]).

    ``corner`` is (c, m, y, k) with each 0 (no ink) or 1 (full ink); colours between the
    corners are interpolated, as LittleCMS does for any lut profile. A press profile is a
    finer grid of measured colours; for tests, a coarse grid whose inks print in colours
    a naive conversion would never give is what proves the profile was applied.
    """
    tags = [
        (b"desc", _desc_tag(description)),
        (b"cprt", _text_tag("No copyright, use freely")),
        (b"wtpt", _xyz_tag(D50)),
        (b"A2B0", _lut16_cmyk_tag(ink_colour)),
    ]
    return _assemble(tags, b"prtr", b"CMYK")
