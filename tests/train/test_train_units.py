"""Trainer parts in isolation: transforms, tokenizer, loss, optimiser, model, checkpoints, step."""

from __future__ import annotations

import io
import math
import random

import numpy as np
import pytest
import torch
from PIL import Image
from support.train_support import TINY, one_thread, synthetic_batch

from pmc15m.train.checkpoint import rng_state, set_rng_state
from pmc15m.train.config import TrainConfig
from pmc15m.train.distributed import DistEnv
from pmc15m.train.loss import contrastive_loss
from pmc15m.train.model import (
    LOGIT_SCALE_INIT,
    TEXT_PRESETS,
    VISION_PRESETS,
    ModelConfig,
    ModelError,
    build_model,
)
from pmc15m.train.optim import cosine_factor, parameter_groups
from pmc15m.train.step import make_step_context, train_step
from pmc15m.train.throughput import ThroughputConfig, flops_per_sample, largest_fitting
from pmc15m.train.tokenize import encode, padding_saving, train_wordpiece
from pmc15m.train.transforms import (
    CLIP_MEAN,
    CLIP_STD,
    ImageError,
    ImageTransform,
    decode_image,
    random_crop_box,
)

CAPTIONS = [
    "Western blot of the phosphorylated kinase in treated cells.",
    "Kaplan-Meier survival curves of patients with advanced disease stratified by expression level.",
    "Axial CT image.",
    "Haematoxylin and eosin staining of the resected tumour at high magnification, scale bar 50 um.",
] * 8


def _jpeg(size: tuple[int, int], color="white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tokenizer():
    return train_wordpiece(CAPTIONS, vocab_size=300, context_length=16)


def test_random_crop_box_stays_inside_with_clip_area_and_aspect():
    rng = random.Random(1)
    for _ in range(500):
        width, height = rng.randint(20, 900), rng.randint(20, 900)
        left, top, right, bottom = random_crop_box(width, height, rng)
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
        w, h = right - left, bottom - top
        if 0.9 * width * height <= w * h and 3 / 4 - 0.05 <= w / h <= 4 / 3 + 0.05:
            continue
        # Only the fallback (no 90 % crop with a 3/4..4/3 aspect fits) may break the rule.
        assert width / height < 3 / 4 or width / height > 4 / 3 or (w, h) == (width, height)


def test_eval_transform_centre_crops_and_normalises():
    image = Image.new("RGB", (300, 100), "white")
    image.paste((0, 0, 0), (0, 0, 100, 100))  # a black left third: the centre crop drops it
    pixels = ImageTransform(32, train=False)(image)
    assert pixels.shape == (3, 32, 32)
    white = torch.tensor([(1 - m) / s for m, s in zip(CLIP_MEAN, CLIP_STD, strict=True)])
    # Bicubic filtering blends a pixel of the border in; the black third is gone.
    assert torch.allclose(pixels[:, :, 2:-2].mean(dim=(1, 2)), white, atol=1e-3)
    assert pixels.min() > 1.0  # black would normalise to about -1.8


def test_train_transform_is_random_but_reproducible():
    image = Image.effect_noise((120, 90), 40).convert("RGB")
    transform = ImageTransform(32, train=True)
    a = [transform(image, random.Random(5)) for _ in range(2)]
    b = transform(image, random.Random(6))
    assert torch.equal(a[0], a[1]) and not torch.equal(a[0], b)


def test_decode_refuses_bombs_and_junk_and_drafts_large_jpegs():
    # JPEGs decode at 1/2, 1/4 or 1/8 scale, never below the side asked for.
    assert decode_image(_jpeg((1024, 800)), draft_side=224).size == (512, 400)
    assert decode_image(_jpeg((1024, 800)), draft_side=100).size == (128, 100)
    assert decode_image(_jpeg((1024, 800))).size == (1024, 800)
    with pytest.raises(ImageError, match="limit"):
        decode_image(_jpeg((1200, 1000)), max_pixels=1_000_000)
    with pytest.raises(ImageError, match="supported"):
        decode_image(b"GIF89a" + b"\0" * 40)
    with pytest.raises(ImageError):
        decode_image(_jpeg((64, 64))[:200])  # truncated


def test_batches_pad_to_their_longest_caption(tokenizer):
    short = encode(tokenizer, ["Axial CT image.", "Western blot."], context_length=16)
    long = encode(tokenizer, [CAPTIONS[1], "Axial CT image."], context_length=16)
    assert short["input_ids"].shape[1] == int(short["attention_mask"].sum(1).max()) < 16
    assert long["input_ids"].shape[1] == 16  # truncated at the context
    assert short["input_ids"][0, 0] == tokenizer.cls_token_id


def test_padding_saving_counts_positions(tokenizer):
    saving = padding_saving(tokenizer, CAPTIONS, batch_size=2, context_length=18)
    lengths = [min(len(ids), 18) for ids in tokenizer(CAPTIONS)["input_ids"]]
    assert saving.positions_fixed == 18 * len(CAPTIONS)
    assert saving.positions_longest == sum(2 * max(lengths[i : i + 2]) for i in range(0, len(lengths), 2))
    assert saving.truncated == sum(len(ids) > 18 for ids in tokenizer(CAPTIONS)["input_ids"]) > 0
    assert 0 < saving.fraction < 1


def test_contrastive_loss_matches_the_clip_formula():
    torch.manual_seed(0)
    images = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    texts = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    scale = torch.tensor(10.0)
    logits = scale * images @ texts.T
    expected = (
        -(torch.log_softmax(logits, 1).diag().mean() + torch.log_softmax(logits.T, 1).diag().mean()) / 2
    )
    assert torch.allclose(contrastive_loss(images, texts, scale), expected)
    order = torch.randperm(6)
    assert torch.allclose(contrastive_loss(images[order], texts[order], scale), expected)
    assert contrastive_loss(images, images, scale) < expected  # aligned pairs score better
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):  # as in a bf16 training step
        assert contrastive_loss(images, texts, scale) == expected


