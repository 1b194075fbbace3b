"""Colour composites of wide-field and SR images, as the viewer and the snapshots draw them.

Pure numpy, no Qt: the live window, ``livesr preview run.zarr`` and the headless PNG snapshots
all call :func:`render_panels`, so a snapshot shows exactly the pixels the window shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CHANNEL_COLORS", "auto_limits", "composite", "panel_limits", "render_panels"]

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
_LIMIT_SAMPLES = 16_384


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


def _to_uint8(image: NDArray[Any], lo: float, hi: float) -> NDArray[np.uint8]:
    """Map [lo, hi] to 0..255 in one float32 pass (uint8 from here on: 4x less to move)."""
    out = np.subtract(image, np.float32(lo), dtype=np.float32)
    out *= np.float32(255.0 / (hi - lo))
    np.clip(out, 0.0, 255.0, out=out)
    u8: NDArray[np.uint8] = out.astype(np.uint8)
    return u8


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
    # Planar (3, Y, X) uint16 sums: contiguous adds, saturated once at the end.
    planes = np.zeros((3, *shape), np.uint16)
    for i, image in enumerate(channels):
        if image is None:
            continue
        lim = limits[i] if limits is not None and i < len(limits) else None
        lo, hi = lim if lim is not None else auto_limits(image)
        u8 = _to_uint8(np.asarray(image), lo, hi)
        for k, weight in enumerate(colors[i]):
            if weight >= 1.0:
                planes[k] += u8
            elif weight > 0.0:
                planes[k] += (u8 * np.float32(weight)).astype(np.uint16)
    np.minimum(planes, 255, out=planes)
    return np.ascontiguousarray(planes.astype(np.uint8).transpose(1, 2, 0))


def _upsample(image: NDArray[np.uint8], shape: tuple[int, int]) -> NDArray[np.uint8]:
    """Nearest-neighbour resize of an RGB image to `shape`, so WF and SR pixels line up."""
    fy, fx = shape[0] // image.shape[0], shape[1] // image.shape[1]
    if (fy * image.shape[0], fx * image.shape[1]) == shape:
        # Integer factor (the usual SR scale): repeat is several times faster than indexing.
        out: NDArray[np.uint8] = image.repeat(fy, axis=0).repeat(fx, axis=1)
        return out
    ys = (np.arange(shape[0]) * image.shape[0]) // shape[0]
    xs = (np.arange(shape[1]) * image.shape[1]) // shape[1]
    out = image[ys[:, None], xs[None, :]]
    return out


Images = Sequence[NDArray[np.floating] | NDArray[np.integer] | None]
Limits = Sequence[tuple[float, float] | None]


def panel_limits(images: Images | None) -> list[tuple[float, float] | None] | None:
    """:func:`auto_limits` of every channel image (None where there is no image).

    Renderers that redraw often compute these now and then and pass them to
    :func:`render_panels`, instead of sorting pixels on every frame.
    """
    if images is None:
        return None
    return [None if im is None else auto_limits(im) for im in images]


def render_panels(
    wf: Images | None,
    sr: Images | None,
    *,
    gap: int = 4,
    wf_limits: Limits | None = None,
    sr_limits: Limits | None = None,
    max_height: int | None = None,
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
    wf_limits, sr_limits : sequence of (lo, hi) or None, optional
        Display limits per channel (see :func:`panel_limits`); automatic when None.
    max_height : int, optional
        Skip rows and columns (nearest neighbour) so the result is at most this tall: a
        window never shows more pixels than it has, and drawing fewer is much cheaper.

    Returns
    -------
    ndarray, uint8, shape (H, W, 3)
        ``[WF | gap | SR]``, or the one panel that exists.
    """
    have_wf = wf is not None and any(c is not None for c in wf)
    have_sr = sr is not None and any(c is not None for c in sr)
    if not have_wf and not have_sr:
        raise ValueError("render_panels needs a wide-field or an SR image, got neither")
    if max_height is not None:
        wf = _stride(wf, max_height) if have_wf else wf
        sr = _stride(sr, max_height) if have_sr else sr
    wf_rgb = composite(wf, limits=wf_limits) if have_wf and wf is not None else None
    sr_rgb = composite(sr, limits=sr_limits) if have_sr and sr is not None else None
    if wf_rgb is None:
        assert sr_rgb is not None
        return sr_rgb
    if sr_rgb is None:
        return wf_rgb
    wf_big = _upsample(wf_rgb, (sr_rgb.shape[0], sr_rgb.shape[1]))
    spacer = np.zeros((sr_rgb.shape[0], gap, 3), np.uint8)
    return np.concatenate([wf_big, spacer, sr_rgb], axis=1)


def _stride(images: Images | None, max_height: int) -> list[Any] | None:
    if images is None:
        return None
    height = max(np.shape(im)[0] for im in images if im is not None)
    step = -(-height // max(1, max_height))
    return [None if im is None else im[::step, ::step] for im in images]
