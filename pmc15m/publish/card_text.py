"""The prose of the dataset card (see pmc15m.publish.card for the metadata and validation).

Kept apart from the card's logic so the wording (attribution, terms, how to load) can be
reviewed and changed without touching code that decides what gets published. The prose
describes the layout in words; what it computes (the brace patterns of the shards, the
split it counts) comes from the shard format.
"""

from __future__ import annotations

from typing import Any

from pmc15m.core.config import LICENSE_PRESETS
from pmc15m.rules.splits import TRAIN
from pmc15m.shards.format import brace_pattern

SOURCE_REGISTRY = "https://registry.opendata.aws/ncbi-pmc"
BIOMEDCLIP_BIBTEX = """@article{zhang2023biomedclip,
  title   = {BiomedCLIP: a multimodal biomedical foundation model pretrained from fifteen million
             scientific image-text pairs},
  author  = {Zhang, Sheng and Xu, Yanbo and Usuyama, Naoto and others},
  journal = {arXiv preprint arXiv:2303.00915},
  year    = {2023}
}"""


def _snapshot_date(manifest: dict[str, Any]) -> str:
    date = str(manifest.get("source", {}).get("inventory_date") or "")
    return date.split("T", 1)[0] or "(unknown date)"


def _intro(manifest: dict[str, Any], pretty_name: str) -> str:
    return f"""# {pretty_name}

Figure-caption pairs from the open-access articles of PubMed Central (PMC), built for
CLIP-style image-text pretraining in the spirit of PMC-15M (BiomedCLIP). Every sample is
one figure image with its own caption from the article's JATS XML and the article's
metadata, license and citation.

Built by pmc15m {manifest.get("code_version", "")} (build
`{manifest.get("build_id", "")}`) from the PMC Cloud Service bucket `s3://pmc-oa-opendata`,
inventory snapshot `{manifest.get("source", {}).get("inventory_date", "")}`.
"""


def _attribution(manifest: dict[str, Any]) -> str:
    allowed = ", ".join(LICENSE_PRESETS["redistributable"])
    return f"""## Source, attribution and terms

- **Source: the U.S. National Library of Medicine (NLM).** The articles, figures and
  captions come from the PubMed Central (PMC) Article Datasets that NLM distributes through
  the AWS Open Data program ({SOURCE_REGISTRY}), accessed on {_snapshot_date(manifest)}.
- The articles are provided to PMC by their publishers and authors, who keep their
  copyright. Each sample carries its article's `license_code`, `license_url`, `citation`,
  `doi`, `pmid` and `pmcid`: keep them with any sample you reuse, since the Creative Commons
  licenses require attribution to the original article.
- Only articles whose license allows redistribution are included ({allowed}). Author
  manuscripts that PMC offers for text mining only (`TDM`) and articles under any other
  license are excluded; `rejects/` (the build's record of everything dropped) is not
  published.
- Samples under a non-commercial license (`CC BY-NC*`) may not be used commercially, and
  `*-ND` licenses restrict derivatives: filter on `license_code` for your use.
- This is an independent derivative dataset. It is not endorsed by NLM, NIH or HHS, and it
  does not use the PubMed Central wordmark or logo.
"""


def _loading(manifest: dict[str, Any], repo_id: str) -> str:
    splits = manifest.get("splits", {})
    train = splits.get(TRAIN, {})
    shards = brace_pattern(TRAIN, max(train.get("shards", 1) - 1, 0))
    name = repo_id or "path/to/this/folder"  # a build's own card; publish names the repository
    return f"""## Loading

```python
from datasets import load_dataset

ds = load_dataset("{name}", split="train")  # images from the tars: jpg, txt, json, __key__
```

The card's `configs` point each split at its `.tar` shards; the `.parquet` file beside each
tar holds the same metadata rows without images (read them with `pyarrow.dataset`). Its
`dataset_info` declares the features (the `json` column's types are the fields below), so
`datasets` does not guess them from a split's first samples, where a list that is usually
empty (`caption_translations`, `mentions`) would read as `null`. Passing `data_files` to
`load_dataset` bypasses the card and its features.

```python
import webdataset as wds

ds = wds.WebDataset("{shards}").decode("pil").to_tuple("jpg", "txt")
```

open_clip reads the shards directly (`--dataset-type webdataset --train-data
'{shards}' --train-num-samples {train.get("samples", 0)}`); each split
folder has the `sizes.json` it uses for sample counts.
"""


