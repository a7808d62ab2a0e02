"""Sample filters: each rule keeps a sample (None) or drops it with a named reason.

Rules are plain functions over the ``Sample`` so they are unit-testable and so the
pipeline's shared machinery (``first_rejection``) can count drops by reason in one place.
Caption rules run before the image is fetched (cheap, saves downloads); image rules after
it is decoded.

Caption quality: too long, only a label or a stock phrase, not English. A CLIP pair
teaches only as much as its caption says about its image. Three kinds of
caption say nothing useful and are common enough in PMC to need rules of their own:
text that runs on for pages (a parser or publisher error pulling body text into the
caption), captions that are only a label or a publisher's stock phrase ("Figure 2",
"Click here for additional data file"), and captions in another language (SciELO,
Chinese, Russian and German journals deposit in PMC too; the dataset is English).

Defaults, measured with ``parse_article`` on the 279 real ``<fig>`` captions in
``../shared/jats/`` (eLife and PMC XML, 277 of them non-empty) and on the 305 generated
captions of the seed-0 mini corpus; ``tests/rules/test_quality.py`` keeps the first true:

* ``max_caption_words = 1000``: real captions have a median of 89 words, a 99th
  percentile of 681 and a maximum of 877 (an eLife figure with its full statistical
  legend); 1000 keeps every one of them and still drops runaway text.
* ``max_caption_chars = 10_000``: the same captions have a median of 601 characters, a
  99th percentile of 4,851 and a maximum of 5,419, and no word longer than 83 characters;
  the word count alone lets a caption of a few megabyte-long "words" through.
* Language: a caption is not English when more than 30% of its letters are outside the
  Latin and Greek scripts (Greek letters are everyday in English captions), or when one
  of Spanish, Portuguese, French, German or Italian has at least 3 of its function words
  in it and more than English has. On the real captions the largest share of other
  scripts is 0% and the most foreign function words in one caption is 1 (before the
  abbreviation list below, "et al." and "kDa" gave up to 11), against at least 3 in each
  foreign test caption; no real or generated caption is flagged. A caption with fewer
  than 3 foreign function words is never flagged: too little evidence.
* Label or stock phrase: the caption, with its leading label(s) removed, is empty or a
  phrase from ``_STOCK``. Of the real captions it flags only "Box figure" (the
  placeholder of eLife's kitchen-sink sample, also under ``min_caption_words``) and the
  two empty ones; it exists for deposits whose figure caption is a bare label or
  "Click here for additional data file".

The basic rules (``FilterConfig``), on the same measurements:

* ``min_caption_words = 3``: below 3 words the real captions hold only the two empty
  ones and "Box figure"; the shortest genuine ones have 5-7 ("Validation of mtDNA somatic
  substitutions."); the 1st percentile is 2 words, the 5th 14, the median 90.
* ``min_image_side = 64`` (source pixels): a floor for icons, bullets and spacer images,
  not a quality bar. Rendered figures shrunk to a short side of 16-128 px all keep their
  perceptual hash within 6 of the full-size one (80 of 80 at every size), so identity
  gives no threshold; detail does: upscaled to CLIP's 224-px input, the mean absolute
  error against the full-size figure is 16.6 (of 255) at 16 px, 10.3 at 32, 6.4 at 64,
  3.2 at 128. 64 px is the smallest side still upscaled less than 4x; the rule errs on
  the side of keeping.
* ``max_aspect_ratio = 10``: CLIP's preprocessing (shorter side to 224, centre crop)
  shows 1/r of an image of ratio r. A row of six square panels with gaps is about 6.5:1
  and keeps 15%; past 10:1 the model would see under a tenth of the image, a fragment
  whatever it shows (the corpus' ``edge_aspect`` figure, exactly 10:1, is kept).
* ``min_pixel_std = 1.0``: see ``FilterConfig`` (blank pages 0-0.72, sparsest real
  plots >= 1.34, measured by ``benchmarks/bench_images.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pmc15m.core import reasons
from pmc15m.core.config import FilterConfig
from pmc15m.core.record import Sample

Rule = Callable[[Sample, FilterConfig], str | None]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words that are frequent in captions of each language and rare in English ones.
# Left out so that English captions do not score as foreign: words shared with English
# ("in", "a", "an", "as", "do", "no", "die", "pour"), and, measured on the real captions,
# Latin and abbreviations ("et al.", "per", "kDa", "x and y", "su", "EM", "OS").
_ENGLISH = _words(
    "the of and to with for is are was were by on from at that this these those which be been "
    "or not than after between during into under over each both its their has have"
)
_FOREIGN: dict[str, frozenset[str]] = {
    "es": _words("de el la los las del por para con una que se sus como entre fue son"),
    "pt": _words("de das dos uma um com para por que não são ao à na nas nos é foi"),
    "fr": _words("de le la les des du une est sont dans par sur avec au aux ces qui que ou pas"),
    "de": _words("der das und mit von zu den dem des ist sind ein eine einer nicht bei nach für auf"),
    "it": _words("di il lo gli della dello delle dei degli nel nella nei alla sulla ogni con una che sono è"),
}
_MIN_FOREIGN_HITS = 3
_MAX_FOREIGN_SCRIPT = 0.3
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# A leading label, as publishers write it: "Figure 1", "Fig. 2B", "Supplementary Figure S3",
# "Additional file 1", "Figure 3—figure supplement 1", "Scheme 2".
_LABEL = re.compile(
    r"^(?:(?:supplementary|supplemental|additional|extended data|source data|author response)\s+)?"
    r"(?:figure|fig|scheme|plate|chart|image|file|graphic|photo|movie|video|box)s?"
    r"(?:\s+[a-z]?\d+[a-z]?)?(?:\s+figure supplement\s+\d+)?\b"
)
# Whole captions (after the label, lower case, punctuation removed) that say nothing
# about the image.
_STOCK = frozenset(
    {
        "",
        "click here for additional data file",
        "click here for file",
        "click here to view",
        "click here for larger image",
        "click to enlarge",
        "view larger image",
        "larger image",
        "open in a separate window",
        "open in new tab",
        "download figure",
        "see text",
        "see text for details",
        "see main text",
        "see legend",
        "no caption",
        "no caption available",
        "not available",
        "n a",
        "none",
        "untitled",
        "graphical abstract",
        "visual abstract",
        "table of contents graphic",
        "toc graphic",
        "supplementary material",
        "supplementary data",
        "supplementary information",
        "supporting information",
        "data supplement",
        "additional data file",
        "tif",
        "tiff",
        "jpg",
        "png",
        "gif",
        "eps",
    }
)


def normalise(text: str) -> str:
    """Lower case, punctuation and dashes as spaces, whitespace collapsed."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def is_stock_caption(caption: str) -> bool:
    """True when the caption, once its leading label is removed, is empty or a stock phrase."""
    text = normalise(caption)
    for _ in range(2):  # "Additional file 1: Figure S1" carries two labels
        text = _LABEL.sub("", text, count=1).strip()
    return text in _STOCK


