"""Process-group set-up from torchrun's environment, and the few collectives the loop needs.

``torchrun --nproc_per_node N -m pmc15m train ...`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; a plain ``pmc15m train`` has none of
them and runs as the only rank. NCCL joins GPUs, gloo joins CPU processes (tests, CI).
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


class DeviceError(ValueError):
    """A device the user asked for that this machine does not have."""


def resolve_device(device: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``; refused if not available."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        chosen = torch.device(device)
    except RuntimeError as exc:
        raise DeviceError(f"--device {device!r} is not a device (auto, cpu, cuda, cuda:N)") from exc
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {device}, but torch sees no CUDA device")
        index = local_rank if chosen.index is None else chosen.index
        if index >= torch.cuda.device_count():
            raise DeviceError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s)")
        return torch.device("cuda", index)
    if chosen.type != "cpu":
        raise DeviceError(f"--device {device!r}: only cpu and cuda are supported")
    return chosen


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
    chosen = resolve_device(device, local_rank)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    owns_group = world > 1 and not dist.is_initialized()
    if owns_group:
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        dist.init_process_group(backend, rank=rank, world_size=world)
        log.info("rank %d of %d joined the %s process group on %s", rank, world, backend, chosen)
    return DistEnv(rank=rank, world_size=world, local_rank=local_rank, device=chosen, owns_group=owns_group)


def all_gather_object(env: DistEnv, obj: Any) -> list[Any]:
    """Every rank's ``obj`` (tensors and plain containers), in rank order.

    The object travels as ``torch.save`` bytes: ``dist.all_gather_object`` pickles tensors
    through a legacy storage path that torch 2.13 can no longer unpickle, and bytes also
    load back with ``weights_only=True`` (no code runs on the receiving rank).
    """
    if not env.distributed:
        return [obj]
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    gathered: list[Any] = [None] * env.world_size
    dist.all_gather_object(gathered, buffer.getvalue())
    return [torch.load(io.BytesIO(data), weights_only=True) for data in gathered]


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()


def shutdown(env: DistEnv, wait_for_peers: bool = True) -> None:
    """Leave the process group if ``init_distributed`` created it (a caller's group stays).

    After a normal end every rank first meets at a barrier: a rank that tears down its
    gloo connections while a peer still uses them makes that peer abort (SIGABRT,
    "terminate called without an active exception"). After an error there is no waiting:
    a failed peer would never arrive.
    """
    if not (env.owns_group and dist.is_initialized()):
        return
    if wait_for_peers:
        dist.barrier()
    dist.destroy_process_group()
