"""A local mirror of PMC's legacy OA packages: ``oa_file_list.csv`` + ``oa_package/xx/yy/*.tar.gz``.

Until 2026 PMC served one ``PMC<id>.tar.gz`` per article (the ``.nxml`` JATS plus every
image), listed in ``oa_file_list.csv``. Many groups still hold such mirrors, so this source
presents one to the pipeline as the same flow of ``ArticleVersion`` -> ``ArticleMeta`` ->
JATS -> images the bucket gives:

- Listing: each CSV row becomes a ``LegacyVersion`` carrying the row's facts. The CSV is
  split into byte ranges (``PART_BYTES``), so a 5-million-row list is read in parallel.
- Metadata is synthesised: license from the ``License`` column, PMID and citation from
  the row, ``is_pmc_openaccess`` true (the list *is* the open-access subset),
  ``is_retracted`` false (the layout has no such flag; the title stays empty, so the
  build gates the article on the JATS title once it is parsed, ``stages.gate_on_article_title``,
  and that title remains the retraction signal), media from the
  package's members (every safe regular file but the JATS, as the bucket lists every file).
- Versions: the packages carry none (one package per PMCID, its current version), so the
  version is ``UNKNOWN_VERSION`` (0) and sample keys read ``PMC<id>_0_<fig>``: 0 can never
  be mistaken for a real bucket version. An accession written ``PMC123.2`` gives 2.
- No MD5s exist in this layout: object keys carry none and the checksum check is skipped.
- The ETag is synthetic: the MD5 of the CSV row, which changes whenever ``Last Updated``
  (or any other column) does, so it still works as a change detector.

Security (``pmc15m.sources.package``): a package is read as a stream and each wanted
member's bytes are read in memory with ``extractfile`` (JATS and images when the package is
first opened; any other member only if a figure points at it); nothing is ever extracted to
disk. Streaming from the file, rather than loading the whole ``.tar.gz``, keeps a package
with large supplementary videos out of memory. Members with absolute paths, ``..`` parts,
links (symbolic or hard), devices or FIFOs are ignored, counted by kind
(``tar_members_ignored_<kind>``, Beam counters) and logged once per article at DEBUG.

Object keys of package members are ``<package path>/<member name>``, as if the tarball
were a folder: ``oa_package/08/e0/PMC13900.tar.gz/PMC13900/fig1.jpg``.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import tarfile
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pmc15m.core.record import ArticleMeta, ArticleVersion, MediaRef
from pmc15m.sources.base import Source
from pmc15m.sources.errors import ObjectMissing, SourceError
from pmc15m.sources.package import Package, PackageCache, read_package, wanted_by_default

log = logging.getLogger(__name__)

FILE_LIST = "oa_file_list.csv"
COLUMNS = ("File", "Article Citation", "Accession ID", "Last Updated", "PMID", "License")
UNKNOWN_VERSION = 0
PART_BYTES = 32 * 2**20  # CSV bytes per listing part (about 250,000 rows)
CACHE_BYTES = 128 * 2**20  # recently read packages kept per source, for the next figure
_PACKAGE_SUFFIX = ".tar.gz"
_ACCESSION = re.compile(r"^PMC(\d+)(?:\.(\d+))?$")
_UPDATED = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$")


@dataclass(frozen=True, slots=True)
class LegacyVersion(ArticleVersion):
    """An article version listed by ``oa_file_list.csv``, with the row's facts."""

    package: str = ""  # "oa_package/08/e0/PMC13900.tar.gz", relative to the mirror root
    citation: str = ""
    pmid: str = ""
    license_code: str = ""