def test_no_weight_decay_on_gains_biases_and_scale():
    model = build_model(ModelConfig(**TINY), vocab_size=100)
    no_decay, decay = parameter_groups(model, 0.2)
    assert no_decay["weight_decay"] == 0 and decay["weight_decay"] == 0.2
    exempt = {id(p) for p in no_decay["params"]}
    named = dict(model.named_parameters())
    assert id(model.logit_scale) in exempt
    for name, param in named.items():
        expected = param.ndim < 2 or "norm" in name.lower() or name.endswith("bias") or "logit_scale" in name
        assert (id(param) in exempt) == expected, name
    assert len(no_decay["params"]) + len(decay["params"]) == len(named)


def test_cosine_schedule_with_warmup():
    assert cosine_factor(0, 10, 110) == pytest.approx(0.1)
    assert cosine_factor(9, 10, 110) == pytest.approx(1.0)
    assert cosine_factor(60, 10, 110) == pytest.approx(0.5)
    assert cosine_factor(110, 10, 110) == pytest.approx(0.0)


def test_logit_scale_starts_at_1_over_0_07_and_is_clamped_at_100():
    model = build_model(ModelConfig(**TINY), vocab_size=100)
    assert model.logit_scale.item() == pytest.approx(LOGIT_SCALE_INIT)
    assert model.logit_scale.exp().item() == pytest.approx(1 / 0.07, rel=1e-5)
    with torch.no_grad():
        model.logit_scale.fill_(7.0)
    model.clamp_logit_scale()
    assert model.logit_scale.exp().item() == pytest.approx(100.0, rel=1e-5)


def test_rng_state_round_trip():
    state = rng_state()
    first = (random.random(), np.random.rand(), torch.rand(2))
    set_rng_state(state)
    assert (random.random(), np.random.rand()) == first[:2]
    assert torch.equal(torch.rand(2), first[2])


def _one_step(micro: list[dict], **overrides) -> tuple[float, torch.Tensor]:
    torch.manual_seed(0)
    model = build_model(ModelConfig(**TINY, dropout=0.0), vocab_size=100)
    if overrides.pop("checkpointing", False):
        model.enable_checkpointing()
    cfg = TrainConfig(data="-", output="-", warmup=1, **overrides)
    ctx = make_step_context(model, DistEnv(0, 1, 0, torch.device("cpu")), cfg, total_steps=10)
    loss = train_step(ctx, micro)
    grads = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert torch.isfinite(torch.cat([p.detach().flatten() for p in model.parameters()])).all()
    return float(loss), grads


