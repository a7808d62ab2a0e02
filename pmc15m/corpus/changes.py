"""Corpus "state 2": the same generated corpus a day later, changed the way PMC changes.

``build --update`` refreshes a release from a newer state of the bucket, so the demo and the
tests need a second state of the same corpus. State 2 is state 1 with: articles added
(planned from another seed, numbered after the last PMCID, one of them reusing the image
of a released sample), a new version of one article (one image different), one article
changed in place (an image rewritten, so its metadata ETag changes), one article removed,
and a new inventory report a day newer listing what is there now. The articles it touches
take part in no planted cross-article duplicate, so a clean build of state 2 and an update
of state 1 agree on every live sample (tests/shards/test_update.py).

State 2 is a pure function of state 1 (seed, article count, figure scale): made in place or
from scratch, once or twice, it is the same bytes. ``ground-truth.json`` keeps describing
state 1 (what a clean build of state 1 keeps or rejects), its rows unchanged, and gains
``"state": 2`` and ``"changes"`` (the ``Changes`` record): an exact state-2 truth would have
to restate which copy of a cross-state duplicate wins, and that differs between a clean
build and an update; the state-1 rows plus the changes say everything a test needs, and
are what makes running state 2 again reproduce the same bytes.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmc15m.corpus.bucket_writer import md5_hex, write_article
from pmc15m.corpus.edits import newest_report, next_report_date, write_newer_report
from pmc15m.corpus.generator import DEFAULT_DATE, GROUND_TRUTH, generate_corpus
from pmc15m.corpus.inventory_writer import parse_inventory_date
from pmc15m.corpus.model import ArticlePlan, FigurePlan, GraphicPlan
from pmc15m.corpus.plan import plan_corpus
from pmc15m.sources.errors import SourceError

FIGURES_PER_ARTICLE = (1, 8)  # the generator's default (make-corpus has no option for it)
ADDED_SEED = 99  # plans the added articles; another when it is the corpus's own seed
N_ADDED = 3
NEW_IMAGE_SEED = 987_654_321
_TOO_SMALL = (
    "the corpus is too small for state 2 (it needs 4 ordinary articles in no planted duplicate): "
    "use more --articles (the default 60 is enough)"
)


@dataclass(frozen=True, slots=True)
class Changes:
    """What state 2 changed, so tests (and users) know what an update must do."""

    inventory_date: str  # the new, newest inventory report
    changed: str  # PMCID whose version 1 was rewritten in place (new ETag)
    new_version: str  # PMCID that got version 2 (version 1 superseded)
    removed: str  # PMCID whose only version is gone (files and newest inventory row)
    added: tuple[str, ...]
    planted: str  # the added PMCID with a copy of a released image
    released_key: str  # the released sample it copies

    def summary(self, root: str | Path) -> str:
        """The lines ``make-corpus --state 2`` prints."""
        return (
            f"state 2 of {root}: newest inventory report {self.inventory_date}\n"
            f"  added:      {', '.join(self.added)} ({self.planted} copies {self.released_key})\n"
            f"  removed:    {self.removed}\n"
            f"  superseded: {self.new_version} (version 2 added)\n"
            f"  changed:    {self.changed} (an image rewritten: new metadata ETag)\n"
        )


@dataclass(frozen=True, slots=True)
class _Picks:
    """The state-1 articles state 2 touches, and the released figure the planted one copies."""

    changed: str
    new_version: str
    removed: str
    released: FigurePlan
    released_key: str


def make_state2(root: str | Path, *, seed: int, n_articles: int = 60, figure_scale: float = 1.0) -> Changes:
    """Make ``root`` hold state 2: state 1 is generated first when ``root`` is new or empty."""
    root = Path(root)
    existed = root.exists()
    fresh = not existed or (root.is_dir() and not any(root.iterdir()))
    if fresh:
        try:
            generate_corpus(root, seed=seed, n_articles=n_articles, figure_scale=figure_scale)
        except ValueError as exc:
            raise SourceError(str(exc)) from exc
    try:
        return apply_state2(root, seed=seed, n_articles=n_articles, figure_scale=figure_scale)
    except SourceError:
        if fresh:  # leave no state 1 behind: its options would block the next try
            shutil.rmtree(root)
            if existed:
                root.mkdir()
        raise


def derive_state(
    state1: Path, state2: Path, *, seed: int, n_articles: int, figure_scale: float = 1.0
) -> Changes:
    """Write state 2 of the corpus at ``state1`` to the new directory ``state2``."""
    shutil.copytree(state1, state2)
    return apply_state2(state2, seed=seed, n_articles=n_articles, figure_scale=figure_scale)


def apply_state2(root: Path, *, seed: int, n_articles: int, figure_scale: float = 1.0) -> Changes:
    """Turn state 1 at ``root`` into state 2 in place; on state 2, rewrite the same bytes.

    Refuses (SourceError) a directory that is no corpus, the corpus of other options, or
    one changed since (a newer inventory report, an untouched article's new ETag).
    """
    truth = _read_truth(root, seed, n_articles)
    date = truth.get("inventory_date", DEFAULT_DATE)
    date2 = next_report_date(date)
    newest = newest_report(root)
    if newest != (date2 if truth.get("state") == 2 else date):
        raise SourceError(f"{root} has changed since make-corpus wrote it (newest inventory report {newest})")
    plans = {
        (p.pmcid, p.version): p
        for p in plan_corpus(seed, n_articles, FIGURES_PER_ARTICLE, parse_inventory_date(date), figure_scale)
    }
    picks = _pick(truth, plans)
    _check_state1(root, truth, plans, picks, figure_scale)
    changes = _write_changes(root, plans, picks, (seed, figure_scale), (date, date2))
    truth.update(state=2, changes=dataclasses.asdict(changes))
    text = json.dumps(truth, indent=1, ensure_ascii=False) + "\n"  # as the generator writes it
    (root / GROUND_TRUTH).write_text(text, encoding="utf-8")
    return changes


def _read_truth(root: Path, seed: int, n_articles: int) -> dict[str, Any]:
    path = root / GROUND_TRUTH
    if not path.is_file():
        raise SourceError(f"{root} is not empty and holds no generated corpus (no {GROUND_TRUTH})")
    truth = json.loads(path.read_text(encoding="utf-8"))
    made = (truth.get("seed"), truth.get("n_articles"))
    if made != (seed, n_articles):
        raise SourceError(
            f"{root} holds the corpus of --seed {made[0]} --articles {made[1]}, "
            f"not --seed {seed} --articles {n_articles}: give those options or a new directory"
        )
    return truth


def _plain_kept(truth: dict[str, Any]) -> dict[str, list[dict]]:
    """PMCID -> its kept figures, for normal processed articles in no planted duplicate."""
    in_dups = {key.split("_", 1)[0] for groups in truth["duplicates"].values() for g in groups for key in g}
    normal = {a["pmcid"] for a in truth["articles"] if a["role"] == "normal" and a["expected"] == "processed"}
    kept: dict[str, list[dict]] = {}
    for fig in truth["figures"]:
        if fig["expected"] == "kept" and fig["pmcid"] in normal - in_dups:
            kept.setdefault(fig["pmcid"], []).append(fig)
    return dict(sorted(kept.items()))


def _pick(truth: dict[str, Any], plans: dict[tuple[str, int], ArticlePlan]) -> _Picks:
    """The first plain articles fit for each change, in PMCID order (so always the same)."""
    kept = _plain_kept(truth)
    with_jpeg = [p for p in kept if _first_jpeg(plans[(p, 1)]) is not None]
    if len(with_jpeg) < 2 or len(kept) < 4:
        raise SourceError(_TOO_SMALL)
    changed, new_version = with_jpeg[:2]
    rest = [p for p in kept if p not in (changed, new_version)]
    for source in rest[1:]:
        rows = {row["fig_id"]: row["key"] for row in kept[source]}
        released = _plain_figure(plans[(source, 1)], "jpeg")
        if released is not None and released.key_id in rows:
            return _Picks(changed, new_version, rest[0], released, rows[released.key_id])
    raise SourceError(_TOO_SMALL)


def _check_state1(
    root: Path,
    truth: dict[str, Any],
    plans: dict[tuple[str, int], ArticlePlan],
    picks: _Picks,
    figure_scale: float,
) -> None:
    """Every article state 2 leaves alone is as generated, and the plans are the corpus's."""
    rewritten = {f"metadata/{picks.changed}.1.json", f"metadata/{picks.removed}.1.json"}
    for row in truth["articles"]:
        path = root / row["metadata_key"]
        if row["metadata_key"] not in rewritten and (
            not path.is_file() or md5_hex(path.read_bytes()) != row["etag"]
        ):
            raise SourceError(f"{root} has changed since make-corpus wrote it ({row['metadata_key']})")
    # Figure sizes are not in the ground truth: one article rendered again tells the scale.
    source = picks.released_key.split("_", 1)[0]
    with tempfile.TemporaryDirectory() as tmp:
        etag = write_article(Path(tmp), plans[(source, 1)]).etag
    if etag != next(a["etag"] for a in truth["articles"] if a["pmcid"] == source):
        raise SourceError(
            f"{root} was made with another --figure_scale than {figure_scale}: "
            "give the one it was made with, or a new directory"
        )


def _write_changes(
    root: Path,
    plans: dict[tuple[str, int], ArticlePlan],
    picks: _Picks,
    corpus: tuple[int, float],
    dates: tuple[str, str],
) -> Changes:
    """Write state 2's objects and its inventory report (corpus: seed, figure scale)."""
    (seed, figure_scale), (date, date2) = corpus, dates
    write_article(root, _new_image(plans[(picks.changed, 1)], NEW_IMAGE_SEED))
    newer = _new_image(plans[(picks.new_version, 1)], NEW_IMAGE_SEED + 1)
    newer.version = 2
    write_article(root, newer)
    (root / "metadata" / f"{picks.removed}.1.json").unlink(missing_ok=True)
    shutil.rmtree(root / f"{picks.removed}.1", ignore_errors=True)
    added = _added(plans, seed, date, figure_scale)
    planted = next(p for p in reversed(added) if _plain_figure(p, "jpeg") is not None)
    planted_figure = _plain_figure(planted, "jpeg")
    assert planted_figure is not None
    planted_figure.graphics[0].image = picks.released.graphics[0].image
    for plan in added:
        write_article(root, plan)
    write_newer_report(root, date, date2, seed)
    return Changes(
        inventory_date=date2,
        changed=picks.changed,
        new_version=picks.new_version,
        removed=picks.removed,
        added=tuple(p.pmcid for p in added),
        planted=planted.pmcid,
        released_key=picks.released_key,
    )


def _first_jpeg(plan: ArticlePlan) -> GraphicPlan | None:
    """The first figure graphic of ``plan`` with a JPEG image, None if none."""
    return next(
        (g for f in plan.figures() for g in f.graphics if g.image is not None and g.image.kind == "jpeg"),
        None,
    )


def _new_image(plan: ArticlePlan, seed: int) -> ArticlePlan:
    """A copy of ``plan`` whose first JPEG figure image is another picture (same size)."""
    out = copy.deepcopy(plan)
    graphic = _first_jpeg(out)
    assert graphic is not None and graphic.image is not None  # _pick chose articles with one
    graphic.image = dataclasses.replace(graphic.image, seed=seed)
    return out


def _plain_figure(plan: ArticlePlan, kind: str) -> FigurePlan | None:
    """A figure with one ordinary image of ``kind`` and no special case (it is kept)."""
    return next(
        (
            f
            for f in plan.figures()
            if not f.tags
            and f.caption is not None
            and len(f.graphics) == 1
            and f.graphics[0].image is not None
            and f.graphics[0].image.kind == kind
            and f.graphics[0].image.near_seed is None
        ),
        None,
    )


def _added(
    plans: dict[tuple[str, int], ArticlePlan], seed: int, date: str, figure_scale: float
) -> list[ArticlePlan]:
    """``N_ADDED`` articles planned from another seed, numbered after every state-1 PMCID."""
    last = max(int(pmcid[3:]) for pmcid, _ in plans)
    other = ADDED_SEED if seed != ADDED_SEED else ADDED_SEED + 1  # image seeds are per plan seed
    planned = plan_corpus(other, N_ADDED, FIGURES_PER_ARTICLE, parse_inventory_date(date), figure_scale)
    out = []
    for number, plan in enumerate((p for p in planned if p.version == 1), start=1):
        plan = copy.deepcopy(plan)
        plan.pmcid = f"PMC{last + number * 11}"
        out.append(plan)
    return out
