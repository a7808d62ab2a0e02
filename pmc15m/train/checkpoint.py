"""Checkpoints that resume a run exactly where it stopped.

A checkpoint holds the model, optimiser and scheduler states, the step, every rank's random
generator states (Python, NumPy, torch CPU and CUDA) and every rank's loader position, plus
the model architecture (so evaluation and export need no network) and the run's settings.
Restoring all of these makes the next steps of a resumed run the same as those of a run
that never stopped. Files are written under a temporary name and renamed into place, and
they load with ``torch.load(weights_only=True)``: plain tensors and containers, no pickled
code. The newest ``keep`` checkpoints are kept. A file that does not load as one of these
(empty, cut short, another kind of file) is a ``CheckpointError`` naming it, which the
command line prints as one line rather than torch's traceback.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import re
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)

_NAME = re.compile(r"^step_(\d{8})\.pt$")

# What evaluation and export read from a checkpoint; resuming reads the rest too.
MODEL_KEYS: tuple[str, ...] = ("model", "architecture", "model_config")
RESUME_KEYS: tuple[str, ...] = (*MODEL_KEYS, "optimizer", "scheduler", "step", "rng", "positions")


class CheckpointError(ValueError):
    """A checkpoint or exported model that cannot be read: empty, damaged, or not ours."""


def rng_state() -> dict[str, Any]:
    """This process's generator states, as tensors and plain containers."""
    numpy_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [numpy_state[0], torch.from_numpy(numpy_state[1].copy()), *numpy_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_path(folder: str, step: int) -> str:
    return os.path.join(folder, f"step_{step:08d}.pt")


def save_checkpoint(folder: str, step: int, state: dict[str, Any], keep: int = 2) -> str:
    """Write ``state`` atomically as ``step_NNNNNNNN.pt``; drop all but the newest ``keep``."""
    os.makedirs(folder, exist_ok=True)
    path = checkpoint_path(folder, step)
    temporary = f"{path}.tmp-{os.getpid()}"
    torch.save(state, temporary)
    os.replace(temporary, path)
    for old in list_checkpoints(folder)[:-keep] if keep > 0 else []:
        os.remove(old)
    log.info("saved checkpoint %s", path)
    return path


def list_checkpoints(folder: str) -> list[str]:
    """Checkpoint files in ``folder``, oldest step first."""
    if not os.path.isdir(folder):
        return []
    names = sorted(name for name in os.listdir(folder) if _NAME.match(name))
    return [os.path.join(folder, name) for name in names]


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or the newest one in a run folder or its ``checkpoints/``."""
    if os.path.isfile(path):
        return path
    for folder in (os.path.join(path, "checkpoints"), path):
        found = list_checkpoints(folder)
        if found:
            return found[-1]
    raise FileNotFoundError(f"no checkpoint at {path}")


def load_checkpoint(
    path: str, map_location: str | torch.device = "cpu", keys: tuple[str, ...] = MODEL_KEYS
) -> dict[str, Any]:
    """The state saved at ``path`` (a file, or the newest in a run folder), holding ``keys``.

    ``torch.load`` fails with ``EOFError``, ``KeyError``, ``RuntimeError`` or an unpickling
    error depending on what the file really is; each becomes one ``CheckpointError``, as
    does a loadable file that lacks what a checkpoint of ``pmc15m train`` holds.
    """
    file = resolve_checkpoint(path)
    try:
        state = torch.load(file, map_location=map_location, weights_only=True)
    except (OSError, EOFError, KeyError, RuntimeError, ValueError, pickle.UnpicklingError) as exc:
        raise CheckpointError(f"{file} is not a readable checkpoint ({_load_failure(exc)})") from exc
    missing = [key for key in keys if key not in state] if isinstance(state, dict) else list(keys)
    if missing:
        raise CheckpointError(f"{file} is not a checkpoint of pmc15m train (no {', '.join(missing)})")
    return state


def _load_failure(exc: BaseException) -> str:
    """Why ``torch.load`` failed, in words where its own message says nothing (``EOFError()``)."""
    if isinstance(exc, EOFError):
        return "empty or cut short"
    if isinstance(exc, KeyError | pickle.UnpicklingError):  # the latter's text advises unsafe loading
        return "not a PyTorch file of plain tensors"
    return summary(exc)


def summary(exc: BaseException) -> str:
    """``Class: first line`` of an error from torch or transformers, whose messages run long."""
    first_line = (str(exc).splitlines() or [""])[0][:160]
    return f"{exc.__class__.__name__}: {first_line}"
