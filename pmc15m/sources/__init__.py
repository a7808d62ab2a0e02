"""Where article versions come from. See ``base.Source`` for the interface."""

from pmc15m.sources.base import Source, SourceError, open_source

__all__ = ["Source", "SourceError", "open_source"]
