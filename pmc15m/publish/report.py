"""The report page: one self-contained HTML file (plots and gallery thumbnails inlined),
and ``write_report``, which writes it beside the statistics it shows.

Self-contained so it survives being copied off a bucket, attached to an issue or opened
offline; every text from the data is HTML-escaped (captions come from publishers' XML).
Thumbnails are read from the shard tars in memory, never extracted to disk.

May import: the statistics (``pmc15m.publish.report_stats``), the plots (``pmc15m.publish.report_plots``), the
manifest and the file-system layer; nothing imports this module back but the commands.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import tarfile
from collections import defaultdict
from typing import Any

from PIL import Image

from pmc15m.publish.report_stats import (
    HTML_FILE,
    STATS_FILE,
    TEXT_CONTEXT,
    Collected,
    GalleryItem,
    build_stats,
    collect,
    gallery_items,
)
from pmc15m.shards import format as fmt
from pmc15m.shards.manifest import read_manifest
from pmc15m.storage import fs

log = logging.getLogger(__name__)

THUMB_SIDE = 256
THUMB_QUALITY = 80
THUMB_MAX_PIXELS = 64_000_000  # our own outputs are small; refuse anything absurd
CAPTION_CHARS = 320

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1080px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:32px 0 8px;border-bottom:1px solid #ddd}
.sub{color:#666;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0;font-size:.92em}
td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}
td:first-child,th:first-child{text-align:left}
figure{margin:12px 0;background:#fff;border:1px solid #e4e4e4;padding:8px;display:inline-block}
figure img{max-width:100%;display:block}
.tables{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e4e4e4;padding:8px;font-size:.85em}
.card img{width:100%;height:200px;object-fit:contain;background:#f0f0f0}
.key{font-family:ui-monospace,monospace;font-size:.85em;color:#555;word-break:break-all}
.meta{color:#777}dt{font-weight:600}dd{margin:0 0 6px 16px;color:#444}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(rows: list[tuple[str, Any]], header: tuple[str, str] | None = None) -> str:
    head = f"<tr><th>{_e(header[0])}</th><th>{_e(header[1])}</th></tr>" if header else ""
    body = "".join(
        f"<tr><td>{_e(k)}</td><td>{_e(f'{v:,}' if isinstance(v, int) else v)}</td></tr>" for k, v in rows
    )
    return f"<table>{head}{body}</table>"


def _summary_rows(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (name, summary[name]) for name in ("n", "mean", "p10", "p50", "p90", "p99", "max") if name in summary
    ]


def _overview(stats: dict[str, Any]) -> str:
    splits = [(split, n) for split, n in stats["splits"].items()] + [("all", stats["samples"])]
    rejects = sum(sum(level.values()) for level in stats["rejects"].values())
    tokens = stats["caption_tokens"]
    over = tokens.get(f"share_over_{TEXT_CONTEXT}", 0.0)
    return (
        '<div class="tables">'
        + _table(splits, ("split", "samples"))
        + _table(
            [
                ("rejected rows", rejects),
                (f"retired by updates ({fmt.TOMBSTONES_DIR}/)", stats["tombstoned"]["total"]),
                ("distinct licenses", len(stats["licenses"])),
            ],
            ("other", ""),
        )
        + _table(_summary_rows(stats["caption_words"]), ("caption words", ""))
        + _table([*_summary_rows(tokens), (f"share > {TEXT_CONTEXT}", f"{over:.1%}")], ("caption tokens", ""))
        + _table(_summary_rows(stats["image"]["src_longest_side"]), ("source longest side", "px"))
        + _table(_summary_rows(stats["image"]["aspect_ratio"]), ("aspect ratio", "w/h"))
        + "</div>"
    )


def _plots_html(plots: list[tuple[str, str, bytes]]) -> str:
    parts = []
    for anchor, title, png in plots:
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f'<h2 id="{_e(anchor)}">{_e(title)}</h2><figure>'
            f'<img alt="{_e(title)}" src="data:image/png;base64,{data}"></figure>'
        )
    return "".join(parts)


def _thumbnail(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        if img.width * img.height > THUMB_MAX_PIXELS:
            raise ValueError(f"image of {img.width}x{img.height} is too large for a thumbnail")
        img = img.convert("RGB")
        img.thumbnail((THUMB_SIDE, THUMB_SIDE))
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=THUMB_QUALITY, optimize=False)
        return out.getvalue()


def read_images(items: list[GalleryItem]) -> dict[str, bytes]:
    """The image bytes of ``items``, read from their tars in memory (one pass per tar)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for item in items:
        wanted[item.shard].add(item.key)
    images: dict[str, bytes] = {}
    for shard, keys in sorted(wanted.items()):
        with fs.open_read(shard) as handle, tarfile.open(fileobj=handle, mode="r:") as tar:
            for member in tar:
                stem, kind = fmt.split_member(member.name)
                if member.isfile() and stem in keys and kind in fmt.IMAGE_KINDS:
                    images[stem] = tar.extractfile(member).read()  # type: ignore[union-attr]
    return images


def _gallery_html(items: list[GalleryItem]) -> str:
    if not items:
        return "<p>No samples.</p>"
    images = read_images(items)
    cards = []
    for item in items:
        caption = item.caption if len(item.caption) <= CAPTION_CHARS else item.caption[:CAPTION_CHARS] + "…"
        img = ""
        if item.key in images:
            data = base64.b64encode(_thumbnail(images[item.key])).decode("ascii")
            img = f'<img alt="{_e(item.key)}" src="data:image/jpeg;base64,{data}">'
        cards.append(
            f'<div class="card">{img}<div class="key">{_e(item.key)}</div>'
            f'<div class="meta">{_e(item.split)} · {item.width}×{item.height} · {_e(item.license_code)}</div>'
            f"<p>{_e(caption)}</p></div>"
        )
    return f'<div class="gallery">{"".join(cards)}</div>'


def _definitions(stats: dict[str, Any]) -> str:
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in stats["definitions"].items())
    return f"<dl>{items}</dl>"


def render_html(stats: dict[str, Any], acc: Collected, gallery: list[GalleryItem]) -> str:
    """The whole page; the same statistics and shards give the same bytes."""
    # Here, not at the top: matplotlib takes ~0.8 s to import, and the build pipeline
    # imports this module when it loads, long before (or without ever) drawing a plot.
    from pmc15m.publish.report_plots import all_plots

    title = f"pmc15m build {stats.get('build_id') or ''}".strip()
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{_CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="sub">code version {_e(stats.get("code_version"))} · '
        f"{stats['samples']:,} samples · statistics in stats.json next to this page</p>"
        f"{_overview(stats)}{_plots_html(all_plots(stats, acc))}"
        f'<h2 id="gallery">Random samples</h2>{_gallery_html(gallery)}'
        f'<h2 id="definitions">Definitions</h2>{_definitions(stats)}'
        "</main></body></html>\n"
    )


def write_report(output: str, manifest: dict[str, Any] | None = None) -> str:
    """Write ``report/stats.json`` and ``report/report.html``; return the HTML path."""
    manifest = manifest if manifest is not None else read_manifest(output)
    acc = collect(output)
    stats = build_stats(acc, manifest)
    page = render_html(stats, acc, gallery_items(acc))
    directory = fs.join(output, fmt.REPORT_DIR)
    fs.makedirs(directory)
    text = json.dumps(stats, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    fs.write_bytes(fs.join(directory, STATS_FILE), text.encode("utf-8"))
    path = fs.join(directory, HTML_FILE)
    fs.write_bytes(path, page.encode("utf-8"))
    log.info("wrote report %s (%d samples)", path, stats["samples"])
    return path