def foreign_script_share(text: str) -> float:
    """The share of letters outside the Latin and Greek scripts (CJK, Cyrillic, Arabic...)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    foreign = sum(1 for ch in letters if not _latin_or_greek(ch))
    return foreign / len(letters)


def _latin_or_greek(ch: str) -> bool:
    code = ord(ch)
    return code < 0x0250 or 0x0370 <= code < 0x0400 or 0x1E00 <= code < 0x2000


def language_hits(text: str) -> dict[str, int]:
    """Function-word counts: ``en`` and each foreign language."""
    words = [w.lower() for w in _WORD.findall(text)]
    hits = {"en": sum(1 for w in words if w in _ENGLISH)}
    for lang, vocab in _FOREIGN.items():
        hits[lang] = sum(1 for w in words if w in vocab)
    return hits


def is_english(text: str) -> bool:
    """A light language check: script first, then function words (see module docstring)."""
    if foreign_script_share(text) > _MAX_FOREIGN_SCRIPT:
        return False
    hits = language_hits(text)
    english = hits.pop("en")
    best = max(hits.values())
    return not (best >= _MIN_FOREIGN_HITS and best > english)


def caption_not_too_many_chars(sample: Sample, config: FilterConfig) -> str | None:
    """Runs first: a caption of a few megabyte-long "words" passes the word count, and the
    language rules would scan all of it."""
    return None if len(sample.caption) <= config.max_caption_chars else reasons.CAPTION_TOO_MANY_CHARS


def caption_not_too_long(sample: Sample, config: FilterConfig) -> str | None:
    words = len(sample.caption.split())
    return None if words <= config.max_caption_words else reasons.CAPTION_TOO_LONG


def caption_informative(sample: Sample, config: FilterConfig) -> str | None:
    if not config.drop_stock_captions:
        return None
    return reasons.CAPTION_BOILERPLATE if is_stock_caption(sample.caption) else None


def caption_english(sample: Sample, config: FilterConfig) -> str | None:
    if not config.english_only:
        return None
    return None if is_english(sample.caption) else reasons.CAPTION_NOT_ENGLISH


def caption_present(sample: Sample, config: FilterConfig) -> str | None:
    return None if sample.caption.strip() else reasons.NO_CAPTION


def caption_long_enough(sample: Sample, config: FilterConfig) -> str | None:
    words = len(sample.caption.split())
    return None if words >= config.min_caption_words else reasons.CAPTION_TOO_SHORT


def image_large_enough(sample: Sample, config: FilterConfig) -> str | None:
    side = min(sample.src_width or 0, sample.src_height or 0)
    return None if side >= config.min_image_side else reasons.IMAGE_TOO_SMALL


def aspect_ratio_ok(sample: Sample, config: FilterConfig) -> str | None:
    long_side = max(sample.src_width or 0, sample.src_height or 0)
    short_side = min(sample.src_width or 0, sample.src_height or 0)
    if short_side <= 0:
        return reasons.IMAGE_TOO_SMALL
    return None if long_side / short_side <= config.max_aspect_ratio else reasons.ASPECT_RATIO


def image_not_blank(sample: Sample, config: FilterConfig) -> str | None:
    """Drop near-uniform images (empty pages, placeholders); see FilterConfig.min_pixel_std."""
    if sample.pixel_std is None:  # no decoded pixels to judge
        return None
    return reasons.IMAGE_BLANK if sample.pixel_std < config.min_pixel_std else None


# Language goes before the word count (Chinese and Japanese captions have no spaces, so
# they would read as too short); the other quality rules after it, so
# a caption that is both too short and a label keeps the older reason.
CAPTION_RULES: tuple[Rule, ...] = (
    caption_present,
    caption_not_too_many_chars,
    caption_english,
    caption_long_enough,
    caption_not_too_long,
    caption_informative,
)
IMAGE_RULES: tuple[Rule, ...] = (image_large_enough, aspect_ratio_ok, image_not_blank)


def first_rejection(sample: Sample, rules: Sequence[Rule], config: FilterConfig) -> str | None:
    """The reason of the first rule that drops the sample, or None when all keep it."""
    for rule in rules:
        reason = rule(sample, config)
        if reason is not None:
            return reason
    return None
