"""Composite PTransforms that write the dataset: shards, rejects, sizes and the manifest.

Shard membership is a hash of the sample key over a shard count derived from the split's
size, so it is the same on any runner and in any arrival order, and no single worker ever
has to hold or sort the whole dataset (only one shard at a time). The manifest is written
last and doubles as the build's completion marker.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import apache_beam as beam

from pmc15m import manifest, shards
from pmc15m.record import Sample
from pmc15m.splits import assign_shard, shard_count, shard_name

REJECTS_DIR = "rejects"


def _stamp(samples: Iterable[Sample], build_id: str) -> list[Sample]:
    out = list(samples)
    for sample in out:
        sample.build_id = build_id
    return out


class _WriteShardFn(beam.DoFn):
    def __init__(self, output: str, build_id: str) -> None:
        self.output = output
        self.build_id = build_id

    def process(self, item: tuple[tuple[str, int], Iterable[Sample]]) -> Iterable[dict[str, Any]]:
        (split, index), samples = item
        directory = os.path.join(self.output, split)
        stats = shards.write_shard(directory, shard_name(index), _stamp(samples, self.build_id))
        if stats:
            yield {"split": split, "name": shard_name(index), "count": stats["count"]}


class _WriteRejectsFn(beam.DoFn):
    def __init__(self, output: str, build_id: str) -> None:
        self.output = output
        self.build_id = build_id

    def process(self, item: tuple[int, Iterable[Sample]]) -> Iterable[int]:
        index, samples = item
        directory = os.path.join(self.output, REJECTS_DIR)
        yield shards.write_rejects(directory, shard_name(index), _stamp(samples, self.build_id))


def _shard_of(sample: Sample, split_sizes: dict[str, int], shard_size: int) -> tuple[tuple[str, int], Sample]:
    n_shards = shard_count(split_sizes[sample.split], shard_size)
    return (sample.split, assign_shard(sample.key, n_shards)), sample


def _reject_shard_of(sample: Sample, total: int, shard_size: int) -> tuple[int, Sample]:
    return assign_shard(sample.key, shard_count(total, shard_size)), sample


def _reject_level(sample: Sample) -> str:
    level = "article" if sample.key.endswith("_article") else "figure"
    return f"{level}:{sample.reject_reason}"


class WriteDataset(beam.PTransform):
    """Writes kept samples as shard trios, rejects as Parquet, then sizes and the manifest.

    Input: the dict ``ProcessArticles`` returns. Output: a PCollection holding the path of
    the written manifest.
    """

    def __init__(
        self, output: str, build_id: str, shard_size: int, reject_shard_size: int, header: dict
    ) -> None:
        super().__init__()
        self.output = output
        self.build_id = build_id
        self.shard_size = shard_size
        self.reject_shard_size = reject_shard_size
        self.header = header

    def expand(self, pcolls: dict[str, beam.PCollection]) -> beam.PCollection:
        samples, rejects = pcolls["samples"], pcolls["rejects"]
        split_sizes = (
            samples
            | "SplitOf" >> beam.Map(lambda s: s.split)
            | "CountSplits" >> beam.combiners.Count.PerElement()
        )
        shard_stats = (
            samples
            | "ShardOf" >> beam.Map(_shard_of, beam.pvalue.AsDict(split_sizes), self.shard_size)
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(_WriteShardFn(self.output, self.build_id))
        )
        reject_total = rejects | "CountRejects" >> beam.combiners.Count.Globally()
        written_rejects = (
            rejects
            | "RejectShardOf"
            >> beam.Map(_reject_shard_of, beam.pvalue.AsSingleton(reject_total), self.reject_shard_size)
            | "GroupRejects" >> beam.GroupByKey()
            | "WriteRejects" >> beam.ParDo(_WriteRejectsFn(self.output, self.build_id))
            | "SumWritten" >> beam.CombineGlobally(sum)
        )
        by_reason = (
            rejects
            | "RejectLevel" >> beam.Map(_reject_level)
            | "CountReasons" >> beam.combiners.Count.PerElement()
        )
        funnel = [
            pcolls[name]
            | f"Count_{name}" >> beam.combiners.Count.Globally()
            | f"Name_{name}" >> beam.Map(lambda n, k=name: (k, n))
            for name in ("listed", "selected", "gated", "parsed")
        ]
        counts = (*funnel, by_reason) | "AllCounts" >> beam.Flatten()
        return (
            shard_stats
            | "CollectShards" >> beam.combiners.ToList()
            | "WriteManifest"
            >> beam.Map(
                manifest.finish_build,
                output=self.output,
                header=self.header,
                counts=beam.pvalue.AsDict(counts),
                rejects_written=beam.pvalue.AsSingleton(written_rejects),
            )
        )
