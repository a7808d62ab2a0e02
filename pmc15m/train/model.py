"""The dual encoder: a ViT image tower and a BERT text tower, projected into one space.

The towers are ``transformers`` models held in a ``VisionTextDualEncoderModel`` (linear
projections to 512-d, a learnable logit scale), so a trained model saves as a Hugging Face
folder that ``transformers`` loads back without this package. BiomedCLIP's shapes are the
presets ``vit-b-16`` (ViT-B/16, 224 px) and ``bert-base`` (BERT-base, the BiomedBERT
vocabulary); a Hub name or a local folder instead loads pretrained weights for that tower.
The tiny presets exist for tests and CPU benchmarks.

``ClipModel.forward`` returns L2-normalised features in float32 and the exponentiated logit
scale: everything the loss needs, from a single call that DDP can wrap.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)

LOGIT_SCALE_INIT = math.log(1 / 0.07)
LOGIT_SCALE_MAX = math.log(100.0)

VISION_PRESETS: dict[str, dict[str, float]] = {
    "vit-b-16": {
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "patch_size": 16,
    },
    "vit-tiny": {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 128,
        "patch_size": 8,
        "initializer_range": 0.125,
    },
}
TEXT_PRESETS: dict[str, dict[str, float]] = {
    "bert-base": {
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
    },
    "bert-tiny": {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 128,
        "initializer_range": 0.125,
    },
}


class ModelError(ValueError):
    """A tower that cannot be built or loaded (unknown preset, missing folder, no network)."""


def _pretrained(cls, name: str, tower: str) -> nn.Module:
    """``cls.from_pretrained(name)``, with a one-line error the command line can print.

    A name that looks like a path but is not one fails at once instead of asking the Hub.
    """
    looks_local = name.startswith((".", "/", "~")) or name.count("/") > 1  # Hub names: [org/]name
    if looks_local and not os.path.isdir(os.path.expanduser(name)):
        raise ModelError(f"--{tower} {name!r}: no such folder (presets: {_presets(tower)})")
    try:
        return cls.from_pretrained(os.path.expanduser(name))
    except (OSError, ValueError) as exc:
        first_line = (str(exc).splitlines() or [""])[0][:160]
        raise ModelError(
            f"--{tower} {name!r}: cannot load ({exc.__class__.__name__}: {first_line}); "
            f"give a preset ({_presets(tower)}), a local folder, or a Hub name with network access"
        ) from exc


def _presets(tower: str) -> str:
    return ", ".join(VISION_PRESETS if tower == "vision" else TEXT_PRESETS)


@dataclass(frozen=True)
class ModelConfig:
    """Which towers, at what size; a tower that is not a preset name is a Hub name or folder."""

    vision: str = "vit-b-16"
    text: str = "bert-base"
    image_size: int = 224
    context_length: int = 256
    projection_dim: int = 512
    dropout: float | None = None  # None: the tower config's own (BERT: 0.1, ViT: 0.0)


def _vision_tower(cfg: ModelConfig) -> nn.Module:
    from transformers import ViTConfig, ViTModel

    if cfg.vision in VISION_PRESETS:
        extra = {} if cfg.dropout is None else {"hidden_dropout_prob": cfg.dropout}
        config = ViTConfig(image_size=cfg.image_size, **VISION_PRESETS[cfg.vision], **extra)
        return ViTModel(config)
    model = _pretrained(ViTModel, cfg.vision, "vision")
    if model.config.image_size != cfg.image_size:
        log.warning(
            "%s was trained at %d px; running it at %d px",
            cfg.vision,
            model.config.image_size,
            cfg.image_size,
        )
    return model


def _text_tower(cfg: ModelConfig, vocab_size: int) -> nn.Module:
    from transformers import AutoModel, BertConfig, BertModel

    if cfg.text in TEXT_PRESETS:
        extra = {}
        if cfg.dropout is not None:
            extra = {"hidden_dropout_prob": cfg.dropout, "attention_probs_dropout_prob": cfg.dropout}
        positions = max(512, cfg.context_length)
        config = BertConfig(
            vocab_size=vocab_size, max_position_embeddings=positions, **TEXT_PRESETS[cfg.text], **extra
        )
        return BertModel(config)
    model = _pretrained(AutoModel, cfg.text, "text")
    if model.config.vocab_size < vocab_size:
        raise ModelError(
            f"{cfg.text} has {model.config.vocab_size} token embeddings, the tokenizer {vocab_size}"
        )
    return model


def build_dual_encoder(cfg: ModelConfig, vocab_size: int) -> nn.Module:
    """A ``VisionTextDualEncoderModel`` from presets or pretrained towers."""
    from transformers import VisionTextDualEncoderConfig, VisionTextDualEncoderModel

    vision, text = _vision_tower(cfg), _text_tower(cfg, vocab_size)
    config = VisionTextDualEncoderConfig.from_vision_text_configs(
        vision.config, text.config, projection_dim=cfg.projection_dim, logit_scale_init_value=LOGIT_SCALE_INIT
    )
    return VisionTextDualEncoderModel(config=config, vision_model=vision, text_model=text)


def dual_encoder_from_config(config: dict) -> nn.Module:
    """The same architecture from a saved ``config.to_dict()``, offline (weights come after)."""
    from transformers import VisionTextDualEncoderConfig, VisionTextDualEncoderModel

    return VisionTextDualEncoderModel(VisionTextDualEncoderConfig.from_dict(config))


class ClipModel(nn.Module):
    """Wraps the Hugging Face dual encoder with the forward the contrastive loss needs."""

    def __init__(self, hf_model: nn.Module) -> None:
        super().__init__()
        self.hf = hf_model

    @property
    def logit_scale(self) -> nn.Parameter:
        return self.hf.logit_scale

    def encode_image(self, pixel_values: torch.Tensor) -> torch.Tensor:
        pooled = self.hf.vision_model(pixel_values=pixel_values).pooler_output
        return F.normalize(self.hf.visual_projection(pooled).float(), dim=-1)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pooled = self.hf.text_model(input_ids=input_ids, attention_mask=attention_mask).pooler_output
        return F.normalize(self.hf.text_projection(pooled).float(), dim=-1)

    def forward(
        self, pixel_values: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        image = self.encode_image(pixel_values)
        text = self.encode_text(input_ids, attention_mask)
        return image, text, self.hf.logit_scale.float().exp()

    @torch.no_grad()
    def clamp_logit_scale(self) -> None:
        """CLIP's rule: the scale (temperature inverse) never exceeds 100."""
        self.hf.logit_scale.clamp_(0, LOGIT_SCALE_MAX)

    def enable_checkpointing(self) -> None:
        """Recompute each transformer layer in the backward pass (memory for compute)."""
        for tower in (self.hf.vision_model, self.hf.text_model):
            if hasattr(tower, "activation_checkpointing_enable"):  # transformers >= 5.x
                tower.activation_checkpointing_enable({"use_reentrant": False})
            else:
                tower.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        self.hf.text_model.config.use_cache = False


def build_model(cfg: ModelConfig, vocab_size: int) -> ClipModel:
    return ClipModel(build_dual_encoder(cfg, vocab_size))


def unwrap(model: nn.Module) -> ClipModel:
    """The ``ClipModel`` inside DDP and/or ``torch.compile`` wrappers."""
    while not isinstance(model, ClipModel):
        model = getattr(model, "_orig_mod", None) or model.module
    return model
