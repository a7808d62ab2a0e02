"""Dedup decisions and shard numbers meet the samples in one shuffle.

Image bytes are nearly all of a build's shuffled data (a sample is a 512 px JPEG and a
few hundred bytes of fields), so the number of shuffles a kept sample crosses sets the
cost of the build's tail: on Dataflow it is shuffle volume, on the local runner every
grouped byte passes through the runner process's single Python thread. A kept sample
used to cross three (its decision by key, its split's size by bucket, its shard); now it
crosses two, because everything a sample's shard depends on is worked out on small
records first:

    samples -> outline (key, split)  + decisions (key, wire Decision)
            -> CoGroupByKey(key)                   fate: final split, kept or not
            -> JoinTotals(kept per final split)    plan: decision, split, shard index
    samples + plans -> CoGroupByKey(key)           ((split, shard), sample) | rejects
            -> GroupByKey(split, shard) in pipelines.write

A sample's final split is its representative's (``dedup.apply_decision``), and the shard
is ``assign_shard(key, shard_count(kept in that split))``, so shards hold exactly what
they held when the counts were joined to the samples themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.portable import JoinTotals, Routed, Routes
from pmc15m.core.record import Sample
from pmc15m.rules import dedup
from pmc15m.rules.dedup import Decision
from pmc15m.rules.splits import assign_shard, shard_count

NAMESPACE = "pmc15m"
PLACED, REJECTS = "placed", "rejects"
_SAMPLE_FIELDS = tuple(f.name for f in dataclasses.fields(Sample))
_REJECTED = -1  # the shard index of a plan whose sample is dropped

WireDecision = tuple[Any, ...]  # Decision's fields
Fate = tuple[str, WireDecision | None, bool]  # (key, decision, kept)
Plan = tuple[WireDecision | None, str, int]  # (decision, final split, shard index or _REJECTED)


def wire_sample(sample: Sample) -> tuple[Any, ...]:
    """The sample's field values in order (all str, int, float, None, bytes, lists, dicts):
    Beam's coder writes them natively, where a dataclass would be pickled, both ways."""
    return tuple(getattr(sample, name) for name in _SAMPLE_FIELDS)


def _outline(sample: Sample) -> tuple[str, str]:
    return sample.key, sample.split


def _fate(item: tuple[str, dict[str, list[Any]]]) -> Iterator[tuple[str, Fate]]:
    """``(final split, (key, decision, kept))`` for a sample key and its decision (if any)."""
    key, joined = item
    wire = joined["decision"][0] if joined["decision"] else None
    decision = Decision(*wire) if wire is not None else None
    for split in joined["split"]:
        if decision is None:
            yield split, (key, None, True)
        else:
            yield decision.split, (key, wire, not decision.reason)


def _kept_split(item: tuple[str, Fate]) -> Iterator[str]:
    if item[1][2]:
        yield item[0]


def _plan(joined: tuple[str, int | None, Fate], shard_size: int) -> tuple[str, Plan]:
    split, kept_in_split, (key, decision, kept) = joined
    if not kept:
        return key, (decision, split, _REJECTED)
    return key, (decision, split, assign_shard(key, shard_count(kept_in_split or 1, shard_size)))


def _fate_key(fate: Fate) -> str:
    return fate[0]


class _PlaceFn(beam.DoFn):
    """Applies a sample's plan: ``((split, shard), kept sample)`` or a routed reject."""

    def __init__(self) -> None:
        self.clusters = Metrics.counter(NAMESPACE, "duplicate_clusters")

    def process(self, item: tuple[str, dict[str, list[Any]]]) -> Iterator[Any]:
        key, joined = item
        if not joined["plan"]:  # every sample has an outline, so a plan: a broken graph
            raise RuntimeError(f"sample {key} reached placement without a plan")
        wire, split, shard = joined["plan"][0]
        decision = Decision(*wire) if wire is not None else None
        for values in joined["sample"]:
            out = dedup.apply_decision(Sample(*values), decision)
            if out.reject_reason:
                Metrics.counter(NAMESPACE, f"rejected_{out.reject_reason}").inc()
                yield Routed(REJECTS, out)
                continue
            if decision is not None:
                self.clusters.inc()
            yield (split, shard), out


class Place(beam.PTransform):
    """``{"samples", "decisions"}`` -> ``{PLACED: ((split, shard), sample), REJECTS: samples}``.

    ``decisions``: ``(key, wire Decision)`` for the samples of clusters of two or more
    (``pipelines.dedup.Decide``); a sample without one keeps its split and itself.
    """

    def __init__(self, shard_size: int) -> None:
        super().__init__()
        if shard_size < 1:
            raise ValueError(f"shard_size must be at least 1, got {shard_size}")
        self.shard_size = shard_size

    def expand(self, pcolls: dict[str, beam.PCollection]) -> dict[str, beam.PCollection]:
        samples, decisions = pcolls["samples"], pcolls["decisions"]
        fates = (
            {"split": samples | "Outline" >> beam.Map(_outline), "decision": decisions}
            | "JoinOutline" >> beam.CoGroupByKey()
            | "Fate" >> beam.FlatMap(_fate)
        )
        kept_per_split = (
            fates
            | "KeptSplit" >> beam.FlatMap(_kept_split)
            | "CountKept" >> beam.combiners.Count.PerElement()
        )
        plans = (
            {"items": fates, "totals": kept_per_split}
            | "JoinKeptCount" >> JoinTotals(_fate_key)
            | "Plan" >> beam.Map(_plan, self.shard_size)
        )
        return (
            {"sample": samples | "ByKey" >> beam.Map(lambda s: (s.key, wire_sample(s))), "plan": plans}
            | "JoinPlans" >> beam.CoGroupByKey()
            | "Apply" >> Routes(beam.ParDo(_PlaceFn()), [REJECTS], main=PLACED)
        )
