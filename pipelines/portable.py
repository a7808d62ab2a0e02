"""Runner-neutral building blocks: routed outputs, joins and a gather without side inputs.

Why this exists: Beam 2.77's Dask runner (``apache_beam.runners.dask``) translates only
Create, single-output ParDo, GroupByKey and Flatten, and only computes the graph behind
the *last* transform. On it,

- a ParDo's tagged outputs (``with_outputs``) all land in one Dask bag: the tags are
  dropped, so every consumer of any output receives every output of the producer;
- a side input (``AsDict``, ``AsSingleton``, and ``CombineGlobally``/``Count.Globally``/
  ``ToList``, which use one to inject their default) is computed by re-running its whole
  upstream graph inside each consuming task with the local scheduler, so the build would
  run several times over, and values can be counted twice.

The build therefore uses only those four primitives, the same way on every runner:
secondary outputs travel as ``Routed`` elements and are split off by tag; a value that
each element needs (the size of its split) reaches it through a GroupByKey join; and the
final summary is gathered onto one key, so the manifest step depends on every write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam

from pmc15m.rules.splits import unit_hash

# Sub-keys a group's total is copied to in ``JoinTotals``: each GroupByKey key then holds
# about 1/JOIN_BUCKETS of a group (a 20M-sample split: ~5,000 samples, under one shard).
JOIN_BUCKETS = 4096


class Routed(NamedTuple):
    """An element bound for the secondary output ``tag`` of the step that yields it."""

    tag: str
    value: Any


def _main_only(element: Any) -> Iterator[Any]:
    if not isinstance(element, Routed):
        yield element


def _tagged(element: Any, tag: str) -> Iterator[Any]:
    if isinstance(element, Routed) and element.tag == tag:
        yield element.value


class Routes(beam.PTransform):
    """Apply ``transform`` (a single-output ParDo/FlatMap) and split its outputs by tag.

    Plain elements form the ``main`` output; ``Routed(tag, value)`` elements form output
    ``tag``. Returns ``{main: ..., tag: ...}``, the same shape ``with_outputs`` gives.
    """

    def __init__(self, transform: beam.PTransform, tags: Iterable[str], main: str) -> None:
        super().__init__()
        self.transform = transform
        self.tags = tuple(tags)
        self.main = main

    def expand(self, pcoll: beam.PCollection) -> dict[str, beam.PCollection]:
        mixed = pcoll | "Emit" >> self.transform
        outputs = {self.main: mixed | f"Only_{self.main}" >> beam.FlatMap(_main_only)}
        for tag in self.tags:
            outputs[tag] = mixed | f"Only_{tag}" >> beam.FlatMap(_tagged, tag)
        return outputs


def _bucket(text: str, buckets: int) -> int:
    return int(unit_hash(text, "join") * buckets)


def _spread_total(item: tuple[Any, int], buckets: int) -> Iterator[tuple[tuple[Any, int], Routed]]:
    group, total = item
    for bucket in range(buckets):
        yield (group, bucket), Routed("total", total)


def _attach_total(item: tuple[tuple[Any, int], Iterable[Any]]) -> Iterator[tuple[Any, int, Any]]:
    (group, _), values = item
    total, members = None, []
    for value in values:
        if isinstance(value, Routed):
            total = value.value
        else:
            members.append(value)
    for member in members:
        yield group, total, member


class JoinTotals(beam.PTransform):
    """Pair each ``(group, item)`` with its group's total from ``(group, total)``: no side input.

    The input is a dict ``{"items": ..., "totals": ...}``; the output holds
    ``(group, total, item)`` triples. ``spread_key(item)`` names the item for hashing it
    onto one of ``buckets`` sub-keys; each group's total is copied to all of them, so no
    single GroupByKey key has to hold a whole group (a whole split) on one worker.
    """

    def __init__(self, spread_key: Callable[[Any], str], buckets: int = JOIN_BUCKETS) -> None:
        super().__init__()
        self.spread_key = spread_key
        self.buckets = buckets

    def expand(self, pcolls: dict[str, beam.PCollection]) -> beam.PCollection:
        spread_key, buckets = self.spread_key, self.buckets
        items = pcolls["items"] | "BucketItems" >> beam.Map(
            lambda kv: ((kv[0], _bucket(spread_key(kv[1]), buckets)), kv[1])
        )
        totals = pcolls["totals"] | "SpreadTotals" >> beam.FlatMap(_spread_total, buckets)
        return (
            (items, totals)
            | "Together" >> beam.Flatten()
            | "ByBucket" >> beam.GroupByKey()
            | "AttachTotal" >> beam.FlatMap(_attach_total)
        )


def _collect(item: tuple[int, Iterable[Routed]]) -> dict[str, list[Any]]:
    _, values = item
    gathered: dict[str, list[Any]] = {}
    for routed in values:
        gathered.setdefault(routed.tag, []).append(routed.value)
    gathered.pop("_seed", None)
    return gathered


class Gather(beam.PTransform):
    """Bring small PCollections together as one element ``{name: [values ...]}``.

    Always yields exactly one element (a seed is added), even when every input is empty,
    and it depends on every input, so a step applied to it runs after all of them.
    """

    def expand(self, pcolls: dict[str, beam.PCollection]) -> beam.PCollection:
        pipeline = next(iter(pcolls.values())).pipeline
        tagged = [pipeline | "Seed" >> beam.Create([Routed("_seed", None)])]
        for name, pcoll in pcolls.items():
            tagged.append(pcoll | f"Tag_{name}" >> beam.Map(lambda value, tag=name: Routed(tag, value)))
        return (
            tagged
            | "All" >> beam.Flatten()
            | "OneKey" >> beam.Map(lambda routed: (0, routed))
            | "Group" >> beam.GroupByKey()
            | "Collect" >> beam.Map(_collect)
        )
