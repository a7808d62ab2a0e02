"""The ``Deduplicate`` composite transform: exact and near duplicates, boilerplate, splits.

A Beam wrapper over ``pmc15m.rules.dedup`` (which explains the policy). The graph works on
small digests (key, article, hashes); its decisions meet the samples, and their image
bytes, in ``pipelines.placement``, in the same shuffle that numbers their shards.

    samples -> digests -> GroupByKey(image key)       exact groups: nodes
            node refs -> GroupByKey(block)            64 blocks, each with the node count
            -> band keys per block -> GroupByKey(key) candidate groups -> near edges
            edges -> one list -> centres              one worker, see below
            nodes + centres -> CoGroupByKey           lone samples without an edge stop here
            -> GroupByKey(centre)                     clusters -> decisions
            samples + decisions -> pipelines.placement  ((split, shard), kept) | rejects

What crosses a shuffle is a plain tuple of str, int and lists (the wire format below),
never a NamedTuple of the library or a Sample: Beam's coder writes those natively but
pickles any other class, and any int of 2^63 or more, so a perceptual hash travels as a
signed int. Each node has one key per band subset (7 at k = 6); a block ships one record
per key holding all its refs, not one per ref. Measured on DirectRunner at 10^5 samples
(process CPU, benchmarks/bench_dedup.py's input): 169 us per sample with pickled records
and one record per key and node, 79 us with both changes; the saving from blocks grows
with n (at 10^6 a record carries ~14 refs).

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
import numpy as np

from pipelines.placement import PLACED, REJECTS, Place
from pipelines.portable import Gather
from pmc15m.core.config import BuildConfig, DedupConfig
from pmc15m.core.record import Sample
from pmc15m.rules import dedup, nearsearch
from pmc15m.rules.dedup import Digest, Edge, Node, NodeRef
from pmc15m.rules.splits import unit_hash

NAMESPACE = "pmc15m"
# Blocks the near search spreads node refs over. Fewer blocks carry more refs per
# shuffled record (see NearEdges); 64 keeps a block of PMC's ~30 million images near
# 470,000 refs (~150 MB) on one worker, and gives 64-way parallelism to the step.
NEAR_BLOCKS = 64
_REF, _COUNT = 0, 1
_SHARD_SIZE = BuildConfig().shard_size

# --------------------------------------------------------------------------- wire format
# Plain tuples in the field order of the NamedTuples; phash as a signed 64-bit int.

WireDigest = tuple[Any, ...]  # Digest's fields
WireRef = tuple[str, int, dedup.Rank]  # NodeRef's fields
_TOP_BIT = 1 << 63
_WRAP = 1 << 64


def _signed(phash: int | None) -> int | None:
    return phash - _WRAP if phash is not None and phash >= _TOP_BIT else phash


def _unsigned(value: int | None) -> int | None:
    return value + _WRAP if value is not None and value < 0 else value


def _wire_digest(digest: Digest) -> WireDigest:
    return digest._replace(phash=_signed(digest.phash))[:]


def _node_of(image_key: str, wire: Iterable[WireDigest]) -> Node:
    digests = (Digest(*w[:4], _unsigned(w[4]), *w[5:]) for w in wire)
    return dedup.make_node(image_key, digests)


def _wire_members(node: Node) -> tuple[WireDigest, ...]:
    return tuple(_wire_digest(m) for m in node.members)


def _ref_of(wire: WireRef) -> NodeRef:
    image_key, phash, rank = wire
    return NodeRef(image_key, _unsigned(phash), tuple(rank))


def _hash_array(refs: list[WireRef]) -> np.ndarray:
    """The refs' perceptual hashes as uint64 (the signed wire values, reinterpreted)."""
    return np.fromiter((r[1] for r in refs), dtype=np.int64, count=len(refs)).view(np.uint64)


def _wire_ref(node: Node) -> Iterator[WireRef]:
    """The ref of a node with a perceptual hash: the near search needs no more."""
    if node.phash is not None:
        yield node.image_key, _signed(node.phash), node.rank


