"""Input validation shared by the conventional reconstructors."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from livesr.config import PatternConfig

__all__ = ["check_stack"]


def check_stack(
    stack: NDArray[np.generic],
    pattern: PatternConfig,
    what: str,
    dtype: type[np.floating] = np.float64,
) -> NDArray[np.floating]:
    """Validate raw SIM frames and return them as `dtype` (float64 unless told).

    Parameters
    ----------
    stack : ndarray, shape (F, Y, X) or (N, F, Y, X)
        Raw frames, angle-major.
    pattern : PatternConfig
        Gives the expected F = n_angles x n_phases.
    what : str
        Caller name for the messages.
    dtype : numpy float type
        Output dtype.

    Raises
    ------
    ValueError
        Wrong shape or frame count, NaN/inf values, or an all-zero frame.
    """
    data = np.asarray(stack)
    if data.ndim not in (3, 4):
        raise ValueError(
            f"{what}: expected raw frames of shape (F, Y, X) or (N, F, Y, X), got {data.shape}"
        )
    n_frames = data.shape[-3]
    if n_frames != pattern.n_frames:
        raise ValueError(
            f"{what}: got {n_frames} frames per stack but the pattern has {pattern.n_angles} "
            f"angles x {pattern.n_phases} phases = {pattern.n_frames}: set n_angles/n_phases "
            "(--angles/--phases) to match the data, or pass only one SIM stack"
        )
    if min(data.shape[-2:]) < 16:
        raise ValueError(f"{what}: frames of {data.shape[-2:]} pixels are too small (< 16)")
    if not np.issubdtype(data.dtype, np.number) or np.iscomplexobj(data):
        raise ValueError(f"{what}: frames must be real numbers, got dtype {data.dtype}")
    # Integer camera data cannot hold NaN; only float input needs the (costly) finite check.
    if np.issubdtype(data.dtype, np.floating) and not np.isfinite(data).all():
        raise ValueError(f"{what}: the frames contain NaN or infinite values; fix the input")
    frames = data.reshape(-1, data.shape[-2] * data.shape[-1])
    empty = frames.max(axis=1) == 0
    if not np.issubdtype(data.dtype, np.unsignedinteger):
        empty &= frames.min(axis=1) == 0
    if np.any(empty):
        bad = int(np.argmax(empty)) % n_frames
        raise ValueError(
            f"{what}: frame {bad} is all zeros: a dropped or unwritten frame; re-acquire or "
            "remove the stack"
        )
    values: NDArray[np.floating] = data.astype(dtype, copy=False)
    return values
