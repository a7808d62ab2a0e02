"""Captions to token ids with a Hugging Face fast tokenizer.

BiomedCLIP's text tower is PubMedBERT (now BiomedBERT) with a context of 256 tokens. Most
figure captions are far shorter, so each batch is padded only to its longest caption: the
text tower then runs on a fraction of 256 positions (``padding_saving`` measures how much on
a given set of captions). Where the BiomedBERT vocabulary cannot be had (offline machines,
tests), ``train_wordpiece`` builds a BERT-style WordPiece vocabulary from captions locally.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

# The vocabulary BiomedCLIP uses; loads by name when the Hub is reachable or cached.
BIOMEDBERT = "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract"
CONTEXT_LENGTH = 256
_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class TokenizerError(ValueError):
    """A tokenizer that cannot be found or used."""


def load_tokenizer(name_or_path: str, context_length: int | None = CONTEXT_LENGTH):
    """A fast tokenizer from a local folder or a Hub name (the Hub only if it is reachable).

    ``context_length`` None keeps the length saved with the tokenizer (an exported model's).
    """
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as exc:
        raise TokenizerError(
            f"cannot load tokenizer {name_or_path!r} ({exc.__class__.__name__}); give a local folder, "
            "or --tokenizer_vocab N to learn one from the training captions"
        ) from exc
    if not tokenizer.is_fast:
        raise TokenizerError(f"{name_or_path!r} has no fast tokenizer")
    if tokenizer.pad_token is None:
        raise TokenizerError(f"{name_or_path!r} has no padding token")
    saved = tokenizer.model_max_length
    if context_length is None:
        context_length = saved if 0 < saved <= 100_000 else CONTEXT_LENGTH
    tokenizer.model_max_length = context_length
    return tokenizer


def _vocabulary(captions: Iterable[str], vocab_size: int) -> dict[str, int]:
    """Specials, every character (word-initial and ``##`` continuation), then whole words by
    frequency (ties alphabetical) up to ``vocab_size``: the same captions, the same ids."""
    from tokenizers import normalizers, pre_tokenizers

    normalizer = normalizers.BertNormalizer(lowercase=True)
    splitter = pre_tokenizers.BertPreTokenizer()
    words: Counter[str] = Counter()
    for caption in captions:
        words.update(word for word, _ in splitter.pre_tokenize_str(normalizer.normalize_str(caption)))
    characters = sorted({char for word in words for char in word})
    tokens = [*_SPECIAL, *characters, *(f"##{char}" for char in characters)]
    known = set(tokens)
    ranked = sorted((word for word in words if word not in known), key=lambda w: (-words[w], w))
    tokens += ranked[: max(0, vocab_size - len(tokens))]
    return {token: index for index, token in enumerate(tokens)}


def train_wordpiece(captions: Iterable[str], vocab_size: int = 8000, context_length: int = CONTEXT_LENGTH):
    """An uncased BERT-style WordPiece tokenizer built from captions, offline and reproducibly.

    The vocabulary is whole words by frequency over a character fallback (``_vocabulary``):
    the ``tokenizers`` WordPiece trainer breaks ties between equally frequent merges in hash
    order, so it learns a different vocabulary in every process, and a run's results would
    change with it. Tokenisation is BERT's (normaliser, pre-tokeniser, greedy longest match),
    with ``[CLS] ... [SEP]`` around each caption so a BERT text tower pools as with
    BiomedBERT; ``save_pretrained`` writes a folder that ``load_tokenizer`` reads back.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = _vocabulary(captions, vocab_size)
    core = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    core.normalizer = normalizers.BertNormalizer(lowercase=True)
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    core.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=context_length,
    )


def encode(tokenizer, captions: Sequence[str], context_length: int = CONTEXT_LENGTH) -> dict:
    """Token ids and attention mask, truncated to the context and padded to the longest caption."""
    encoded = tokenizer(
        list(captions),
        padding="longest",
        truncation=True,
        max_length=context_length,
        return_tensors="pt",
        return_token_type_ids=False,
    )
    return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}


@dataclass(frozen=True)
class PaddingSaving:
    """Token positions the text tower sees with per-batch padding versus a fixed context."""

    captions: int
    batch_size: int
    mean_tokens: float  # real tokens per caption, after truncation
    truncated: int  # captions longer than the context
    positions_longest: int  # padded positions with padding to each batch's longest
    positions_fixed: int  # padded positions with padding to the full context

    @property
    def fraction(self) -> float:
        """Share of the fixed-context positions that per-batch padding still computes."""
        return self.positions_longest / self.positions_fixed if self.positions_fixed else 0.0


def padding_saving(
    tokenizer, captions: Sequence[str], batch_size: int = 256, context_length: int = CONTEXT_LENGTH
) -> PaddingSaving:
    """Measure the positions saved by padding each batch to its longest caption."""
    encoded = tokenizer(list(captions), truncation=False, add_special_tokens=True)["input_ids"]
    full = [len(ids) for ids in encoded]
    lengths = [min(n, context_length) for n in full]
    longest = sum(
        max(lengths[i : i + batch_size]) * len(lengths[i : i + batch_size])
        for i in range(0, len(lengths), batch_size)
    )
    return PaddingSaving(
        captions=len(lengths),
        batch_size=batch_size,
        mean_tokens=sum(lengths) / len(lengths) if lengths else 0.0,
        truncated=sum(n > context_length for n in full),
        positions_longest=longest,
        positions_fixed=context_length * len(lengths),
    )


def quiet_tokenizer_threads() -> None:
    """Loader workers fork; the Rust tokenizer's thread pool must not be shared across a fork."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
