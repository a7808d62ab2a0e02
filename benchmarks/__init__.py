"""Benchmarks run by ``make bench`` (never in CI): each prints figures and ratios against a
baseline measured in the same run."""