def test_accumulation_checkpointing_and_compile_give_the_same_step():
    batch = synthetic_batch(8)
    halves = [{k: v[:4] for k, v in batch.items()}, {k: v[4:] for k, v in batch.items()}]
    with one_thread():
        loss, grads = _one_step([batch])
        for micro, overrides in (
            (halves, {}),  # accumulation: the loss over all 8, gradients of all 8
            ([batch], {"checkpointing": True}),
            ([batch], {"compile": "eager"}),  # dynamo traces the model; inductor is too slow for CI
        ):
            other_loss, other_grads = _one_step(micro, **overrides)
            assert other_loss == pytest.approx(loss, abs=1e-5), overrides
            assert torch.allclose(other_grads, grads, rtol=1e-4, atol=1e-6), overrides


def test_bf16_autocast_step_runs_and_stays_close():
    batch = synthetic_batch(8)
    with one_thread():
        loss, _ = _one_step([batch])
        bf16_loss, grads = _one_step([batch], precision="bf16")
    assert math.isfinite(bf16_loss) and bf16_loss == pytest.approx(loss, abs=0.05)
    assert torch.isfinite(grads).all() and grads.abs().sum() > 0


def _layer_flops(tokens: int, hidden: int, ffn: int) -> int:
    """Forward FLOPs of one transformer layer: Q, K, V, output and FFN products, then attention."""
    return 2 * tokens * (4 * hidden * hidden + 2 * hidden * ffn) + 4 * tokens * tokens * hidden


def test_flop_count_matches_the_transformer_formula():
    cfg = ThroughputConfig(model=ModelConfig(**TINY), vocab_size=100)
    with one_thread():
        counted = flops_per_sample(cfg, torch.device("cpu"))
    hidden, ffn, layers, proj = 64, 128, 2, TINY["projection_dim"]
    patches = (TINY["image_size"] // 8) ** 2
    heads = 2 * hidden * hidden + 2 * hidden * proj  # pooler + projection
    vision = layers * _layer_flops(patches + 1, hidden, ffn) + heads
    text = layers * _layer_flops(TINY["context_length"], hidden, ffn) + heads
    patch_embedding = 2 * patches * 3 * 8 * 8 * hidden  # its input needs no gradient: 2x, not 3x
    expected = 3 * (vision + text) + 2 * patch_embedding
    assert counted == pytest.approx(expected, rel=0.02)


def test_batch_search_stops_at_the_first_out_of_memory():
    tried = []

    def attempt(batch: int) -> float:
        tried.append(batch)
        if batch > 8:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return 10.0 * batch

    best, rate, report = largest_fitting((16, 4, 8, 32), attempt)
    assert (best, rate) == (8, 80.0) and tried == [4, 8, 16]  # ascending; 32 is never tried
    assert report == {4: "40.0 samples/s", 8: "80.0 samples/s", 16: "out of memory"}

    def broken(batch: int) -> float:
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):  # only memory errors end the search
        largest_fitting((4,), broken)


def test_pretrained_towers_load_from_folders_and_bad_names_fail_at_once(tmp_path):
    from transformers import BertConfig, BertModel, ViTConfig, ViTModel

    torch.manual_seed(3)
    vision = ViTModel(ViTConfig(image_size=32, **VISION_PRESETS["vit-tiny"]))
    text = BertModel(BertConfig(vocab_size=120, **TEXT_PRESETS["bert-tiny"]))
    vision.save_pretrained(tmp_path / "vit")
    text.save_pretrained(tmp_path / "bert")
    cfg = ModelConfig(**(TINY | {"vision": str(tmp_path / "vit"), "text": str(tmp_path / "bert")}))
    model = build_model(cfg, vocab_size=100)
    assert torch.equal(
        model.hf.vision_model.embeddings.patch_embeddings.projection.weight,
        vision.embeddings.patch_embeddings.projection.weight,
    )
    assert torch.equal(
        model.hf.text_model.embeddings.word_embeddings.weight, text.embeddings.word_embeddings.weight
    )
    with pytest.raises(ModelError, match="token embeddings"):
        build_model(cfg, vocab_size=500)  # a tokenizer larger than the tower's vocabulary
    with pytest.raises(ModelError, match="no such folder"):
        build_model(ModelConfig(**(TINY | {"vision": str(tmp_path / "missing")})), vocab_size=100)
