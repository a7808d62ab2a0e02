"""Reading one article package (a ``.tar.gz``) safely: members in memory, never on disk.

A package comes from an archive someone else made, so its member names and types are
hostile input. It is read as a stream (``tarfile`` mode ``r|*``: gzip, bzip2, xz or
plain), member by member; a wanted member's bytes are read with ``extractfile`` into
memory. Nothing is ever extracted by name, so no member can write a file anywhere, and
members that could only matter to an extractor (absolute paths, ``..`` parts, symbolic
and hard links, devices, FIFOs) are ignored and counted by kind, so a decoy named like a
real figure can never stand in for it.
"""

from __future__ import annotations

import re
import tarfile
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO

MAX_MEMBER_BYTES = 256 * 2**20  # a larger member is not read (counted as "oversized")
MAX_KEPT_BYTES = 1024 * 2**20  # bytes of wanted members one package may hold in memory
_JATS_SUFFIXES = (".nxml", ".xml")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".webp", ".bmp")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(slots=True)
class Package:
    """One package as read: every safe regular member's size, and the wanted ones' bytes."""

    sizes: dict[str, int] = field(default_factory=dict)  # every safe regular member
    members: dict[str, bytes] = field(default_factory=dict)  # the wanted ones, in memory
    ignored: Counter[str] = field(default_factory=Counter)  # unsafe or unread, by kind

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.members.values())

    def jats_member(self) -> str:
        """The article's JATS: the shallowest ``.nxml`` (else ``.xml``); "" when none."""
        for suffix in _JATS_SUFFIXES:
            names = [n for n in self.members if n.lower().endswith(suffix)]
            if names:
                return min(names, key=lambda n: (n.count("/"), n))
        return ""

    def media_members(self) -> list[str]:
        """Every regular member but the JATS, as the bucket's ``media_urls`` list every file."""
        jats = self.jats_member()
        return sorted(n for n in self.sizes if n != jats)


def member_problem(info: tarfile.TarInfo) -> str | None:
    """Why a tar member is ignored (``link``, ``device``, ``absolute``, ``parent``, ...), or None."""
    name = info.name
    if info.issym() or info.islnk():
        return "link"
    if info.ischr() or info.isblk() or info.isfifo():
        return "device"
    if not name or name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "absolute"
    if ".." in re.split(r"[\\/]", name):
        return "parent"
    if not (info.isfile() or info.isdir()):
        return "special"
    return None


def wanted_by_default(name: str) -> bool:
    """Members read when a package is first opened: the JATS and the images figures use."""
    return name.lower().endswith(_JATS_SUFFIXES + _IMAGE_SUFFIXES)


def read_package(fileobj: IO[bytes], want: Callable[[str], bool] = wanted_by_default) -> Package:
    """Read a (compressed) tar stream: wanted members' bytes in memory, unsafe ones counted.

    Members are visited once, in stream order; the first of two members with the same
    name wins. Nothing is written anywhere. Members ``want`` declines (supplements, the
    PDF) are listed by size but not held; ``LegacySource.read`` streams the package again
    in the rare case a figure points at one.
    """
    package = Package()
    kept = 0
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for info in tar:
            problem = member_problem(info)
            if problem is not None:
                package.ignored[problem] += 1
                continue
            name = str(PurePosixPath(info.name))
            if info.isdir():
                continue
            if name in package.sizes:
                package.ignored["duplicate"] += 1
                continue
            package.sizes[name] = info.size
            if not want(name):
                continue
            if info.size > MAX_MEMBER_BYTES or kept + info.size > MAX_KEPT_BYTES:
                package.ignored["oversized"] += 1
                continue
            member = tar.extractfile(info)
            package.members[name] = member.read() if member is not None else b""
            kept += info.size
    return package


class PackageCache:
    """The packages read last, bounded by bytes, shared by a source's threads."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.entries: OrderedDict[str, Package] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Package | None:
        with self.lock:
            package = self.entries.get(key)
            if package is not None:
                self.entries.move_to_end(key)
            return package

    def put(self, key: str, package: Package) -> None:
        with self.lock:
            self.entries[key] = package
            total = sum(p.size for p in self.entries.values())
            while len(self.entries) > 1 and total > self.budget:
                _, dropped = self.entries.popitem(last=False)
                total -= dropped.size
