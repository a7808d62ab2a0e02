"""JPEG files Pillow cannot write directly: YCCK, CMYK without an Adobe marker, 12-bit.

Figure files in PMC come from every version of Photoshop, scanner software and medical
imaging tool, and these three variants trip decoders in different ways:

- YCCK (Photoshop's CMYK JPEGs): the colour channels are stored as YCbCr of the inverted
  CMY, K apart, and the Adobe APP14 marker's transform flag (2) tells the decoder.
- CMYK without an Adobe marker: values stored plainly (0 = no ink), the opposite of the
  Adobe convention that Pillow always assumes.
- 12-bit sample precision (medical imaging): Pillow's JPEG plugin refuses it.

Each is made by encoding with Pillow and editing the markers, so the entropy-coded data is
libjpeg's own and the files are exactly what a real encoder would have written.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageChops

_APP14 = 0xEE  # Adobe marker
_SOF0 = 0xC0  # baseline frame header
_SOS = 0xDA  # start of scan: markers end here
_ADOBE_TRANSFORM_OFFSET = 4 + 11  # marker (2) + length (2) + "Adobe" + version + flags0 + flags1


def segment(data: bytes, marker: int) -> tuple[int, int]:
    """Offset and length field of the first ``marker`` segment before the scan data."""
    pos = 2  # after SOI
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] != _SOS:
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if data[pos + 1] == marker:
            return pos, length
        pos += 2 + length
    raise ValueError(f"no 0xFF{marker:02X} segment in the JPEG header")


def _cmyk_jpeg(cmyk_input: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    cmyk_input.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def ycck_jpeg(img: Image.Image, quality: int = 95) -> bytes:
    """``img`` as a YCCK JPEG with an Adobe marker whose transform flag says so.

    A YCCK decoder turns stored (Y, Cb, Cr) into (R, G, B), outputs 255 - R, 255 - G,
    255 - B and K as Adobe-inverted CMYK; so for Pillow's (c, m, y, k) (0 = no ink) the
    file must store YCbCr(c, m, y) and 255 - k. Pillow's CMYK writer stores 255 - input
    under a transform-0 marker, so it is handed 255 - stored and the flag set to 2.
    """
    cmyk = np.asarray(img.convert("CMYK"), dtype=np.float64)
    c, m, y, k = (cmyk[..., i] for i in range(4))
    luma = 0.299 * c + 0.587 * m + 0.114 * y
    cb = -0.168735892 * c - 0.331264108 * m + 0.5 * y + 128.0
    cr = 0.5 * c - 0.418687589 * m - 0.081312411 * y + 128.0
    stored = np.stack([luma, cb, cr, 255.0 - k], axis=-1)
    writer_input = np.clip(255.0 - stored + 0.5, 0, 255).astype(np.uint8)
    data = bytearray(_cmyk_jpeg(Image.fromarray(writer_input, "CMYK"), quality))
    pos, _ = segment(data, _APP14)
    data[pos + _ADOBE_TRANSFORM_OFFSET] = 2
    return bytes(data)


def plain_cmyk_jpeg(img: Image.Image, quality: int = 90) -> bytes:
    """``img`` as a CMYK JPEG without an Adobe marker, values stored as ink amounts."""
    data = _cmyk_jpeg(ImageChops.invert(img.convert("CMYK")), quality)  # writer inverts back
    pos, length = segment(data, _APP14)
    return data[:pos] + data[pos + 2 + length :]


def declared_12bit_jpeg(img: Image.Image, quality: int = 90) -> bytes:
    """A JPEG whose frame header declares 12-bit samples, as medical imaging tools write."""
    buf = io.BytesIO()
    img.convert("L").save(buf, "JPEG", quality=quality)
    data = bytearray(buf.getvalue())
    pos, _ = segment(data, _SOF0)
    data[pos + 4] = 12  # sample precision
    return bytes(data)
