"""The physics-informed network input: Wiener SIM plus wide-field, robustly scaled (numpy).

Shared by training (`livesr.train`) and inference (`PhysicsInformedReconstructor`) so both
see exactly the same input. Hot pixels are repaired before (`repair_hot_pixels`, as the
conventional path). The scale is robust: ``lo`` is the 1st percentile of the raw wide-field
image (offset plus background floor) and ``scale = mean(wide-field) - lo``, so a few hot
pixels, the camera offset or the gain do not move the input; a min-max scale would.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .conventional import fourier_upsample

__all__ = ["input_scale", "physics_input", "raw_input"]


def input_scale(frames: NDArray[np.floating]) -> tuple[float, float]:
    """``(lo, scale)`` of one raw stack (F, Y, X): wide-field 1st percentile and mean - lo.

    The scale is at least 5 % of the wide-field 1st-99.99th percentile range.
    """
    wf = np.asarray(frames, dtype=np.float32).mean(axis=0)
    lo, top = (float(v) for v in np.percentile(wf, [1.0, 99.99]))
    # A sparse field (a few spots on a dark background) has its mean near `lo`: bound the
    # scale below by 5 % of the dynamic range so its input stays within ~20x the mean.
    floor = max(0.05 * (top - lo), 1e-3 * max(abs(float(wf.mean())), 1.0))
    scale = max(float(wf.mean()) - lo, floor)
    return lo, scale


def physics_input(
    wiener: NDArray[np.floating], frames: NDArray[np.floating], scale: int = 2
) -> tuple[NDArray[np.float32], float, float]:
    """Network input (2, sY, sX): [Wiener SR, upsampled wide-field], as ``(x - lo) / scale``.

    Parameters
    ----------
    wiener : ndarray, shape (sY, sX)
        Wiener SIM reconstruction of `frames` (counts, mean preserved).
    frames : ndarray, shape (F, Y, X)
        Raw frames, hot pixels repaired.
    scale : int
        SR factor of `wiener` (the wide-field image is Fourier-upsampled to it).

    Returns
    -------
    (ndarray float32, lo, scale)
        The input and the affine map back: ``output * scale + lo``.
    """
    lo, sc = input_scale(frames)
    wf = fourier_upsample(np.asarray(frames, dtype=np.float32).mean(axis=0), scale)
    x = np.stack([np.asarray(wiener, dtype=np.float32), wf])
    x -= np.float32(lo)
    x /= np.float32(sc)
    return x, lo, sc


def raw_input(frames: NDArray[np.floating]) -> tuple[NDArray[np.float32], float, float]:
    """The raw-frame input (F, Y, X) with the same robust scale, for the comparison model."""
    lo, sc = input_scale(frames)
    x = (np.asarray(frames, dtype=np.float32) - np.float32(lo)) / np.float32(sc)
    return x, lo, sc
