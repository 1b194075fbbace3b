"""Colour composites of wide-field and SR images, as the viewer and the snapshots draw them.

Pure numpy, no Qt: the live window, ``livesr preview run.zarr`` and the headless PNG snapshots
all call :func:`render_panels`, so a snapshot shows exactly the pixels the window shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["CHANNEL_COLORS", "auto_limits", "composite", "render_panels"]

#: Additive colours (RGB, 0-1) of channels 0, 1, 2, ...: green and magenta first, because the
#: pair stays distinguishable for colour-blind viewers and overlaps read as white.
CHANNEL_COLORS: tuple[tuple[float, float, float], ...] = (
    (0.0, 1.0, 0.0),
    (1.0, 0.0, 1.0),
    (0.0, 1.0, 1.0),
    (1.0, 1.0, 0.0),
)

# Percentiles are taken on at most this many pixels: exact limits do not matter for display,
# and a full sort of a 2k x 2k SR image would cost the GUI thread ~100 ms per frame.
_LIMIT_SAMPLES = 65_536


def auto_limits(
    image: NDArray[np.floating] | NDArray[np.integer], low: float = 0.1, high: float = 99.9
) -> tuple[float, float]:
    """Display limits from percentiles of a (strided) subsample of `image`.

    Parameters
    ----------
    image : ndarray, shape (Y, X), any real dtype
        The image to display.
    low, high : float
        Percentiles (0-100) mapped to black and full colour.

    Returns
    -------
    (lo, hi) : tuple of float
        ``hi > lo`` always (a flat image gets ``hi = lo + 1``).
    """
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(f"need 0 <= low < high <= 100 for display percentiles, got {low}, {high}")
    flat = np.asarray(image).reshape(-1)
    step = max(1, flat.size // _LIMIT_SAMPLES)
    sample = flat[::step].astype(np.float32, copy=False)
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(sample, [low, high]))
    if hi <= lo:
        hi = lo + 1.0
    return lo, hi


def composite(
    channels: Sequence[NDArray[np.floating] | NDArray[np.integer] | None],
    *,
    colors: Sequence[tuple[float, float, float]] | None = None,
    limits: Sequence[tuple[float, float] | None] | None = None,
) -> NDArray[np.uint8]:
    """Blend channels additively into one RGB image.

    Parameters
    ----------
    channels : sequence of ndarray (Y, X) or None
        One image per channel, all the same shape; None marks a channel with no image yet
        (it stays black).
    colors : sequence of RGB tuples, optional
        Colour of each channel; defaults to :data:`CHANNEL_COLORS` (one channel: grey).
    limits : sequence of (lo, hi) or None, optional
        Display limits per channel; None (or a None entry) means :func:`auto_limits`.

    Returns
    -------
    ndarray, uint8, shape (Y, X, 3)
    """
    present = [c for c in channels if c is not None]
    if not present:
        raise ValueError("composite needs at least one channel image, got none")
    shape = np.shape(present[0])
    if len(shape) != 2 or any(np.shape(c) != shape for c in present):
        shapes = [np.shape(c) for c in present]
        raise ValueError(f"composite needs 2D channel images of one shape, got {shapes}")
    if colors is None:
        colors = [(1.0, 1.0, 1.0)] if len(channels) == 1 else list(CHANNEL_COLORS)
    if len(colors) < len(channels):
        raise ValueError(f"{len(channels)} channels but only {len(colors)} colours given")
    rgb = np.zeros((*shape, 3), np.float32)
    for i, image in enumerate(channels):
        if image is None:
            continue
        lim = limits[i] if limits is not None and i < len(limits) else None
        lo, hi = lim if lim is not None else auto_limits(image)
        scaled = (np.asarray(image, np.float32) - lo) * (1.0 / (hi - lo))
        np.clip(scaled, 0.0, 1.0, out=scaled)
        for k in range(3):
            if colors[i][k]:
                rgb[..., k] += colors[i][k] * scaled
    np.clip(rgb, 0.0, 1.0, out=rgb)
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def _upsample(image: NDArray[np.uint8], shape: tuple[int, int]) -> NDArray[np.uint8]:
    """Nearest-neighbour resize of an RGB image to `shape`, so WF and SR pixels line up."""
    ys = (np.arange(shape[0]) * image.shape[0]) // shape[0]
    xs = (np.arange(shape[1]) * image.shape[1]) // shape[1]
    out: NDArray[np.uint8] = image[ys[:, None], xs[None, :]]
    return out


def render_panels(
    wf: Sequence[NDArray[np.floating] | NDArray[np.integer] | None] | None,
    sr: Sequence[NDArray[np.floating] | NDArray[np.integer] | None] | None,
    *,
    gap: int = 4,
) -> NDArray[np.uint8]:
    """Wide-field and SR composites side by side, WF enlarged to the SR size.

    Parameters
    ----------
    wf : sequence of ndarray (Y, X) or None, or None
        Wide-field image per channel.
    sr : sequence of ndarray (sY, sX) or None, or None
        SR image per channel.
    gap : int
        Black columns between the two panels.

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        ``[WF | gap | SR]``, or the one panel that exists.
    """
    wf_rgb = composite(wf) if wf is not None and any(c is not None for c in wf) else None
    sr_rgb = composite(sr) if sr is not None and any(c is not None for c in sr) else None
    if wf_rgb is None and sr_rgb is None:
        raise ValueError("render_panels needs a wide-field or an SR image, got neither")
    if wf_rgb is None:
        assert sr_rgb is not None
        return sr_rgb
    if sr_rgb is None:
        return wf_rgb
    wf_big = _upsample(wf_rgb, sr_rgb.shape[:2])
    spacer = np.zeros((sr_rgb.shape[0], gap, 3), np.uint8)
    return np.concatenate([wf_big, spacer, sr_rgb], axis=1)
