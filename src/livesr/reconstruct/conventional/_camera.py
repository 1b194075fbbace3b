"""Camera corrections applied to raw frames before any FFT: offset, gain, hot/dead pixels.

A hot or dead pixel is a delta function: its spectrum is flat and, when it flickers between
frames, it leaks into every band and buries a weak carrier. The camera offset only moves DC,
but a noise estimate in photons (the Wiener parameter) needs it gone. The networks' input
normalisation reuses `repair_hot_pixels` (numpy only).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter

__all__ = ["prepare_frames", "repair_hot_pixels"]


def repair_hot_pixels(
    frames: NDArray[np.generic], threshold: float = 10.0
) -> tuple[NDArray[np.float32], int]:
    """Replace isolated hot/dead pixels by the median of their 3x3 neighbourhood.

    A pixel is repaired when it differs from its frame's 3x3 median by more than `threshold`
    robust standard deviations (MAD of that residual over the frame) AND by more than the local
    level itself (the 3x3 median above the frame's 1st percentile). The second condition keeps
    real diffraction-limited spots: sampled at Nyquist, their centre exceeds the 3x3 median by
    well under the local level, while a hot pixel (or a 0 / 65535 dead one) exceeds it many
    times over.

    Parameters
    ----------
    frames : ndarray, shape (..., Y, X)
        Raw frames (any real dtype).
    threshold : float
        Robust sigmas above which a pixel can count as an outlier.

    Returns
    -------
    (ndarray float32 of the same shape, int)
        Repaired frames (a copy) and the number of pixels replaced.
    """
    data = np.array(frames, dtype=np.float32, copy=True)
    flat = data.reshape(-1, *data.shape[-2:])
    repaired = 0
    for frame in flat:
        local = median_filter(frame, size=3, mode="reflect")
        residual = frame - local
        sigma = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
        level = np.abs(local - np.float32(np.percentile(frame, 1.0)))
        bad = (np.abs(residual) > threshold * max(sigma, 1e-6)) & (np.abs(residual) > level)
        count = int(bad.sum())
        if count:
            frame[bad] = local[bad]
            repaired += count
    return data, repaired


def prepare_frames(
    frames: NDArray[np.generic],
    *,
    offset: float | None = None,
    gain: float | None = None,
    repair: bool = True,
) -> tuple[NDArray[np.float32], dict[str, float]]:
    """Frames as float32 photo-electrons (or offset-free counts), hot pixels repaired.

    Parameters
    ----------
    frames : ndarray, shape (..., Y, X)
        Raw camera counts (ADU), any real dtype.
    offset : float, optional
        Camera offset (bias) in ADU; estimated as the 0.1th percentile of all frames when None
        (a dark region of the field, or the camera floor for data rescaled by the writer).
    gain : float, optional
        Electrons per ADU; counts stay in ADU when None.
    repair : bool
        Replace hot/dead pixels first (`repair_hot_pixels`).

    Returns
    -------
    (ndarray float32, dict)
        The corrected frames and what was done: ``offset_adu``, ``offset_estimated`` (0/1),
        ``gain_e_per_adu`` and ``hot_pixels``.
    """
    if repair:
        data, count = repair_hot_pixels(frames)
    else:
        data, count = np.array(frames, dtype=np.float32, copy=True), 0
    estimated = offset is None
    level = float(np.percentile(data, 0.1)) if offset is None else float(offset)
    data -= np.float32(level)
    if gain is not None:
        data *= np.float32(gain)
    record = {
        "offset_adu": level,
        "offset_estimated": float(estimated),
        "gain_e_per_adu": 1.0 if gain is None else float(gain),
        "hot_pixels": float(count),
    }
    return data, record
