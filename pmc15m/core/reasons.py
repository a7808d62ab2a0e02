"""The closed vocabulary of rejection reasons.

Every figure or article that does not end in a shard ends in ``rejects/`` with exactly
one of these reasons, so that counts can be summed into a funnel and tests can compare
them with the corpus generator's ground truth.
"""

# Article-level: the article version never yields samples.
SUPERSEDED_VERSION = "superseded_version"  # a newer version of the PMCID is listed
METADATA_UNREADABLE = "metadata_unreadable"  # metadata JSON read but not valid JSON
NOT_OPEN_ACCESS = "not_open_access"  # is_pmc_openaccess is false
LICENSE_EXCLUDED = "license_excluded"  # license_code not in the allowlist
RETRACTED = "retracted"  # is_retracted, or the title says so
XML_MISSING = "xml_missing"  # no longer produced: see MISSING_OBJECT / FETCH_FAILED
XML_UNPARSEABLE = "xml_unparseable"  # malformed, too large, or hostile XML

# Figure-level: one figure (one graphic of a figure) is dropped.
NO_GRAPHIC = "no_graphic"  # <fig> without any <graphic>
NO_CAPTION = "no_caption"  # empty caption (never borrowed from a neighbour)
CAPTION_TOO_SHORT = "caption_too_short"  # fewer words than min_caption_words
GRAPHIC_NOT_FOUND = "graphic_not_found"  # href matches no media file of the article
IMAGE_MISSING = "image_missing"  # no longer produced: see MISSING_OBJECT / FETCH_FAILED
IMAGE_TRUNCATED = "image_truncated"  # decoder ran out of data
IMAGE_NOT_IMAGE = "image_not_image"  # bytes are not an image at all
IMAGE_UNSUPPORTED = "image_unsupported"  # an image format or mode we cannot decode
IMAGE_TOO_LARGE = "image_too_large"  # more pixels than the configured limit (bomb guard)
IMAGE_TOO_SMALL = "image_too_small"  # shorter side below min_image_side
ASPECT_RATIO = "aspect_ratio"  # longer/shorter side above max_aspect_ratio
IMAGE_BLANK = "image_blank"  # near-uniform pixels: grayscale std below min_pixel_std
CAPTION_TOO_LONG = "caption_too_long"  # more words than max_caption_words (runaway text)
CAPTION_TOO_MANY_CHARS = "caption_too_many_chars"  # more characters than max_caption_chars
CAPTION_BOILERPLATE = "caption_boilerplate"  # only a label or a stock phrase ("Click here for file")
CAPTION_NOT_ENGLISH = "caption_not_english"  # another script, or another language's function words
# Deduplication (pmc15m.rules.dedup): duplicate_of names the kept sample of the cluster.
DUPLICATE_EXACT = "duplicate_exact"  # same normalised pixels as the kept representative
DUPLICATE_NEAR = "duplicate_near"  # perceptual hash within near_distance of the representative
BOILERPLATE = "boilerplate"  # the image recurs in more than boilerplate_articles articles

# Either level: how a read of the metadata JSON, the JATS or an image can end without
# bytes. They replace xml_missing / image_missing (and metadata_unreadable for an absent
# metadata object): the level is in the key (``_article`` or a figure), the object key in
# reject_detail, and the three tell a user what to do. missing_object is permanent (the
# store answered 404/403, the file is not there); fetch_failed is transient (throttling,
# 5xx, timeouts, resets, short reads outlasted the retries) and a rerun may recover it;
# checksum_mismatch survived re-reads, so the object itself differs from its ?md5=.
CHECKSUM_MISMATCH = "checksum_mismatch"  # the bytes do not match the metadata's ?md5=
MISSING_OBJECT = "missing_object"  # 404/403 or no such file: permanent, not retried
FETCH_FAILED = "fetch_failed"  # transient failures outlasted the retry budget

ARTICLE_REASONS = frozenset(
    {
        SUPERSEDED_VERSION,
        METADATA_UNREADABLE,
        NOT_OPEN_ACCESS,
        LICENSE_EXCLUDED,
        RETRACTED,
        XML_MISSING,
        XML_UNPARSEABLE,
        CHECKSUM_MISMATCH,
        MISSING_OBJECT,
        FETCH_FAILED,
    }
)
FIGURE_REASONS = frozenset(
    {
        NO_GRAPHIC,
        NO_CAPTION,
        CAPTION_TOO_SHORT,
        GRAPHIC_NOT_FOUND,
        IMAGE_MISSING,
        IMAGE_TRUNCATED,
        IMAGE_NOT_IMAGE,
        IMAGE_UNSUPPORTED,
        IMAGE_TOO_LARGE,
        IMAGE_TOO_SMALL,
        ASPECT_RATIO,
        IMAGE_BLANK,
        CHECKSUM_MISMATCH,
        MISSING_OBJECT,
        FETCH_FAILED,
        CAPTION_TOO_LONG,
        CAPTION_TOO_MANY_CHARS,
        CAPTION_BOILERPLATE,
        CAPTION_NOT_ENGLISH,
        DUPLICATE_EXACT,
        DUPLICATE_NEAR,
        BOILERPLATE,
    }
)
ALL_REASONS = ARTICLE_REASONS | FIGURE_REASONS
