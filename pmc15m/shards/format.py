"""The shard format: how a build's output folder is laid out and what its shards hold.

This is the one module that spells the names of the output: shard numbering, the shard
trio's file names, ``sizes.json``, the folders beside the splits, member kinds and the
rule a key obeys inside a tar. The writers, ``inspect``, the update, the report, the card,
the commands and the trainer's loader all take the names from here, so a change to the
format is a change to this file. It imports only the standard library (and may import
``pmc15m.core``, nothing else): the trainer imports it without pulling in the builder.

    <output>/
      train/  validation/  test/     one folder per split (pmc15m.rules.splits.SPLITS)
        00000.tar                    webdataset tar: <key>.jpg|webp, <key>.json, <key>.txt
                                     per sample, sorted by key
        00000.parquet                the same rows as the json members, no images
        00000_stats.json             counts, first/last key, sha256 and size of tar and parquet
        sizes.json                   {"00000.tar": samples, ...} (open_clip's epoch size)
      rejects/00000.parquet          one row per dropped article or figure (never published)
      index/articles.parquet         what a build considered ...
      index/samples.parquet          ... and kept (the update plans from these)
      tombstones/<build_id>.parquet  samples each update retired
      report/                        stats.json and report.html (pmc15m.publish.report)
      manifest.json                  written last: its presence says the build finished
      README.md                      the dataset card (pmc15m.publish.card)

Two names live elsewhere, each where the layer that needs it sits. The split names are
``pmc15m.rules.splits.SPLITS``: the rules assign splits and sit below ``shards``, so they
cannot import this module. How a key is *made* (``PMC<id>_<version>_<figure>``, only
letters, digits, ``_`` and ``-``) is ``pmc15m.core.record.make_key``, used by the parser
long before a shard exists; this module holds only what the tar needs of a key (no dot,
no slash: ``is_valid_key``) and does not re-export either.
"""

from __future__ import annotations

# ---------------------------------------------------------------- the output folder

SIZES_JSON = "sizes.json"  # in each split folder
MANIFEST = "manifest.json"
REJECTS_DIR = "rejects"
TOMBSTONES_DIR = "tombstones"
INDEX_DIR = "index"
ARTICLES_FILE = "articles.parquet"  # in index/
SAMPLES_FILE = "samples.parquet"  # in index/
REPORT_DIR = "report"

# ---------------------------------------------------------------- shard files

SHARD_DIGITS = 5  # 00000 .. 99999 per split: 100k shards of 1k samples is 100M samples
TAR_SUFFIX = ".tar"
PARQUET_SUFFIX = ".parquet"
_STATS_TAIL = "_stats"
STATS_SUFFIX = f"{_STATS_TAIL}.json"


def shard_name(index: int) -> str:
    """The name of shard ``index`` (also of reject file ``index``): ``00007``.

    Zero-padded so that name order is number order and brace patterns match.
    """
    return f"{index:0{SHARD_DIGITS}d}"


def shard_number(file_name: str) -> int:
    """The number of a shard or reject file from its name: ``00007.tar`` -> 7."""
    return int(file_name.split(".", 1)[0])


def tar_name(name: str) -> str:
    return f"{name}{TAR_SUFFIX}"


def parquet_name(name: str) -> str:
    return f"{name}{PARQUET_SUFFIX}"


def stats_name(name: str) -> str:
    return f"{name}{STATS_SUFFIX}"


def shard_files(name: str) -> tuple[str, str, str]:
    """The shard trio of ``name``: tar, Parquet and stats file names."""
    return tar_name(name), parquet_name(name), stats_name(name)


def is_numbered(file_name: str) -> bool:
    """Whether a file in a split or ``rejects/`` folder belongs to a numbered shard
    (hidden temporaries and ``sizes.json`` do not)."""
    return file_name[:1].isdigit()


def shard_stem(file_name: str) -> str:
    """The shard a trio file belongs to: ``00003.tar`` and ``00003_stats.json`` -> ``00003``."""
    return file_name.rsplit(".", 1)[0].removesuffix(_STATS_TAIL)


def is_parquet(file_name: str) -> bool:
    """A Parquet file of the output, not a hidden temporary a writer left beside it."""
    return file_name.endswith(PARQUET_SUFFIX) and not file_name.startswith(".")


def shard_id(split: str, name: str) -> str:
    """How the index and tombstones name a shard: ``train/00003``."""
    return f"{split}/{name}"


def parse_shard_id(shard: str) -> tuple[str, str]:
    """``train/00003`` -> (``train``, ``00003``)."""
    split, name = shard.split("/")
    return split, name


def tombstone_file(build_id: str) -> str:
    """The file in ``tombstones/`` of the update ``build_id``."""
    return parquet_name(build_id)


def tars_glob(split: str) -> str:
    """Every tar of ``split``, as a glob relative to the output: ``train/*.tar``."""
    return f"{split}/*{TAR_SUFFIX}"


def brace_pattern(folder: str, last: int) -> str:
    """Shards 0 .. ``last`` of ``folder`` as webdataset / open_clip read them:
    ``train/{00000..00041}.tar``."""
    return f"{folder}/{{{shard_name(0)}..{shard_name(last)}}}{TAR_SUFFIX}"


# ---------------------------------------------------------------- tar members

JPG = "jpg"
WEBP = "webp"
JSON = "json"  # the metadata row (the Parquet row of the sample)
TXT = "txt"  # the caption, UTF-8
IMAGE_KINDS = (JPG, WEBP)  # the builder writes only these two
TEXT_KINDS = (JSON, TXT)  # every sample has both


def image_kind(image: bytes) -> str:
    """``webp`` for RIFF/WEBP bytes, else ``jpg``: the member is named by its bytes."""
    return WEBP if image[:4] == b"RIFF" and image[8:12] == b"WEBP" else JPG


def image_kind_for(output_format: str) -> str:
    """The image member kind a build with ``--image_format output_format`` writes."""
    return WEBP if output_format == "webp" else JPG


def member_name(key: str, kind: str) -> str:
    """``<key>.<kind>``: webdataset groups members by the part before the first dot."""
    return f"{key}.{kind}"


def member_suffix(kind: str) -> str:
    return f".{kind}"


def split_member(name: str) -> tuple[str, str]:
    """``PMC1_1_F1.json`` -> (``PMC1_1_F1``, ``json``), split where webdataset splits it."""
    key, _, kind = name.partition(".")
    return key, kind


def is_valid_key(key: str) -> bool:
    """A key the tar can carry: not empty, no ``.`` (webdataset would split the member
    name there) and no ``/`` (it would become a folder)."""
    return bool(key) and "." not in key and "/" not in key