# --------------------------------------------------------------------------- steps


def _by_image(sample: Sample) -> tuple[str, WireDigest]:
    digest = dedup.digest(sample)
    return digest.image_key, _wire_digest(digest)


def _to_block(ref: WireRef, blocks: int) -> tuple[int, tuple[int, Any]]:
    return int(unit_hash(ref[0], "near") * blocks), (_REF, ref)


def _spread_count(item: tuple[str, int], blocks: int) -> Iterator[tuple[int, tuple[int, Any]]]:
    for block in range(blocks):
        yield block, (_COUNT, item[1])


def _block_entries(
    block: tuple[int, Iterable[tuple[int, Any]]], config: DedupConfig
) -> Iterator[tuple[tuple[int, int, int], list[WireRef]]]:
    """One block's refs grouped by candidate key: one entry per key present in the block.

    The band count travels in the key, for the comparison; unless configured, it is
    chosen from the number of hashed nodes, which every block receives.
    """
    refs, n = [], 0
    for tag, value in block[1]:
        if tag == _COUNT:
            n = value
        else:
            refs.append(value)
    k = config.near_distance
    m = config.near_bands or nearsearch.choose_bands(k, n, dedup.BEAM_KEY_COST)
    hashes = _hash_array(refs)
    for subset_index, packed, positions in nearsearch.key_groups(hashes, k, m):
        yield (m, subset_index, packed), [refs[p] for p in positions.tolist()]


def _bucket_edges(group: tuple[tuple[int, int, int], Iterable[list[WireRef]]], k: int) -> Iterator[tuple]:
    (m, subset_index, _), parts = group
    refs = [r for part in parts for r in part]
    if len(refs) < 2:
        return
    hashes = _hash_array(refs)
    for a, b, distance in dedup.bucket_edges(k, m, subset_index, hashes):
        yield refs[a], refs[b], distance


def _assign_centres(gathered: dict[str, list[tuple]]) -> list[tuple[str, str]]:
    edges = (Edge(_ref_of(a), _ref_of(b), d) for a, b, d in gathered.get("edges", []))
    return list(dedup.assign_centres(edges).items())


def _to_cluster(item: tuple[str, dict[str, list[Any]]]) -> Iterator[tuple[str, tuple[WireDigest, ...]]]:
    """A node with an edge goes to its centre's cluster; one without is a cluster of its
    own, which needs deciding only when it holds exact copies (a lone sample keeps itself)."""
    image_key, joined = item
    for members in joined["node"]:
        if joined["centre"]:
            yield joined["centre"][0], members
        elif len(members) > 1:
            yield image_key, members


def _decide(cluster: tuple[str, Iterable[tuple[WireDigest, ...]]], config: DedupConfig) -> Iterator[tuple]:
    centre, wired = cluster
    nodes = [_node_of(members[0][3], members) for members in wired]
    for decision in dedup.decide_cluster(centre, nodes, config):
        yield decision.key, decision[:]


# --------------------------------------------------------------------------- transforms


class NearEdges(beam.PTransform):
    """Node refs -> wire edges between nodes whose perceptual hashes are within the distance.

    Refs are hashed onto ``blocks`` blocks; each block groups its refs by candidate
    key (``nearsearch.key_groups``) and ships one record per key, so a shuffled record
    carries many refs, not one. The number of hashed nodes, for the band count, reaches
    every block through the same GroupByKey (no side input: pipelines.portable).
    """

    def __init__(self, config: DedupConfig, blocks: int = NEAR_BLOCKS) -> None:
        super().__init__()
        self.config = config
        self.blocks = blocks

    def expand(self, refs: beam.PCollection) -> beam.PCollection:
        count = (
            refs
            | "Hashed" >> beam.Map(lambda ref: ("hashed", 1))
            | "CountHashed" >> beam.combiners.Count.PerKey()
            | "SpreadCount" >> beam.FlatMap(_spread_count, self.blocks)
        )
        return (
            (refs | "ToBlocks" >> beam.Map(_to_block, self.blocks), count)
            | "WithCount" >> beam.Flatten()
            | "GroupBlocks" >> beam.GroupByKey()
            | "BlockKeys" >> beam.FlatMap(_block_entries, self.config)
            | "GroupBands" >> beam.GroupByKey()
            | "CompareInGroup" >> beam.FlatMap(_bucket_edges, self.config.near_distance)
        )


