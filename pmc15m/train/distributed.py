"""Process-group set-up from torchrun's environment, and the few collectives the loop needs.

``torchrun --nproc_per_node N -m pmc15m train ...`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; a plain ``pmc15m train`` has none of
them and runs as the only rank. NCCL joins GPUs, gloo joins CPU processes (tests, CI).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistEnv:
    """This process's place in the job."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    owns_group: bool = False  # this call created the process group, so it tears it down

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={value!r} is not an integer") from exc


def init_distributed(device: str = "auto") -> DistEnv:
    """Join the process group torchrun describes (if any) and pick this rank's device."""
    rank, world = _env_int("RANK", 0), _env_int("WORLD_SIZE", 1)
    local_rank = _env_int("LOCAL_RANK", 0)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda, but torch sees no CUDA device")
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
    else:
        chosen = torch.device(device)
    owns_group = world > 1 and not dist.is_initialized()
    if owns_group:
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        dist.init_process_group(backend, rank=rank, world_size=world)
        log.info("rank %d of %d joined the %s process group on %s", rank, world, backend, chosen)
    return DistEnv(rank=rank, world_size=world, local_rank=local_rank, device=chosen, owns_group=owns_group)


def all_gather_object(env: DistEnv, obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (a one-item list on a single process)."""
    if not env.distributed:
        return [obj]
    gathered: list[Any] = [None] * env.world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()


def shutdown(env: DistEnv) -> None:
    """Leave the process group if ``init_distributed`` created it (a caller's group stays)."""
    if env.owns_group and dist.is_initialized():
        dist.destroy_process_group()
