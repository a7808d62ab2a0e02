"""Turn a bucket-layout corpus (the mini corpus) into a legacy ``oa_package`` mirror.

The legacy service listed only open-access articles, one package per PMCID holding its
current version, so not-open-access articles and superseded versions are left out (and
reported in ``Mirror.omitted``). Each package is ``oa_package/xx/yy/PMC<id>.tar.gz``
with ``PMC<id>/PMC<id>.nxml`` and every file of the version (images, supplements, PDF),
written deterministically. One package can be made hostile: members with absolute paths,
``..`` parts, links and devices are planted *before* the real files, named like them,
with content that would change the build's output if any of them were used.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from pmc15m.core.record import ArticleMeta
from pmc15m.sources.legacy import FILE_LIST
from pmc15m.sources.local import LocalSource
from pmc15m.sources.metadata import parse_metadata
from pmc15m.stages import split_newest

HEADER = ["File", "Article Citation", "Accession ID", "Last Updated (YYYY-MM-DD HH:MM:SS)", "PMID", "License"]
MTIME = 1_600_000_000


@dataclass
class Mirror:
    """What was written, for tests to check the legacy build against."""

    root: Path
    packages: dict[str, str] = field(default_factory=dict)  # pmcid -> package path
    omitted: dict[str, str] = field(default_factory=dict)  # "PMC<id>.<v>" -> why not listed
    hostile_pmcid: str = ""
    planted: Counter[str] = field(default_factory=Counter)  # kind -> hostile members planted
    real_members: list[str] = field(default_factory=list)  # regular members of the hostile package
    decoy_targets: list[str] = field(default_factory=list)  # real images unsafe members impersonate


def package_path(pmcid: str) -> str:
    digest = hashlib.md5(pmcid.encode(), usedforsecurity=False).hexdigest()
    return f"oa_package/{digest[:2]}/{digest[2:4]}/{pmcid}.tar.gz"


def _info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size, link
    info.mtime, info.mode = MTIME, 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.devmajor, info.devminor = (1, 3) if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE) else (0, 0)
    return info


def _decoy_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (250, 0, 250)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def hostile_members(pmcid: str, images: list[str]) -> list[tuple[tarfile.TarInfo, bytes]]:
    """Unsafe members named after the package's real files (``images``: two or more real image names)."""
    decoy = _decoy_jpeg()
    evil_jats = b"<article><front><article-meta><title-group><article-title>EVIL"
    evil_jats += b"</article-title></title-group></article-meta></front></article>"
    return [
        (_info(f"{pmcid}/{images[0]}", tarfile.SYMTYPE, link="/etc/passwd"), b""),
        (_info(f"{pmcid}/hard.jpg", tarfile.LNKTYPE, link=f"{pmcid}/{images[0]}"), b""),
        (_info(f"/{pmcid}/{images[1]}", size=len(decoy)), decoy),
        (_info(f"C:/{pmcid}/{images[1]}", size=len(decoy)), decoy),
        (_info("../evil.nxml", size=len(evil_jats)), evil_jats),
        (_info(f"{pmcid}/../../escape.jpg", size=len(decoy)), decoy),
        (_info(f"{pmcid}/null.jpg", tarfile.CHRTYPE), b""),
        (_info(f"{pmcid}/disk.jpg", tarfile.BLKTYPE), b""),
        (_info(f"{pmcid}/pipe.jpg", tarfile.FIFOTYPE), b""),
    ]


HOSTILE_KINDS = Counter({"link": 2, "absolute": 2, "parent": 2, "device": 3})


def write_package(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    """A .tar.gz of ``members`` in order, byte-identical for the same input."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return gzip.compress(raw.getvalue(), mtime=0)


def _article_members(
    source: LocalSource, meta_key: str
) -> tuple[list[tuple[tarfile.TarInfo, bytes]], ArticleMeta]:
    """The package members of one version (JATS renamed to .nxml), and its metadata."""
    meta = parse_metadata(source.read(meta_key))
    folder = meta.xml_key.rsplit("/", 1)[0]
    files = {meta.xml_key: f"{meta.pmcid}/{meta.pmcid}.nxml"}
    for path in sorted((source.root / folder).iterdir()):
        key = f"{folder}/{path.name}"
        if key != meta.xml_key and path.suffix not in (".json", ".txt"):
            files[key] = f"{meta.pmcid}/{path.name}"
    members = [(_info(f"{meta.pmcid}", tarfile.DIRTYPE), b"")]
    for key, name in files.items():
        data = source.read(key)
        members.append((_info(name, size=len(data)), data))
    return members, meta


def write_legacy_mirror(bucket: Path, dest: Path, hostile_pmcid: str = "") -> Mirror:
    """Write the mirror of ``bucket`` under ``dest``; make ``hostile_pmcid``'s package hostile."""
    source = LocalSource(bucket)
    by_pmcid: dict[str, list] = {}
    for version in source.list_article_versions():
        by_pmcid.setdefault(version.pmcid, []).append(version)
    mirror = Mirror(root=dest, hostile_pmcid=hostile_pmcid)
    rows = []
    for pmcid in sorted(by_pmcid):
        newest, older = split_newest(by_pmcid[pmcid])
        for version in older:
            mirror.omitted[f"{pmcid}.{version.version}"] = "superseded_version"
        members, meta = _article_members(source, newest.metadata_key)
        if not meta.is_pmc_openaccess:
            mirror.omitted[f"{pmcid}.{newest.version}"] = "not_open_access"
            continue
        if pmcid == hostile_pmcid:
            mirror.real_members = [i.name for i, _ in members if i.isreg()]
            images = [n.split("/", 1)[1] for n in mirror.real_members if n.endswith(".jpg")]
            members = hostile_members(pmcid, images) + members
            mirror.decoy_targets = images[:2]
            mirror.planted = Counter(HOSTILE_KINDS)
        path = package_path(pmcid)
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_bytes(write_package(members))
        mirror.packages[pmcid] = path
        updated = newest.last_modified[:19].replace("T", " ")
        rows.append([path, meta.citation, pmcid, updated, meta.pmid, meta.license_code])
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([HEADER, *rows])
    (dest / FILE_LIST).write_text(text.getvalue(), encoding="utf-8")
    return mirror
