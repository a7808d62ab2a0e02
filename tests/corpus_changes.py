"""Derive "corpus state 2" from a generated corpus, the way PMC changes between two days.

State 2 is a copy of state 1 with: articles added (planned from another seed, renumbered
after the last PMCID, one of them reusing a released image), a new version of one article
(one figure's image different), one article changed in place (an image rewritten, so its
metadata ETag changes), one article removed, and a new, newer inventory report listing
what is there now. The articles it touches take part in no planted cross-article
duplicate, so a clean build of state 2 and an update of state 1 must agree on every
live sample (see tests/test_update.py).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pmc15m.corpus.bucket_writer import md5_hex, write_article
from pmc15m.corpus.generator import DEFAULT_DATE, GROUND_TRUTH
from pmc15m.corpus.inventory_writer import DATE_FORMAT, parse_inventory_date, write_report
from pmc15m.corpus.model import ArticlePlan, FigurePlan
from pmc15m.corpus.plan import plan_corpus

FIGURES_PER_ARTICLE = (1, 8)  # the generator's default
ADDED_SEED = 99
NEW_IMAGE_SEED = 987_654_321


@dataclass(frozen=True, slots=True)
class Changes:
    """What ``derive_state`` did, for the test's assertions."""

    inventory_date: str
    changed: str  # PMCID whose version 1 was rewritten (new ETag)
    new_version: str  # PMCID that got version 2
    removed: str
    added: tuple[str, ...]
    planted: str  # the added PMCID with a copy of a released image
    released_key: str  # the released sample it copies


def _plain_kept(truth: dict) -> dict[str, list[dict]]:
    """PMCID -> its kept figures, for normal processed articles in no planted duplicate."""
    in_dups = {key.split("_", 1)[0] for groups in truth["duplicates"].values() for g in groups for key in g}
    normal = {a["pmcid"] for a in truth["articles"] if a["role"] == "normal" and a["expected"] == "processed"}
    kept: dict[str, list[dict]] = {}
    for fig in truth["figures"]:
        if fig["expected"] == "kept" and fig["pmcid"] in normal - in_dups:
            kept.setdefault(fig["pmcid"], []).append(fig)
    return dict(sorted(kept.items()))


def _new_image(plan: ArticlePlan, seed: int) -> ArticlePlan:
    """A copy of ``plan`` whose first figure image is a different picture."""
    out = copy.deepcopy(plan)
    graphic = next(
        g for f in out.figures() for g in f.graphics if g.image is not None and g.image.kind == "jpeg"
    )
    assert graphic.image is not None
    graphic.image = dataclasses.replace(graphic.image, seed=seed)
    return out


def _plain_figure(plan: ArticlePlan, kind: str) -> FigurePlan:
    """A figure with one ordinary image of ``kind`` and no special case (it is kept)."""
    return next(
        f
        for f in plan.figures()
        if not f.tags
        and f.caption is not None
        and len(f.graphics) == 1
        and f.graphics[0].image is not None
        and f.graphics[0].image.kind == kind
        and f.graphics[0].image.near_seed is None
    )


def _added(state1: dict[str, ArticlePlan], n: int, date: str) -> list[ArticlePlan]:
    """``n`` articles planned from another seed, renumbered after every state-1 PMCID."""
    last = max(int(p.pmcid[3:]) for p in state1.values())
    plans = [
        p
        for p in plan_corpus(ADDED_SEED, n, FIGURES_PER_ARTICLE, parse_inventory_date(date))
        if p.version == 1
    ]
    out = []
    for number, plan in enumerate(plans, start=1):
        plan = copy.deepcopy(plan)
        plan.pmcid = f"PMC{last + number * 11}"
        out.append(plan)
    return out


def _write_inventory(root: Path, date: str, seed: int) -> None:
    rows = []
    for path in sorted((root / "metadata").glob("*.json")):
        rows.append((f"metadata/{path.name}", f"{date[:10]}T00:00:00.000Z", md5_hex(path.read_bytes())))
    write_report(root, date, rows, seed)


def derive_state(state1: Path, state2: Path, *, seed: int, n_articles: int, n_added: int = 3) -> Changes:
    """Write state 2 of the corpus generated with ``seed``/``n_articles`` at ``state1``."""
    shutil.copytree(state1, state2)
    truth = json.loads((state1 / GROUND_TRUTH).read_text())
    date = truth.get("inventory_date", DEFAULT_DATE)
    plans = {
        (p.pmcid, p.version): p
        for p in plan_corpus(seed, n_articles, FIGURES_PER_ARTICLE, parse_inventory_date(date))
    }
    plain = list(_plain_kept(truth))
    changed, new_version, removed, source = plain[0], plain[1], plain[2], plain[3]
    write_article(state2, _new_image(plans[(changed, 1)], NEW_IMAGE_SEED))
    newer = _new_image(plans[(new_version, 1)], NEW_IMAGE_SEED + 1)
    newer.version = 2
    write_article(state2, newer)
    (state2 / "metadata" / f"{removed}.1.json").unlink()
    shutil.rmtree(state2 / f"{removed}.1")
    added = _added({k[0]: v for k, v in plans.items()}, n_added, date)
    released = _plain_figure(plans[(source, 1)], "jpeg")
    planted = added[-1]
    _plain_figure(planted, "jpeg").graphics[0].image = released.graphics[0].image
    for plan in added:
        write_article(state2, plan)
    released_key = next(
        f["key"] for f in truth["figures"] if f["pmcid"] == source and f["fig_id"] == released.key_id
    )
    date2 = (parse_inventory_date(date) + timedelta(days=1)).strftime(DATE_FORMAT)
    _write_inventory(state2, date2, seed)
    return Changes(
        inventory_date=date2,
        changed=changed,
        new_version=new_version,
        removed=removed,
        added=tuple(p.pmcid for p in added),
        planted=planted.pmcid,
        released_key=released_key,
    )
