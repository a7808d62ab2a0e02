"""Write the bucket's S3 Inventory reports: manifests, gzipped CSV parts, and a hive folder.

Two dated reports are written, the newest listing every metadata object and one a day
older listing a subset (no second versions, a stale ETag), next to ``data/`` and
``hive/`` folders, so that "newest report = lexically last dated folder" is exercised.
Part names are UUID-shaped but derived from the seed, and gzip gets mtime 0: the same
seed gives the same bytes.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pmc15m.corpus.bucket_writer import ArticleResult, md5_hex
from pmc15m.sources.inventory import BUCKET, INVENTORY_PREFIX

DATE_FORMAT = "%Y-%m-%dT%H-%MZ"
N_PARTS = 3
Row = tuple[str, str, str]  # key, last modified, etag


def parse_inventory_date(text: str) -> datetime:
    """``2026-11-20T01-00Z`` as an aware datetime; ValueError with the expected form."""
    try:
        return datetime.strptime(text, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"bad inventory date {text!r}: expected the form 2026-11-20T01-00Z") from None


def _part_name(seed: int, report: str, index: int) -> str:
    digest = hashlib.sha256(f"{seed}/{report}/{index}".encode()).digest()[:16]
    return f"{INVENTORY_PREFIX}data/{uuid.UUID(bytes=digest, version=4)}.csv.gz"


def _csv_part(rows: list[Row]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for key, modified, etag in rows:
        writer.writerow((BUCKET, key, modified, etag))
    return gzip.compress(buf.getvalue().encode("utf-8"), mtime=0)


def _write(root: Path, key: str, data: bytes) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_report(root: Path, report: str, rows: list[Row], seed: int) -> list[str]:
    """One dated report: parts under ``data/``, manifest, checksum, hive symlink list."""
    rows = sorted(rows)
    random.Random(f"{seed}/{report}").shuffle(rows)  # S3 lists in no particular order
    files, keys = [], []
    for index in range(N_PARTS):
        data = _csv_part(rows[index::N_PARTS])
        key = _part_name(seed, report, index)
        _write(root, key, data)
        files.append({"key": key, "size": len(data), "MD5checksum": md5_hex(data)})
        keys.append(key)
    created = parse_inventory_date(report)
    manifest = {
        "sourceBucket": BUCKET,
        "destinationBucket": f"arn:aws:s3:::{BUCKET}",
        "version": "2016-11-30",
        "creationTimestamp": str(int(created.timestamp() * 1000)),
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, LastModifiedDate, ETag",
        "files": files,
    }
    body = (json.dumps(manifest, indent=2) + "\n").encode()
    _write(root, f"{INVENTORY_PREFIX}{report}/manifest.json", body)
    _write(root, f"{INVENTORY_PREFIX}{report}/manifest.checksum", (md5_hex(body) + "\n").encode())
    hive = created.strftime("dt=%Y-%m-%d-%H-%M")
    links = "".join(f"s3://{BUCKET}/{key}\n" for key in keys).encode()
    _write(root, f"{INVENTORY_PREFIX}hive/{hive}/symlink.txt", links)
    return keys


def write_inventory(root: Path, results: list[ArticleResult], seed: int, report: str) -> dict[str, list[str]]:
    """The newest report (every version) and one a day older (a subset); parts by report."""
    rows = [(r.metadata_key, r.last_modified, r.etag) for r in results]
    newest = parse_inventory_date(report)
    older = (newest - timedelta(days=1)).strftime(DATE_FORMAT)
    cutoff = (newest - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    rng = random.Random(f"{seed}/older")
    subset = [
        (r.metadata_key, r.last_modified, r.etag)
        for r in results
        if r.version == 1 and r.last_modified < cutoff and rng.random() < 0.9
    ]
    if subset:  # one article changed since the older report: its ETag there is stale
        key, modified, etag = subset[len(subset) // 2]
        subset[len(subset) // 2] = (key, modified, md5_hex(f"stale {etag}".encode()))
    return {
        older: write_report(root, older, subset, seed),
        report: write_report(root, report, rows, seed),
    }
