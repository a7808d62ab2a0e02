"""Composite PTransforms that write the dataset: shards, rejects, sizes and the manifest.

Shard membership is a hash of the sample key over a shard count derived from the split's
size (worked out with the dedup decisions, ``pipelines.placement``), so it is the same on
any runner and in any arrival order, and no single worker ever has to hold or sort the
whole dataset (only one shard at a time). The manifest is written
last and doubles as the build's completion marker.

No side inputs and no global combines: each split's size reaches its samples through a
GroupByKey join, and the manifest step gathers every count onto one key, so the same graph
runs on every runner (see ``pipelines.portable`` for why).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import apache_beam as beam

from pipelines.index import FACTS, finish_index
from pipelines.portable import Gather, JoinTotals
from pmc15m.core.record import Sample, is_article_key
from pmc15m.rules.splits import assign_shard, shard_count
from pmc15m.shards import compact, manifest, writers
from pmc15m.shards.format import REJECTS_DIR, shard_name
from pmc15m.shards.update import UpdateContext, merged_sizes
from pmc15m.storage import fs, progress


def _stamp(samples: Iterable[Sample], build_id: str) -> list[Sample]:
    out = list(samples)
    for sample in out:
        sample.build_id = build_id
    return out


class _OutputDoFn(beam.DoFn):
    """A DoFn writing under ``output``; sets up the file-system layer once per worker."""

    def __init__(self, output: str, build_id: str, fs_options: fs.FsOptions | None = None) -> None:
        self.output = output
        self.build_id = build_id
        self.fs_options = fs_options

    def setup(self) -> None:
        if self.fs_options is not None:
            fs.configure(self.fs_options)


class _WriteShardFn(_OutputDoFn):
    # offsets: the first free shard number of each split (an update adds after the last)
    offsets: dict[str, int] | None = None

    def process(self, item: tuple[tuple[str, int], Iterable[Sample]]) -> Iterable[dict[str, Any]]:
        (split, index), samples = item
        name = shard_name(index + (self.offsets or {}).get(split, 0))
        directory = os.path.join(self.output, split)
        stats = writers.write_shard(directory, name, _stamp(samples, self.build_id))
        if stats:
            progress.tick("samples_written", stats["count"])
            yield {"split": split, "name": name, "count": stats["count"]}


class _CompactShardFn(_OutputDoFn):
    """Rewrites one released shard without the samples the update retired (pmc15m.shards.compact)."""

    def process(self, item: tuple[str, tuple[str, ...]]) -> Iterable[dict[str, Any]]:
        shard, retired = item
        yield compact.compact_shard(self.output, shard, retired)


class _WriteRejectsFn(_OutputDoFn):
    offset = 0  # the first free reject file number (an update adds after the last)

    def process(self, item: tuple[tuple[str, int], Iterable[Sample]]) -> Iterable[int]:
        (_, index), samples = item
        directory = os.path.join(self.output, REJECTS_DIR)
        yield writers.write_rejects(
            directory, shard_name(index + self.offset), _stamp(samples, self.build_id)
        )


def _finish_build(
    summary: dict[str, list[Any]],
    fs_options: fs.FsOptions | None,
    update: UpdateContext | None,
    with_index: bool,
    output: str,
    header: dict[str, Any],
) -> str:
    """Write the index, sizes and the manifest from what ``Gather`` collected (shards,
    counts, rejects, article outcomes); an update also writes its tombstones."""
    if fs_options is not None:
        fs.configure(fs_options)
    if with_index:
        header = {**header, **finish_index(summary, output, header, update)}
    return manifest.finish_build(
        summary.get("shards", []),
        output=output,
        header=header,
        counts=dict(summary.get("counts", [])),
        rejects_written=sum(summary.get("rejects_written", [])),
        previous_sizes=(
            merged_sizes(update.sizes, summary.get("compacted", [])) if update is not None else None
        ),
    )


def _sample_key(sample: Sample) -> str:
    return sample.key


def _shard_of(joined: tuple[str, int, Sample], shard_size: int) -> tuple[tuple[str, int], Sample]:
    """``(group, group size, sample)`` -> ``((group, shard index), sample)``."""
    group, size, sample = joined
    return (group, assign_shard(sample.key, shard_count(size, shard_size))), sample


def _reject_level(sample: Sample) -> str:
    level = "article" if is_article_key(sample.key) else "figure"
    return f"{level}:{sample.reject_reason}"


class WriteDataset(beam.PTransform):
    """Writes kept samples as shard trios, rejects as Parquet, then sizes and the manifest.

    Input: the dict ``ProcessArticles`` returns with ``placed`` (the kept samples keyed by
    their shard, ``pipelines.placement``), plus the ``pipelines.index.ArticleFacts``
    outputs for a build that writes ``index/``. Output: a PCollection holding the path of the written
    manifest.
    """

    def __init__(
        self,
        output: str,
        build_id: str,
        reject_shard_size: int,
        header: dict,
        fs_options: fs.FsOptions | None = None,
        update: UpdateContext | None = None,
    ) -> None:
        super().__init__()
        self.update = update  # None: a full build; else the previous output it adds to
        self.output = output
        self.build_id = build_id
        self.reject_shard_size = reject_shard_size
        self.header = header
        self.fs_options = fs_options

    def expand(self, pcolls: dict[str, beam.PCollection]) -> beam.PCollection:
        rejects = pcolls["rejects"]
        shard_stats = (
            pcolls["placed"]  # ((split, shard), sample): pipelines.placement
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(self._shard_writer())
        )
        all_rejects = rejects | "OneGroup" >> beam.Map(lambda s: (REJECTS_DIR, s))
        reject_total = (
            all_rejects | "RejectKey" >> beam.Keys() | "CountRejects" >> beam.combiners.Count.PerElement()
        )
        written_rejects = (
            {"items": all_rejects, "totals": reject_total}
            | "JoinRejectTotal" >> JoinTotals(_sample_key)
            | "RejectShardOf" >> beam.Map(_shard_of, self.reject_shard_size)
            | "GroupRejects" >> beam.GroupByKey()
            | "WriteRejects" >> beam.ParDo(self._rejects_writer())
        )
        # One name per counted element; a stage with no elements is absent (counted as 0).
        names = [
            pcolls[name] | f"Name_{name}" >> beam.Map(lambda _, k=name: k)
            for name in ("listed", "not_selected", "selected", "gated", "parsed")
            if name in pcolls
        ]
        names.append(rejects | "RejectLevel" >> beam.Map(_reject_level))
        counts = names | "AllNames" >> beam.Flatten() | "CountNames" >> beam.combiners.Count.PerElement()
        gathered = {"shards": shard_stats, "counts": counts, "rejects_written": written_rejects}
        if self.update is not None:  # released shards holding retired samples, rewritten
            gathered["compacted"] = (
                rejects.pipeline
                | "ShardsToCompact" >> beam.Create(sorted(self.update.compactions.items()))
                | "SpreadCompactions" >> beam.Reshuffle()
                | "CompactShards" >> beam.ParDo(_CompactShardFn(self.output, self.build_id, self.fs_options))
            )
        # index/ is written when the input has the article facts (pipelines.index.ArticleFacts)
        facts = {name: pcolls[name] for name in FACTS if name in pcolls}
        with_index = bool(facts)
        gathered.update(facts)
        return (
            gathered
            | "GatherSummary" >> Gather()
            | "WriteManifest"
            >> beam.Map(_finish_build, self.fs_options, self.update, with_index, self.output, self.header)
        )

    def _shard_writer(self) -> _WriteShardFn:
        fn = _WriteShardFn(self.output, self.build_id, self.fs_options)
        if self.update is not None:
            fn.offsets = {split: self.update.shard_offset(split) for split in self.update.sizes}
        return fn

    def _rejects_writer(self) -> _WriteRejectsFn:
        fn = _WriteRejectsFn(self.output, self.build_id, self.fs_options)
        if self.update is not None:
            fn.offset = self.update.reject_offset
        return fn
