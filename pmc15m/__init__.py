"""pmc15m: build CLIP-ready figure-caption datasets from PubMed Central open access."""

__version__ = "0.1.0"