class Decide(beam.PTransform):
    """Samples -> (key, wire Decision) for every sample of a cluster of two or more.

    ``released``: optional ``(image key, Digest)`` of an update's released samples
    (``pipelines.update``); they join the nodes and, ranked first, always win.
    """

    def __init__(
        self, config: DedupConfig, released: beam.PCollection | None = None, *, near_blocks: int = NEAR_BLOCKS
    ) -> None:
        super().__init__()
        self.config = config
        self.released = released
        self.near_blocks = near_blocks

    def expand(self, samples: beam.PCollection) -> beam.PCollection:
        digests = samples | "Digest" >> beam.Map(_by_image)
        if self.released is not None:
            released = self.released | "ReleasedWire" >> beam.MapTuple(lambda k, d: (k, _wire_digest(d)))
            digests = (digests, released) | "WithReleased" >> beam.Flatten()
        nodes = digests | "GroupExact" >> beam.GroupByKey() | "Node" >> beam.MapTuple(_node_of)
        if self.config.near_distance >= 0:
            centres = (
                nodes
                | "Refs" >> beam.FlatMap(_wire_ref)
                | "NearEdges" >> NearEdges(self.config, self.near_blocks)
                | "CollectEdges" >> _GatherEdges()
                | "AssignCentres" >> beam.FlatMap(_assign_centres)
            )
        else:
            centres = samples.pipeline | "NoCentres" >> beam.Create([])
        return (
            {
                "node": nodes | "ByImage" >> beam.Map(lambda n: (n.image_key, _wire_members(n))),
                "centre": centres,
            }
            | "JoinCentres" >> beam.CoGroupByKey()
            | "ToClusters" >> beam.FlatMap(_to_cluster)
            | "GroupClusters" >> beam.GroupByKey()
            | "DecideClusters" >> beam.FlatMap(_decide, self.config)
        )


class _GatherEdges(beam.PTransform):
    """Every edge onto one worker, as one element: ``{"edges": [...]}`` (maybe empty)."""

    def expand(self, edges: beam.PCollection) -> beam.PCollection:
        return {"edges": edges} | "Gather" >> Gather()


class Deduplicate(beam.PTransform):
    """Samples -> {"placed": ((split, shard), kept sample), "samples": kept samples with their
    cluster fields, "rejects": duplicates and boilerplate}.

    Raises ValueError at construction for a configuration that cannot work. ``released``:
    see ``Decide``; a new sample that duplicates a released one is dropped, naming it.
    ``shard_size``: samples per shard, for the shard numbers ``pipelines.placement``
    gives the kept samples in the same shuffle that applies the decisions.
    ``near_blocks`` tunes the near search (``NearEdges``), never the result.
    """

    def __init__(
        self,
        config: DedupConfig,
        released: beam.PCollection | None = None,
        *,
        shard_size: int = _SHARD_SIZE,
        near_blocks: int = NEAR_BLOCKS,
    ) -> None:
        super().__init__()
        dedup.check_config(config)
        self.config = config
        self.released = released
        self.shard_size = shard_size
        self.near_blocks = near_blocks

    def expand(self, samples: beam.PCollection) -> dict[str, beam.PCollection]:
        if self.config.enabled:
            decisions = samples | "Decide" >> Decide(self.config, self.released, near_blocks=self.near_blocks)
        else:
            decisions = samples.pipeline | "NoDecisions" >> beam.Create([])
        placed = {"samples": samples, "decisions": decisions} | "Place" >> Place(self.shard_size)
        kept = placed[PLACED] | "Kept" >> beam.Values()
        return {PLACED: placed[PLACED], "samples": kept, REJECTS: placed[REJECTS]}
