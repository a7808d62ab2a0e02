"""The closed vocabulary of rejection reasons.

Every figure or article that does not end in a shard ends in ``rejects/`` with exactly
one of these reasons, so that counts can be summed into a funnel and tests can compare
them with the corpus generator's ground truth.
"""

# Article-level: the article version never yields samples.
SUPERSEDED_VERSION = "superseded_version"  # a newer version of the PMCID is listed
METADATA_UNREADABLE = "metadata_unreadable"  # metadata JSON missing or not valid JSON
NOT_OPEN_ACCESS = "not_open_access"  # is_pmc_openaccess is false
LICENSE_EXCLUDED = "license_excluded"  # license_code not in the allowlist
RETRACTED = "retracted"  # is_retracted, or the title says so
XML_MISSING = "xml_missing"  # the JATS object could not be read
XML_UNPARSEABLE = "xml_unparseable"  # malformed, too large, or hostile XML

# Figure-level: one figure (one graphic of a figure) is dropped.
NO_GRAPHIC = "no_graphic"  # <fig> without any <graphic>
NO_CAPTION = "no_caption"  # empty caption (never borrowed from a neighbour)
CAPTION_TOO_SHORT = "caption_too_short"  # fewer words than min_caption_words
GRAPHIC_NOT_FOUND = "graphic_not_found"  # href matches no media file of the article
IMAGE_MISSING = "image_missing"  # media listed but the object could not be read
IMAGE_TRUNCATED = "image_truncated"  # decoder ran out of data
IMAGE_NOT_IMAGE = "image_not_image"  # bytes are not an image at all
IMAGE_UNSUPPORTED = "image_unsupported"  # an image format or mode we cannot decode
IMAGE_TOO_LARGE = "image_too_large"  # more pixels than the configured limit (bomb guard)
IMAGE_TOO_SMALL = "image_too_small"  # shorter side below min_image_side
ASPECT_RATIO = "aspect_ratio"  # longer/shorter side above max_aspect_ratio

# Either level: the bytes read do not match the ?md5= the metadata gives for them.
CHECKSUM_MISMATCH = "checksum_mismatch"

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
        CHECKSUM_MISMATCH,
    }
)
ALL_REASONS = ARTICLE_REASONS | FIGURE_REASONS
