"""JATS article XML -> metadata and one ``Figure`` per figure image.

``from pmc15m.jats import parse_article`` is the public entry: bytes in, a ``ParsedArticle``
with its figures out (``parse``). Below it: ``secure`` (reading hostile XML: no entities, no
DTD, no network) with ``entities`` (the built-in table of named entities), ``front``
(article fields), ``captions``, ``mathml`` and ``texmath`` (caption text and formulas),
``panels`` (sub-captions) and ``mentions`` (body sentences citing a figure).

May import: ``core``.
"""

from pmc15m.jats.parse import JatsError, ParseConfig, parse_article

__all__ = ["JatsError", "ParseConfig", "parse_article"]
