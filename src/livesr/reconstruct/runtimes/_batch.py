"""The batch shape every runtime accepts, checked in one place."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

__all__ = ["check_batch"]


def check_batch(stacks: NDArray[Any], in_frames: int) -> None:
    """Raise ValueError unless `stacks` is (N, `in_frames`, Y, X)."""
    if stacks.ndim != 4 or stacks.shape[1] != in_frames:
        raise ValueError(
            f"expected float32 stacks (N, {in_frames}, Y, X), got shape {stacks.shape}; "
            "a single stack (F, Y, X) needs a leading batch axis: stack[None]"
        )
