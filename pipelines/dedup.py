"""The ``Deduplicate`` composite transform: exact and near duplicates, boilerplate, splits.

A Beam wrapper over ``pmc15m.dedup`` (which explains the policy). Image bytes are
shuffled once: the graph works on small digests (key, article, hashes), and its
decisions are joined back to the samples by key at the end.

    samples -> digests -> GroupByKey(image key)       exact groups: nodes
            nodes -> band keys -> GroupByKey(key)     candidate groups -> near edges
            edges -> one list -> centres              one worker, see below
            nodes + centres -> GroupByKey(centre)     clusters -> decisions
            samples + decisions -> CoGroupByKey(key)  kept | rejects

The band count, unless configured, is chosen from the number of hashed nodes with
``dedup.BEAM_KEY_COST``: a shuffled record costs thousands of hash comparisons, so Beam
uses fewer, larger candidate groups than the in-memory path (7 bands below ~10^7 images
at k = 6, then 8).

The edge list goes to one worker because choosing centres walks the nodes in rank order
(a sequential greedy pass; that is what keeps dropped samples within the distance of
their representative). Edges exist only between near-duplicate images, not between
exact copies (those are one node), so the list is far smaller than the samples: at PMC's
~30 million figures with a tenth of them near-duplicated, a few million edges of two
short keys each, a few hundred MB on one worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.portable import Gather, JoinTotals, Routed, Routes
from pmc15m import dedup, nearsearch
from pmc15m.config import DedupConfig
from pmc15m.dedup import Decision, Edge, Node, NodeRef
from pmc15m.record import Sample

REJECTS = "rejects"
NAMESPACE = "pmc15m"


def _by_image(sample: Sample) -> tuple[str, dedup.Digest]:
    digest = dedup.digest(sample)
    return digest.image_key, digest


def _band_entries(node: Node, k: int, m: int) -> Iterator[tuple[tuple[int, int, int], NodeRef]]:
    """One entry per candidate key; the band count travels in the key, for the comparison."""
    ref = dedup.node_ref(node)
    for subset_index, packed in nearsearch.band_keys(ref.phash, k, m):
        yield (m, subset_index, packed), ref


def _counted_band_entries(
    joined: tuple[str, int, Node], k: int
) -> Iterator[tuple[tuple[int, int, int], NodeRef]]:
    """Band entries with the band count chosen from the number of hashed nodes."""
    _, n, node = joined
    yield from _band_entries(node, k, nearsearch.choose_bands(k, n, dedup.BEAM_KEY_COST))


def _bucket_edges(group: tuple[tuple[int, int, int], Iterable[NodeRef]], k: int) -> list[Edge]:
    (m, subset_index, _), refs = group
    return dedup.bucket_edges(k, m, subset_index, list(refs))


def _centre_of(item: tuple[str, dict[str, list[Any]]]) -> Iterator[tuple[str, Node]]:
    image_key, joined = item
    centre = joined["centre"][0] if joined["centre"] else image_key
    for node in joined["node"]:
        yield centre, node


def _decide(cluster: tuple[str, Iterable[Node]], config: DedupConfig) -> Iterator[tuple[str, Decision]]:
    centre, nodes = cluster
    for decision in dedup.decide_cluster(centre, list(nodes), config):
        yield decision.key, decision


class _GatherEdges(beam.PTransform):
    """Every edge onto one worker, as one element: ``{"edges": [...]}`` (maybe empty)."""

    def expand(self, edges: beam.PCollection) -> beam.PCollection:
        return {"edges": edges} | "Gather" >> Gather()


def _assign_centres(gathered: dict[str, list[Edge]]) -> list[tuple[str, str]]:
    return list(dedup.assign_centres(gathered.get("edges", [])).items())


class _ApplyFn(beam.DoFn):
    """Joins one sample with its decision (none for a sample without duplicates)."""

    def __init__(self) -> None:
        self.clusters = Metrics.counter(NAMESPACE, "duplicate_clusters")

    def process(self, item: tuple[str, dict[str, list[Any]]]) -> Iterator[Any]:
        _, joined = item
        decision = joined["decision"][0] if joined["decision"] else None
        for sample in joined["sample"]:
            out = dedup.apply_decision(sample, decision)
            if out.reject_reason:
                Metrics.counter(NAMESPACE, f"rejected_{out.reject_reason}").inc()
                yield Routed(REJECTS, out)
                continue
            if decision is not None:
                self.clusters.inc()
            yield out


class NearEdges(beam.PTransform):
    """Nodes -> edges between nodes whose perceptual hashes are within the distance.

    The band count is the configured one, or chosen from the number of hashed nodes,
    which reaches every node through a GroupByKey join (no side input: pipelines.portable).
    """

    def __init__(self, config: DedupConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, nodes: beam.PCollection) -> beam.PCollection:
        k = self.config.near_distance
        hashed = nodes | "Hashed" >> beam.Filter(lambda node: node.phash is not None)
        if self.config.near_bands:
            entries = hashed | "BandKeys" >> beam.FlatMap(_band_entries, k, self.config.near_bands)
        else:
            count = (
                hashed
                | "HashedName" >> beam.Map(lambda node: "hashed")
                | "CountHashed" >> beam.combiners.Count.PerElement()
            )
            entries = (
                {"items": hashed | "ByName" >> beam.Map(lambda node: ("hashed", node)), "totals": count}
                | "JoinCount" >> JoinTotals(lambda node: node.image_key)
                | "BandKeys" >> beam.FlatMap(_counted_band_entries, k)
            )
        return (
            entries | "GroupBands" >> beam.GroupByKey() | "CompareInGroup" >> beam.FlatMap(_bucket_edges, k)
        )


class Decide(beam.PTransform):
    """Samples -> (key, Decision) for every sample of a cluster of two or more."""

    def __init__(self, config: DedupConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, samples: beam.PCollection) -> beam.PCollection:
        nodes = (
            samples
            | "Digest" >> beam.Map(_by_image)
            | "GroupExact" >> beam.GroupByKey()
            | "Node" >> beam.MapTuple(dedup.make_node)
        )
        if self.config.near_distance >= 0:
            centres = (
                nodes
                | "NearEdges" >> NearEdges(self.config)
                | "CollectEdges" >> _GatherEdges()
                | "AssignCentres" >> beam.FlatMap(_assign_centres)
            )
        else:
            centres = samples.pipeline | "NoCentres" >> beam.Create([])
        return (
            {"node": nodes | "ByImage" >> beam.Map(lambda n: (n.image_key, n)), "centre": centres}
            | "JoinCentres" >> beam.CoGroupByKey()
            | "ByCentre" >> beam.FlatMap(_centre_of)
            | "GroupClusters" >> beam.GroupByKey()
            | "DecideClusters" >> beam.FlatMap(_decide, self.config)
        )


class Deduplicate(beam.PTransform):
    """Samples -> {"samples": kept, with cluster fields; "rejects": duplicates, boilerplate}.

    Raises ValueError at construction for a configuration that cannot work.
    """

    def __init__(self, config: DedupConfig) -> None:
        super().__init__()
        dedup.check_config(config)
        self.config = config

    def expand(self, samples: beam.PCollection) -> dict[str, beam.PCollection]:
        if not self.config.enabled:
            kept = samples | "NoDedup" >> beam.Map(dedup.apply_decision, None)
            return {"samples": kept, "rejects": samples.pipeline | "NoRejects" >> beam.Create([])}
        decisions = samples | "Decide" >> Decide(self.config)
        outputs = (
            {"sample": samples | "ByKey" >> beam.Map(lambda s: (s.key, s)), "decision": decisions}
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "Apply" >> Routes(beam.ParDo(_ApplyFn()), [REJECTS], main="samples")
        )
        return {"samples": outputs["samples"], "rejects": outputs[REJECTS]}
