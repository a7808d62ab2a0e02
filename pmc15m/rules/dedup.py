"""Exact and near-duplicate figures: candidate search, clusters, representatives, boilerplate.

PMC repeats figures (new versions, corrections, reviews reprinting them, publisher logos),
and a duplicate across train and test makes retrieval results meaningless. This module
decides, for every sample, whether it is kept or dropped as a duplicate and of which
sample; ``pipelines/dedup.py`` runs the same functions as a Beam transform.

**Exact duplicates** share an *image key*: ``pixel_sha256`` (the hash of the normalised
pixels, so a JPEG and a PNG of the same pixels match), or ``src_sha256`` (the file's
bytes) while a sample has no pixel hash. The samples of one image key form a *node*.

**Near duplicates** have 64-bit perceptual hashes (``phash``) within Hamming distance
``k = near_distance``. Default ``k = 6``, measured on the generator's ``near_duplicate``
copies (crop up to 1.5%, rescale 0.85-1.1, re-toned, re-encoded) of 600 figures after
``process_image``: distances 0 (249), 2 (283), 4 (50), 6 (17), 8 (1); phash thresholds at
the median, so distances are even. Among 3,000 distinct figures (4.5 million pairs): 1
pair within 4, 5 within 6, 28 within 8, 102 within 10. So k = 6 finds 99.8% of the copies
at 1.1e-6 false pairs per pair; k = 4 finds only 88.7%; k = 8 finds all at 6.2e-6, five
times the false pairs. In the seed-0 mini corpus the planted near pairs are at 0 and 4
and the closest distinct pair at 10.

**Candidate search, no all-pairs** (``pmc15m.rules.nearsearch``): the 64 bits are cut into
m bands; any pair within k agrees exactly on at least m - k of them (pigeonhole), so only
hashes that agree on some (m - k)-subset of the bands are compared. ``near_bands`` = 0
(default) picks m from the number of images and from what one key costs on the path
(``MEMORY_KEY_COST``, ``BEAM_KEY_COST``): 7 or 8 bands at k = 6 up to ~10^7 images.

**Chains (A≈B, B≈C, A≉C): representative-centred clusters.** Nodes are visited in rank
order; a node not yet taken becomes a centre and takes every node not yet taken within k
of it. With A ranked first, {A, B} keep A and C stays a cluster of its own, kept; with B
first, {B, A, C} keep B. So every dropped sample is within k of the sample named in its
``duplicate_of``, and no two kept samples are within k of each other (a centre within k
of an earlier centre would have been taken by it): whatever splits kept samples are in,
no near-duplicate pair crosses them. Single linkage (connected components) was rejected:
at 1.1e-6 false pairs per pair, 10^6 figures give about 5.5e5 false edges, past the
point where chains join most figures into one giant cluster.

**Representative:** the newest version, then the smallest PMCID (by number), then the
smallest key: the original publication rather than the review that reprinted it.

**Boilerplate:** a cluster whose samples come from more than ``boilerplate_articles``
(default 5) distinct articles is dropped whole. The largest planted reuse spans 3
articles (a figure reprinted in a correction and a review), while journal logos and
licence badges recur in hundreds; either mistake costs at most one sample, because the
cluster keeps only one sample anyway.

**Splits:** a sample's split is its article's (``pmc15m.rules.splits``); only representatives
are kept, so a cluster lives in its representative's split and an article's kept
figures stay together. ``Decision.split`` records that split for every member.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from pmc15m.core import reasons
from pmc15m.core.config import DedupConfig
from pmc15m.core.record import Sample
from pmc15m.rules import nearsearch

# What one key costs, in comparisons of two hashes (~8 ns in numpy), measured with
# benchmarks/bench_dedup.py: sorting a key in memory ~0.085 us per hash; a band-key record
# on Beam's DirectRunner ~30-40 us (serialise, shuffle, one call per group). They make
# ``nearsearch.choose_bands`` pick 8 bands in memory and 7 on Beam below ~10^7 images.
# Checked on DirectRunner at 10^5 samples (the bench's input, process CPU per sample):
# 7 bands 84-88 us, 8 bands 469 us, 9 bands 806 us: with 16-bit or longer keys nearly
# every candidate group holds one hash, so a key costs a record and a call for nothing.
MEMORY_KEY_COST = 10.0
BEAM_KEY_COST = 4000.0
_DIGITS = re.compile(r"\d+")

Rank = tuple[int, int, str]


def pmcid_number(pmcid: str) -> int:
    match = _DIGITS.search(pmcid)
    return int(match.group()) if match else 0


def rank_of(key: str, pmcid: str, version: int) -> Rank:
    """Smaller is preferred: the newest version, then the smallest PMCID, then the key."""
    return (-version, pmcid_number(pmcid), key)


class Digest(NamedTuple):
    """What deduplication needs of a sample: no image bytes, no caption text."""

    key: str
    pmcid: str
    split: str
    image_key: str  # pixel hash, else file hash, else "key:<key>"
    phash: int | None
    caption_sha: str
    rank: Rank


class Node(NamedTuple):
    """The samples of one image key: an exact-duplicate group, usually of one."""

    image_key: str
    phash: int | None
    members: tuple[Digest, ...]  # best rank first
    rank: Rank  # the best member's


class NodeRef(NamedTuple):
    """A node as the candidate search carries it: no members."""

    image_key: str
    phash: int
    rank: Rank


class Edge(NamedTuple):
    """Two nodes whose perceptual hashes are within ``near_distance``."""

    a: NodeRef
    b: NodeRef
    distance: int


class Decision(NamedTuple):
    """What happens to one sample of a cluster of two or more (singletons get none)."""

    key: str
    cluster_id: str  # the representative's key
    cluster_size: int
    split: str  # the representative's split
    reason: str = ""  # "" when kept
    duplicate_of: str = ""
    detail: str = ""


def check_config(config: DedupConfig) -> None:
    """Raise ValueError with a one-line message for settings that cannot work."""
    if config.boilerplate_articles < 1:
        raise ValueError(f"boilerplate_articles must be at least 1, not {config.boilerplate_articles}")
    k = config.near_distance
    if k == -1:
        return
    if config.near_bands < 0:
        raise ValueError(f"near_bands must be 0 (chosen per build) or a band count, not {config.near_bands}")
    nearsearch.check_bands(k, config.near_bands or k + 1)


def band_count(config: DedupConfig, n: int, key_cost: float) -> int:
    """The configured band count, or the cheapest for ``n`` hashes at ``key_cost``."""
    return config.near_bands or nearsearch.choose_bands(config.near_distance, n, key_cost)


def parse_phash(text: str) -> int | None:
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def digest(sample: Sample) -> Digest:
    """The sample's digest; the image key falls back to the file hash, then to the key."""
    return Digest(
        sample.key,
        sample.pmcid,
        sample.split,
        sample.pixel_sha256 or sample.src_sha256 or f"key:{sample.key}",
        parse_phash(sample.phash),
        hashlib.sha256(sample.caption.encode()).hexdigest()[:16],
        rank_of(sample.key, sample.pmcid, sample.version),
    )


