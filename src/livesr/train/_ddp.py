"""Distributed data parallel training under ``torchrun``: who this process is, and collectives.

Plain runs (no ``WORLD_SIZE`` in the environment) are one process of rank 0, and every
collective here is then a local no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from ._sources import PatchSampler

__all__ = ["Dist", "any_rank", "gather_sampler_states", "init_distributed"]


@dataclass
class Dist:
    """Where the calling process stands in the run (rank 0 of 1 for plain runs)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    active: bool = False


def init_distributed(device_kind: str) -> Dist:
    """Join the process group ``torchrun`` set up (nccl on CUDA, gloo on CPU), if any."""
    # torchrun sets WORLD_SIZE/RANK/LOCAL_RANK/MASTER_ADDR/MASTER_PORT; plain runs set none.
    if "WORLD_SIZE" not in os.environ or "RANK" not in os.environ:
        return Dist()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_kind == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(),
                int(os.environ.get("LOCAL_RANK", "0")), True)  # fmt: skip


def gather_sampler_states(sampler: PatchSampler, dist: Dist) -> list[dict[str, Any]]:
    """Every rank's sampler state, in rank order (collective under DDP)."""
    mine = sampler.state_dict()
    if not dist.active:
        return [mine]
    import torch.distributed as tdist

    gathered: list[Any] = [None] * dist.world
    tdist.all_gather_object(gathered, mine)
    return gathered


def any_rank(local: bool, dist: Dist, device: torch.device) -> bool:
    """True when `local` is true on any rank (collective under DDP), so all ranks stop together."""
    if not dist.active:
        return local
    import torch
    import torch.distributed as tdist

    flag = torch.tensor([1.0 if local else 0.0], device=device)
    tdist.all_reduce(flag, op=tdist.ReduceOp.MAX)
    return bool(flag.item())
