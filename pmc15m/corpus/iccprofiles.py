"""Small ICC colour profiles built from numbers, for figure files that need colour management.

Tests must show that an embedded profile is honoured, which needs a profile whose colour
space differs visibly from sRGB. Profiles cannot be downloaded at test time and Pillow
can only create sRGB, Lab and XYZ ones, so this module writes a version 2 RGB
matrix/TRC profile (the kind cameras and image editors embed) from its published
numbers. LittleCMS reads it like any other.
"""

from __future__ import annotations

import struct

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


def _header(size: int) -> bytes:
    """The 128-byte header of a v2.1 display profile, RGB data, XYZ connection space."""
    return (
        struct.pack(">I4sI4s4s4s", size, b"\0" * 4, 0x02100000, b"mntr", b"RGB ", b"XYZ ")
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
    first = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)  # tag data starts on 4-byte boundaries
        table += signature + struct.pack(">II", first + len(body), len(data))
        body += data
    return _header(first + len(body)) + struct.pack(">I", len(tags)) + table + body