def make_node(image_key: str, digests: Iterable[Digest]) -> Node:
    """The node of one image key. Its phash is its best member's (all agree normally)."""
    members = tuple(digests)
    if len(members) > 1:
        members = tuple(sorted(members, key=lambda d: d.rank))
    return Node(image_key, members[0].phash, members, members[0].rank)


def node_ref(node: Node) -> NodeRef:
    assert node.phash is not None
    return NodeRef(node.image_key, node.phash, node.rank)


# --------------------------------------------------------------------------- edges


def near_edges(nodes: Sequence[Node], config: DedupConfig) -> list[Edge]:
    """The edges among ``nodes`` (those with a perceptual hash), in memory."""
    hashed = [node for node in nodes if node.phash is not None]
    if config.near_distance < 0 or len(hashed) < 2:
        return []
    hashes = np.fromiter((node.phash for node in hashed), dtype=np.uint64, count=len(hashed))
    m = band_count(config, len(hashed), MEMORY_KEY_COST)
    found = nearsearch.near_pairs(hashes, config.near_distance, m)
    return [
        Edge(node_ref(hashed[a]), node_ref(hashed[b]), d)
        for a, b, d in zip(found.i.tolist(), found.j.tolist(), found.distance.tolist(), strict=True)
    ]


def bucket_edges(k: int, m: int, subset_index: int, hashes: np.ndarray) -> list[tuple[int, int, int]]:
    """(i, j, distance) of the pairs one candidate group reports (the Beam path: one group
    per key). Positions, not refs: a group holds hundreds of refs and few edges, so only
    the ends of an edge are worth turning into records."""
    if len(hashes) < 2:
        return []
    found = nearsearch.bucket_pairs(hashes, subset_index, k, m)
    return list(zip(found.i.tolist(), found.j.tolist(), found.distance.tolist(), strict=True))


# --------------------------------------------------------------------------- clusters