def _layout(fields: str) -> str:
    return f"""## Layout and fields

```
train/00000.tar  train/00000.parquet  train/00000_stats.json  ...  train/sizes.json
validation/...   test/...
manifest.json    the build manifest (configuration, source snapshot, counts)
report/          stats.json and report.html (plots, a gallery of samples)
```

Each tar holds `<key>.jpg` (RGB JPEG), `<key>.txt` (the caption) and `<key>.json` (the
metadata row) per sample, sorted by key. Keys are `PMC<id>_<version>_<figure id>`.
Splits are assigned per article, so figures of one article never straddle splits.

{fields}
"""


def _built(manifest: dict[str, Any]) -> str:
    config = manifest.get("config", {})
    image, filters = config.get("image", {}), config.get("filters", {})
    return f"""## How it was built

1. Article versions listed from the bucket's S3 Inventory; the newest version of each PMCID kept.
2. Metadata gate: open access, license in ({", ".join(config.get("licenses", [])) or "any"}),
   retracted articles dropped (flag and title).
3. JATS parsed without entities or DTDs; one sample per figure graphic with the figure's own
   caption (never a neighbour's); downloads checked against the metadata's MD5.
4. Captions under {filters.get("min_caption_words", "?")} words dropped; images decoded, converted
   to RGB, resized ({image.get("resize_mode", "?")} side {image.get("max_side", "?")} px, never
   upscaled), encoded as {image.get("output_format", "?")}; images under
   {filters.get("min_image_side", "?")} px or more elongated than
   {filters.get("max_aspect_ratio", "?")}:1 dropped.
5. Splits by a hash of the article, shards by a hash of the key; the same input and
   configuration give byte-identical shards.
"""


def _citation(manifest: dict[str, Any], repo_id: str) -> str:
    name = repo_id or "<org>/<name>"
    return f"""## Citation

Cite the source as NLM asks:

> NIH NLM NCBI PubMed Central (PMC) Article Datasets - Full-Text Biomedical and Life
> Sciences Journal Articles on AWS was accessed on {_snapshot_date(manifest)} from {SOURCE_REGISTRY}.

Cite each article you show or reuse by its `citation` field. The recipe follows PMC-15M:

```bibtex
{BIOMEDCLIP_BIBTEX}
```

This dataset:

```bibtex
@misc{{pmc15m_{manifest.get("build_id", "build")},
  title  = {{PMC figure-caption pairs, build {manifest.get("build_id", "")}}},
  note   = {{Built with pmc15m {manifest.get("code_version", "")} from the PMC Article Datasets (NLM)}},
  howpublished = {{\\url{{https://huggingface.co/datasets/{name}}}}}
}}
```
"""


def body(
    manifest: dict[str, Any],
    licenses: dict[str, int],
    repo_id: str,
    pretty_name: str,
    sections: dict[str, str],
) -> str:
    """The card's Markdown body; ``sections`` holds the tables pmc15m.publish.card renders."""
    total = sum(licenses.values())
    return "\n".join(
        [
            _intro(manifest, pretty_name),
            _attribution(manifest),
            f"## Licenses\n\n{total:,} samples; the license of each is in its `license_code` column.\n",
            sections["licenses"] + "\n",
            _loading(manifest, repo_id),
            _layout(sections["fields"]),
            _built(manifest),
            "## Counts\n\n" + sections["counts"] + "\n",
            "## Build manifest\n\n" + sections["manifest"] + "\n",
            _citation(manifest, repo_id),
        ]
    )