def parse_file_list_row(row: list[str], columns: dict[str, int], raw: bytes) -> LegacyVersion | None:
    """One CSV row as a ``LegacyVersion``; None for a row that names no usable package."""

    def col(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    match = _ACCESSION.match(col("Accession ID"))
    package = col("File")
    parts = PurePosixPath(package).parts
    if match is None or not package.endswith(_PACKAGE_SUFFIX) or package.startswith("/") or ".." in parts:
        return None
    updated = _UPDATED.match(col("Last Updated"))
    return LegacyVersion(
        pmcid=f"PMC{match.group(1)}",
        version=int(match.group(2)) if match.group(2) else UNKNOWN_VERSION,
        metadata_key=package,
        etag=hashlib.md5(raw, usedforsecurity=False).hexdigest(),
        last_modified=f"{updated.group(1)}T{updated.group(2)}Z" if updated else col("Last Updated"),
        package=package,
        citation=col("Article Citation"),
        pmid=col("PMID").removeprefix("PMID:").strip(),
        license_code=col("License"),
    )


def header_columns(line: bytes) -> dict[str, int]:
    """Column positions by name; ``SourceError`` when a needed column is missing."""
    names = next(csv.reader([line.decode("utf-8-sig").strip()]), [])
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        for wanted in COLUMNS:
            if name.strip().startswith(wanted) and wanted not in columns:
                columns[wanted] = index
    missing = [c for c in ("File", "Accession ID", "License") if c not in columns]
    if missing:
        raise SourceError(f"{FILE_LIST} lacks column(s) {', '.join(missing)}; header is {names}")
    return columns


class LegacySource(Source):
    """Article versions from ``oa_file_list.csv``; objects from the files and packages under ``root``."""

    def __init__(self, root: str | Path, inventory_date: str | None = None) -> None:
        self.root = Path(root).resolve()
        if inventory_date is not None:
            raise SourceError(
                f"{root} is a legacy oa_package mirror: it has no inventory reports, drop --inventory_date"
            )
        try:
            with open(self.root / FILE_LIST, "rb") as f:
                self.columns = header_columns(f.readline())
        except OSError as exc:
            raise SourceError(f"cannot read {FILE_LIST} in {root}: {exc.strerror or exc}") from exc
        self._cache = PackageCache(CACHE_BYTES)
        self._counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ObjectMissing(f"key escapes the mirror root: {key!r}")
        return path

    def inventory_parts(self) -> list[str]:
        size = (self.root / FILE_LIST).stat().st_size
        return [f"{FILE_LIST}@{start}" for start in range(0, max(size, 1), PART_BYTES)]

    def snapshot(self) -> dict[str, str]:
        # No path: the same mirror read from anywhere must give the same build id.
        digest = hashlib.sha256()
        with open(self.root / FILE_LIST, "rb") as f:
            for block in iter(lambda: f.read(2**20), b""):
                digest.update(block)
        return {"layout": "legacy-oa-package", "file_list_sha256": digest.hexdigest()}

    def list_part(self, part: str) -> Iterator[ArticleVersion]:
        """The rows whose first byte lies in the part's byte range (header skipped)."""
        start = int(part.rpartition("@")[2])
        skipped = 0
        with open(self.root / FILE_LIST, "rb") as f:
            f.seek(max(start - 1, 0))
            f.readline()  # the header (part 0), or the end of a row owned by the previous part
            while f.tell() < start + PART_BYTES:
                raw = f.readline()
                if not raw:
                    break
                if not raw.strip():
                    continue
                row = next(csv.reader([raw.decode("utf-8", errors="replace")]), [])
                version = parse_file_list_row(row, self.columns, raw.rstrip(b"\r\n"))
                if version is None:
                    skipped += 1
                    continue
                yield version
        if skipped:
            log.warning("%s: skipped %d row(s) that name no usable package", part, skipped)

    def article_meta(self, version: ArticleVersion) -> ArticleMeta:
        """Metadata synthesised from the CSV row and the package (see the module docstring)."""
        if not isinstance(version, LegacyVersion):
            raise ObjectMissing(f"{version.pmcid}: not listed by {FILE_LIST}")
        package = self._package(version.package)
        if package.ignored:
            log.debug("%s: ignored tar members %s", version.package, dict(sorted(package.ignored.items())))
            with self._count_lock:
                for kind, n in package.ignored.items():
                    self._counts[f"tar_members_ignored_{kind}"] += n
        jats = package.jats_member()
        return ArticleMeta(
            pmcid=version.pmcid,
            version=version.version,
            pmid=version.pmid,
            citation=version.citation,
            is_pmc_openaccess=True,
            license_code=version.license_code,
            xml_key=f"{version.package}/{jats}" if jats else "",
            media=tuple(MediaRef(key=f"{version.package}/{n}", md5="") for n in package.media_members()),
            metadata_etag=version.etag,
        )

    def take_counts(self) -> dict[str, int]:
        with self._count_lock:
            counts, self._counts = dict(self._counts), Counter()
        return counts

    def read(self, key: str) -> bytes:
        head, sep, member = key.partition(_PACKAGE_SUFFIX + "/")
        if not sep:
            try:
                return self._path(key).read_bytes()
            except OSError as exc:
                raise ObjectMissing(f"no object {key!r}") from exc
        path = head + _PACKAGE_SUFFIX
        package = self._package(path)
        if member in package.members:
            return package.members[member]
        if member in package.sizes:  # listed but not held: stream the package for it alone
            data = self._open(path, want=lambda name: name == member).members.get(member)
            if data is not None:
                return data
        raise ObjectMissing(f"no member {member!r} in {path}")

    def _package(self, key: str) -> Package:
        package = self._cache.get(key)
        if package is None:
            package = self._open(key)
            self._cache.put(key, package)
        return package

    def _open(self, key: str, want: Callable[[str], bool] = wanted_by_default) -> Package:
        try:
            with open(self._path(key), "rb") as f:
                return read_package(f, want)
        except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
            raise ObjectMissing(f"unreadable package {key!r}: {exc}") from exc
