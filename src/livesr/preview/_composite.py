"""Colour composites of wide-field and SR images, as the viewer and the snapshots draw them.

Pure numpy, no Qt: the headless PNG snapshots call :func:`render_panels`, and the live window
draws the same channels with the same colours and limits in ndv. The quality error map is an
optional overlay: one more additive channel per SR channel, in red (:data:`ERROR_MAP_COLOR`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CHANNEL_COLORS",
    "ERROR_MAP_COLOR",
    "ERROR_MAP_RANGE",
    "auto_limits",
    "composite",
    "error_map_limits",
    "error_map_overlays",
    "panel_limits",
    "render_panels",
]

#: Additive colours (RGB, 0-1) of channels 0, 1, 2, ...: green and magenta first, because the
#: pair stays distinguishable for colour-blind viewers and overlaps read as white.
CHANNEL_COLORS: tuple[tuple[float, float, float], ...] = (
    (0.0, 1.0, 0.0),
    (1.0, 0.0, 1.0),
    (0.0, 1.0, 1.0),
    (1.0, 1.0, 0.0),
)

#: Colour of the error-map overlay, added over the SR channels like one more channel: red.
ERROR_MAP_COLOR: tuple[float, float, float] = (1.0, 0.0, 0.0)

#: Error-map display range, as fractions of the channel's wide-field display range: errors
#: below 5 % of it (about the shot noise of a 9-frame mean) draw nothing, 25 % and more full
#: red. Tied to the wide-field, not to the map itself, so a uniformly good frame stays dark
#: instead of being stretched until its noise glows.
ERROR_MAP_RANGE: tuple[float, float] = (0.05, 0.25)

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
        colors = _channel_colors(len(channels))
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


def _channel_colors(n: int) -> list[tuple[float, float, float]]:
    """One channel: grey (white at full scale); more: :data:`CHANNEL_COLORS`."""
    return [(1.0, 1.0, 1.0)] if n == 1 else list(CHANNEL_COLORS)


def _upsample(image: NDArray[Any], shape: tuple[int, int]) -> NDArray[Any]:
    """Nearest-neighbour resize of an image ((Y, X) or RGB) to `shape`, so pixels line up."""
    fy, fx = shape[0] // image.shape[0], shape[1] // image.shape[1]
    if (fy * image.shape[0], fx * image.shape[1]) == shape:
        # Integer factor (the usual SR scale): repeat is several times faster than indexing.
        out: NDArray[Any] = image.repeat(fy, axis=0).repeat(fx, axis=1)
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


def error_map_limits(maps: Images, wf_limits: Limits | None) -> list[tuple[float, float] | None]:
    """Display limits of each channel's error map: :data:`ERROR_MAP_RANGE` of its WF range.

    Parameters
    ----------
    maps : sequence of ndarray (Y, X) or None
        Error map per channel (wide-field counts).
    wf_limits : sequence of (lo, hi) or None
        The wide-field display limits per channel (:func:`panel_limits`); a channel without
        them falls back to the map's own :func:`auto_limits`.
    """
    out: list[tuple[float, float] | None] = []
    for c, image in enumerate(maps):
        wf = wf_limits[c] if wf_limits is not None and c < len(wf_limits) else None
        if image is None:
            out.append(None)
        elif wf is None:
            out.append(auto_limits(image))
        else:
            span = max(wf[1] - wf[0], 1e-6)  # hi > lo keeps the mapping finite
            out.append((ERROR_MAP_RANGE[0] * span, ERROR_MAP_RANGE[1] * span))
    return out


def error_map_overlays(maps: Images, shape: tuple[int, int]) -> list[NDArray[np.float32] | None]:
    """Error maps resized (nearest neighbour) to the SR image `shape`, NaN drawn as no error.

    Parameters
    ----------
    maps : sequence of ndarray (Y, X) or None
        Camera-grid error map per channel; NaN marks the border the check ignores.
    shape : (sY, sX)
        The SR image shape (or the shape it is drawn at).

    Returns
    -------
    list of (ndarray (sY, sX) float32 or None)
    """
    out: list[NDArray[np.float32] | None] = []
    for image in maps:
        if image is None:
            out.append(None)
            continue
        big = _upsample(np.nan_to_num(np.asarray(image, np.float32), nan=0.0), shape)
        out.append(big.astype(np.float32, copy=False))
    return out


def render_panels(
    wf: Images | None,
    sr: Images | None,
    *,
    gap: int = 4,
    wf_limits: Limits | None = None,
    sr_limits: Limits | None = None,
    max_height: int | None = None,
    error_maps: Images | None = None,
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
    error_maps : sequence of ndarray (Y, X) or None, optional
        Camera-grid quality error map per channel: drawn in red over the SR composite
        (:func:`error_map_overlays`, :func:`error_map_limits`); None draws no overlay.

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
    sr_rgb = None
    if have_sr and sr is not None:
        if error_maps is not None and any(m is not None for m in error_maps):
            if wf_limits is None and have_wf:
                wf_limits = panel_limits(wf)
            sr_rgb = _with_error_maps(sr, sr_limits, error_maps, wf_limits)
        else:
            sr_rgb = composite(sr, limits=sr_limits)
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


def _with_error_maps(
    sr: Images, sr_limits: Limits | None, maps: Images, wf_limits: Limits | None
) -> NDArray[np.uint8]:
    """The SR composite with each channel's error map added in :data:`ERROR_MAP_COLOR`."""
    shape = next(np.shape(im) for im in sr if im is not None)
    n = len(sr)
    overlays = error_map_overlays(list(maps)[:n], (shape[0], shape[1]))
    limits = [sr_limits[c] if sr_limits is not None and c < len(sr_limits) else None
              for c in range(n)]  # fmt: skip
    return composite(
        [*sr, *overlays],
        colors=[*_channel_colors(n), *[ERROR_MAP_COLOR] * len(overlays)],
        limits=[*limits, *error_map_limits(list(maps)[:n], wf_limits)],
    )