def assign_centres(edges: Iterable[Edge]) -> dict[str, str]:
    """Image key -> its cluster's centre, for every node with an edge (see the docstring).

    The result depends only on the set of edges and the ranks, not on their order.
    """
    neighbours: dict[str, list[str]] = defaultdict(list)
    rank: dict[str, Rank] = {}
    for edge in edges:
        neighbours[edge.a.image_key].append(edge.b.image_key)
        neighbours[edge.b.image_key].append(edge.a.image_key)
        rank[edge.a.image_key], rank[edge.b.image_key] = edge.a.rank, edge.b.rank
    centre: dict[str, str] = {}
    for node in sorted(rank, key=rank.__getitem__):
        if node in centre:
            continue
        centre[node] = node
        for other in neighbours[node]:
            centre.setdefault(other, node)
    return centre


def decide_cluster(centre_key: str, nodes: Sequence[Node], config: DedupConfig) -> list[Decision]:
    """The decisions of one cluster: its centre node and the nodes it took (none for one sample)."""
    if len(nodes) == 1 and len(nodes[0].members) == 1:
        return []
    centre = next(n for n in nodes if n.image_key == centre_key)
    rep = centre.members[0]
    size = sum(len(n.members) for n in nodes)
    cluster = {"cluster_id": rep.key, "cluster_size": size, "split": rep.split}
    articles = len({m.pmcid for n in nodes for m in n.members})
    if articles > config.boilerplate_articles:
        detail = f"the image is in {articles} articles"
        return [
            Decision(m.key, reason=reasons.BOILERPLATE, detail=detail, **cluster)
            if m is rep
            else Decision(m.key, reason=reasons.BOILERPLATE, duplicate_of=rep.key, detail=detail, **cluster)
            for n in nodes
            for m in n.members
        ]
    return [Decision(rep.key, **cluster), *_duplicates(centre, nodes, cluster)]


def _duplicates(centre: Node, nodes: Sequence[Node], cluster: dict) -> list[Decision]:
    """The dropped members of a cluster that is not boilerplate."""
    rep = centre.members[0]
    out = []
    for m in centre.members[1:]:
        detail = "same image and caption" if m.caption_sha == rep.caption_sha else "same image"
        out.append(
            Decision(m.key, reason=reasons.DUPLICATE_EXACT, duplicate_of=rep.key, detail=detail, **cluster)
        )
    for node in nodes:
        if node is centre:
            continue
        assert node.phash is not None and centre.phash is not None
        detail = f"phash distance {hamming(node.phash, centre.phash)}"
        out += [
            Decision(m.key, reason=reasons.DUPLICATE_NEAR, duplicate_of=rep.key, detail=detail, **cluster)
            for m in node.members
        ]
    return out


def deduplicate(digests: Iterable[Digest], config: DedupConfig) -> dict[str, Decision]:
    """Decisions for every sample in a cluster of two or more, all in memory."""
    if not config.enabled:
        return {}
    with _without_cyclic_gc():
        groups: dict[str, list[Digest]] = defaultdict(list)
        for d in digests:
            groups[d.image_key].append(d)
        nodes = [make_node(key, members) for key, members in groups.items()]
        centre = assign_centres(near_edges(nodes, config))
        clusters: dict[str, list[Node]] = defaultdict(list)
        for node in nodes:
            clusters[centre.get(node.image_key, node.image_key)].append(node)
        return {
            d.key: d
            for key, members in clusters.items()
            if len(members) > 1 or len(members[0].members) > 1
            for d in decide_cluster(key, members, config)
        }


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector, restoring its state after.

    The in-memory pass builds millions of small acyclic objects (tuples, lists, dicts),
    which reference counting alone frees; the cyclic collector would walk all of them
    again and again: 17 s instead of 9 s at 10^6 hashes (benchmarks/bench_dedup.py).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def apply_decision(sample: Sample, decision: Decision | None) -> Sample:
    """The sample with its cluster fields set, or its rejection; a new record either way."""
    if decision is None:
        return dataclasses.replace(sample, cluster_id=sample.key, cluster_size=1, duplicate_of="")
    out = dataclasses.replace(
        sample,
        cluster_id=decision.cluster_id,
        cluster_size=decision.cluster_size,
        duplicate_of=decision.duplicate_of,
    )
    if decision.reason:
        return out.rejected(decision.reason, decision.detail)
    out.split = decision.split
    return out


def deduplicate_samples(samples: Sequence[Sample], config: DedupConfig) -> list[Sample]:
    """Every sample, kept (cluster fields set) or rejected: the whole policy over a list."""
    decisions = deduplicate((digest(s) for s in samples), config)
    return [apply_decision(s, decisions.get(s.key)) for s in samples]
