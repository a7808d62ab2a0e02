"""``TrainConfig``: the settings of one training run, as the command line gives them.

Its own module because both the loop (``train``) and the optimiser step (``step``) read it,
and the step must not import the loop that calls it; the benchmark builds one too.

May import: ``pmc15m.train.tokenize`` (for the default vocabulary name), nothing heavy: the
command line builds a config before torch is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmc15m.train.tokenize import BIOMEDBERT


@dataclass(frozen=True)
class TrainConfig:
    """One training run. ``batch_size`` is per rank and micro-batch."""

    data: str
    output: str
    tokenizer: str = BIOMEDBERT
    tokenizer_vocab: int = 0  # > 0: learn a WordPiece vocabulary of this size from the captions
    batch_size: int = 256
    accum_freq: int = 1
    epochs: int = 1
    steps: int = 0  # 0: epochs x (samples per epoch // global batch)
    epoch_samples: int = 0  # 0: from sizes.json
    lr: float = 5e-4
    weight_decay: float = 0.2
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    warmup: int = 1000
    precision: str = "auto"  # auto (bf16 on CUDA, else fp32), bf16, fp32
    grad_checkpointing: bool = False
    compile: str = ""  # a torch.compile backend ("inductor"); empty: no compilation
    workers: int = 4
    resampled: bool = False
    shuffle_buffer: int = 2000
    seed: int = 0
    device: str = "auto"
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    log_every: int = 50
    resume: bool = False
    draft: bool = True
    augment: bool = True  # random resized crops (off: centre crops, e.g. to fit a tiny set)
