"""One figure file -> the stored image and the facts about its pixels: ``process`` (decode,
normalise, resize, encode), ``decode`` (untrusted bytes to pixels, or a reason), ``highdepth``
(16-bit and float images mapped by their value range), ``budget`` (decoded-image memory per
worker), ``noise`` (decoders kept quiet) and ``pixelfacts`` (hashes and statistics).

May import: ``core``.
"""
