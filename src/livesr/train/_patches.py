"""Patches for training: foreground masks, random crops, rotation/flips, normalisation.

Everything here is numpy (float32) and runs on the caller's thread. A "field" is one raw stack
(F, Y, X) with its ground truth (sY, sX), ``s`` the scale; a patch is the same cut to
(F, p, p) and (s p, s p).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = [
    "augment",
    "foreground_mask",
    "normalize_input",
    "normalize_target",
    "random_patch",
    "widefield_input",
]

Float = NDArray[np.float32]


def normalize_input(stack: NDArray, percentiles: tuple[float, float] = (0.0, 100.0)) -> Float:
    """Percentile min-max normalisation of a whole input stack (all frames jointly).

    This is the authors' normalisation (0th/100th percentile by default), computed over every
    frame at once so the relative brightness of the frames (the pattern) is kept, clipped to
    [0, 1]. It is `livesr.reconstruct.PercentileNormalizer`, the mapping inference applies.

    Parameters
    ----------
    stack : ndarray, shape (F, Y, X), any real dtype
        One input stack (raw frames or wide-field).
    percentiles : (low, high)
        Percentiles mapped to 0 and 1.

    Returns
    -------
    ndarray, float32, shape (F, Y, X), values in [0, 1]
    """
    # The inference normaliser itself, so training and every backend scale inputs identically.
    from livesr.reconstruct import PercentileNormalizer

    return PercentileNormalizer(*percentiles, clip=True).normalize(stack)[0]


def normalize_target(gt: NDArray) -> Float:
    """Min-max normalisation of a ground-truth image to [0, 1] (float32, same shape)."""
    data = np.asarray(gt, dtype=np.float32)
    lo, hi = float(data.min()), float(data.max())
    scale = hi - lo if hi > lo else 1.0
    out: Float = ((data - lo) / scale).astype(np.float32, copy=False)
    return out


def widefield_input(raw: NDArray) -> Float:
    """Wide-field image of a raw SIM stack: the sum over frames, shape (1, Y, X) float32.

    The SISR models see this (normalised afterwards), as the authors' ``training_wf``.
    """
    out: Float = np.asarray(raw, dtype=np.float32).sum(axis=0, keepdims=True)
    return out


def foreground_mask(gt: NDArray, scale: int, *, min_pixels: int = 1000) -> NDArray[np.bool_]:
    """Where the structure is, on the raw (low-resolution) grid.

    Follows the authors' recipe: ground truth binned to the raw grid, a small Gaussian blur minus
    a wide Gaussian background, thresholded at 0.01 of the range; the threshold is lowered
    (x0.8) until at least `min_pixels` (or a twentieth of the field) are foreground.

    Parameters
    ----------
    gt : ndarray, shape (sY, sX)
        Ground truth of the field.
    scale : int
        Ground-truth pixels per raw pixel.
    min_pixels : int
        Foreground pixels wanted at least.

    Returns
    -------
    ndarray, bool, shape (sY // scale, sX // scale)
    """
    g = np.asarray(gt, dtype=np.float32)
    ny, nx = g.shape[0] // scale, g.shape[1] // scale
    binned = g[: ny * scale, : nx * scale].reshape(ny, scale, nx, scale).mean(axis=(1, 3))
    binned = normalize_target(binned)
    background_sigma = min(50.0, max(ny, nx) / 4.0)
    signal = ndimage.gaussian_filter(binned, 1.0) - ndimage.gaussian_filter(
        binned, background_sigma
    )
    needed = min(min_pixels, max(1, binned.size // 20))
    threshold = 0.01
    mask = signal > threshold
    while mask.sum() < needed and threshold > 1e-6:
        threshold *= 0.8
        mask = signal > threshold
    return np.asarray(mask, dtype=bool)


def random_patch(
    inp: NDArray,
    gt: NDArray,
    patch_size: int,
    scale: int,
    rng: np.random.Generator,
    mask: NDArray[np.bool_] | None = None,
) -> tuple[NDArray, NDArray]:
    """Cut one aligned patch pair, its centre drawn from the foreground `mask`.

    Parameters
    ----------
    inp : ndarray, shape (F, Y, X)
        Input field.
    gt : ndarray, shape (scale * Y, scale * X)
        Its ground truth.
    patch_size : int
        Input patch side p; the target patch is ``scale * p``.
    scale : int
        Ground-truth pixels per input pixel.
    rng : numpy Generator
        Draws the position.
    mask : ndarray of bool, shape (Y, X), optional
        Foreground; centres are drawn uniformly when None or when no foreground pixel admits a
        full patch.

    Returns
    -------
    (ndarray (F, p, p), ndarray (s p, s p)), views of the inputs

    Raises
    ------
    ValueError
        If the field is smaller than the patch or the two shapes do not match the scale.
    """
    _, ny, nx = inp.shape
    if gt.shape != (scale * ny, scale * nx):
        raise ValueError(
            f"ground truth shape {gt.shape} does not match input {inp.shape[1:]} x scale {scale}"
        )
    if ny < patch_size or nx < patch_size:
        raise ValueError(
            f"field {ny}x{nx} is smaller than patch_size={patch_size}; lower patch_size"
        )
    half = patch_size // 2
    y0 = x0 = -1
    if mask is not None:
        # Only centres whose patch fits inside the field.
        valid = mask[half : ny - patch_size + half + 1, half : nx - patch_size + half + 1]
        candidates = np.flatnonzero(valid)
        if candidates.size:
            pick = int(candidates[rng.integers(candidates.size)])
            cy, cx = divmod(pick, valid.shape[1])
            y0, x0 = cy, cx
    if y0 < 0:
        y0 = int(rng.integers(ny - patch_size + 1))
        x0 = int(rng.integers(nx - patch_size + 1))
    p, s = patch_size, scale
    return inp[:, y0 : y0 + p, x0 : x0 + p], gt[s * y0 : s * (y0 + p), s * x0 : s * (x0 + p)]


def augment(inp: NDArray, gt: NDArray, rng: np.random.Generator) -> tuple[Float, Float]:
    """Random rotation by a multiple of 90 degrees and random flips, same for both.

    Raw SIM frames are rotated with the ground truth, so the pattern orientations turn too (the
    authors do the same); the frame order is unchanged.

    Parameters
    ----------
    inp : ndarray, shape (F, p, p)
        Input patch.
    gt : ndarray, shape (s p, s p)
        Target patch.
    rng : numpy Generator
        Draws the rotation and flips.

    Returns
    -------
    (float32 (F, p, p), float32 (s p, s p)), contiguous copies
    """
    k = int(rng.integers(4))
    flip_y, flip_x = (bool(b) for b in rng.integers(2, size=2))
    a, b = np.rot90(inp, k, axes=(1, 2)), np.rot90(gt, k)
    if flip_y:
        a, b = a[:, ::-1], b[::-1]
    if flip_x:
        a, b = a[:, :, ::-1], b[:, ::-1]
    return (
        np.ascontiguousarray(a, dtype=np.float32),
        np.ascontiguousarray(b, dtype=np.float32),
    )
