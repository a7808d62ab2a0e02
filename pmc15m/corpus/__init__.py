"""Synthetic PMC-like corpora for tests and benchmarks.

The real bucket is neither reachable offline nor stable, so tests build small corpora
whose every article, figure and image file comes with its expected outcome (kept, or
rejected with a named reason) and compare the pipeline's funnel with that ground truth.
"""
