"""A trained model as a Hugging Face folder, and loading a model from either kind of artifact.

The export is a stock ``VisionTextDualEncoderModel`` (both towers, both projections, the
logit scale) with its tokenizer and a ``CLIPImageProcessor`` configured like our evaluation
transform (shortest side to the image size, centre crop, CLIP mean/std), tied together by a
``VisionTextDualEncoderProcessor``: ``transformers`` loads it back with no code from here.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from pmc15m.train.checkpoint import CheckpointError, load_checkpoint, resolve_checkpoint, summary
from pmc15m.train.model import ClipModel, ModelConfig, dual_encoder_from_config
from pmc15m.train.tokenize import TokenizerError, load_tokenizer
from pmc15m.train.transforms import CLIP_MEAN, CLIP_STD

log = logging.getLogger(__name__)


@dataclass
class Trained:
    """A model ready for inference, with what it needs to read inputs."""

    model: ClipModel
    tokenizer: object
    image_size: int
    context_length: int


def _checkpoint_run_folder(checkpoint_file: str) -> str:
    folder = os.path.dirname(os.path.abspath(checkpoint_file))
    return os.path.dirname(folder) if os.path.basename(folder) == "checkpoints" else folder


def load_trained(path: str) -> Trained:
    """From a run folder / checkpoint file (``pmc15m train``) or an exported model folder.

    Whatever in ``path`` cannot be read (a damaged checkpoint, a run folder without its
    tokenizer, an export without weights) is a ``CheckpointError`` naming the file.
    """
    if os.path.isfile(os.path.join(path, "config.json")):
        return _load_exported(path)
    checkpoint = resolve_checkpoint(path)
    state = load_checkpoint(checkpoint)
    model, cfg = _model_from_state(state, checkpoint)
    tokenizer = _run_tokenizer(checkpoint, cfg.context_length)
    return Trained(model.eval(), tokenizer, cfg.image_size, cfg.context_length)


def _run_tokenizer(checkpoint: str, context_length: int):
    """The tokenizer ``pmc15m train`` saved beside the checkpoints; ``load_tokenizer``'s own
    error advises training options, which mislead someone evaluating or exporting."""
    folder = os.path.join(_checkpoint_run_folder(checkpoint), "tokenizer")
    if not os.path.isdir(folder):
        raise CheckpointError(f"{checkpoint} has no tokenizer beside it: {folder} is missing")
    try:
        return load_tokenizer(folder, context_length)
    except TokenizerError as exc:
        raise CheckpointError(
            f"cannot load {folder}, the tokenizer of {checkpoint} ({summary(exc.__cause__ or exc)})"
        ) from exc


def _model_from_state(state: dict, checkpoint: str) -> tuple[ClipModel, ModelConfig]:
    """The model a checkpoint describes; a state that does not fit its architecture (edited
    or from another program) fails in transformers or torch, here in one line."""
    try:
        model = ClipModel(dual_encoder_from_config(state["architecture"]))
        model.load_state_dict(state["model"])
        return model, ModelConfig(**state["model_config"])
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        raise CheckpointError(f"{checkpoint} does not hold a usable model ({summary(exc)})") from exc


def _load_exported(folder: str) -> Trained:
    from transformers import VisionTextDualEncoderModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        hf = VisionTextDualEncoderModel.from_pretrained(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # no weights, a config of another model
        raise CheckpointError(f"cannot load the exported model in {folder} ({summary(exc)})") from exc
    tokenizer = load_tokenizer(folder, context_length=None)
    image_size = int(hf.config.vision_config.image_size)
    return Trained(ClipModel(hf).eval(), tokenizer, image_size, tokenizer.model_max_length)


def image_processor(image_size: int):
    """The Hugging Face image processor that matches ``ImageTransform(train=False)``."""
    import transformers

    cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    return cls(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
        image_mean=list(CLIP_MEAN),
        image_std=list(CLIP_STD),
        do_convert_rgb=True,
    )


def export_hf(path: str, output: str) -> str:
    """Write the model at ``path`` (run folder, checkpoint or export) as a Hugging Face folder."""
    from transformers import VisionTextDualEncoderProcessor
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    trained = load_trained(path)
    os.makedirs(output, exist_ok=True)
    trained.model.hf.save_pretrained(output)
    trained.tokenizer.model_max_length = trained.context_length
    processor = VisionTextDualEncoderProcessor(
        image_processor=image_processor(trained.image_size), tokenizer=trained.tokenizer
    )
    processor.save_pretrained(output)
    log.info("exported %s to %s", path, output)
    return output
