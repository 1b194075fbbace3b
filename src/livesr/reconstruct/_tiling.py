"""Overlapping tiles with seamless blending, so a fixed-size network handles frames of any size.

Each tile's output is weighted by a separable window that is 0 in the outer quarter of the
overlap next to an interior tile edge (where the network saw zero padding instead of the
neighbouring pixels), rises linearly over the middle half and is 1 elsewhere. Windows of
neighbouring tiles sum to one across the overlap, so there are no seams, and for a network whose
receptive field radius is below ``overlap / 4`` input pixels the tiled output equals the
whole-frame output to round-off. Networks with global context (the Fourier channel attention of
DFCAN pools over the whole tile) differ slightly between tiles; the blend hides that too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ._protocol import Reconstructor, ReconstructorInfo

__all__ = ["TiledReconstructor", "tile_starts", "tile_window", "tiled_apply"]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size `tile` covering ``range(length)``.

    Consecutive tiles overlap by `overlap` pixels; the last tile is aligned to the end, so it may
    overlap its neighbour by more.
    """
    if tile <= overlap:
        raise ValueError(
            f"tile size {tile} must be larger than the overlap {overlap}; "
            "use a larger tile_size or a smaller tile_overlap"
        )
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def tile_window(
    tile: int, scale: int, overlap: int, *, taper_start: bool, taper_end: bool
) -> NDArray[np.float32]:
    """1D blending weights of one tile along one axis, in output pixels.

    Parameters
    ----------
    tile : int
        Tile length in input pixels.
    scale : int
        Output pixels per input pixel.
    overlap : int
        Overlap between neighbouring tiles in input pixels.
    taper_start, taper_end : bool
        Whether that edge borders another tile (taper) or the frame edge (weight 1).

    Returns
    -------
    ndarray, float32, shape (tile * scale,)
    """
    # Output pixel centres in input-pixel units, measured from each tile edge.
    pos = (np.arange(tile * scale, dtype=np.float64) + 0.5) / scale
    weight = np.ones(tile * scale, dtype=np.float64)
    if overlap > 0:
        margin, ramp = overlap / 4.0, overlap / 2.0
        if taper_start:
            weight *= np.clip((pos - margin) / ramp, 0.0, 1.0)
        if taper_end:
            weight *= np.clip((tile - pos - margin) / ramp, 0.0, 1.0)
    return weight.astype(np.float32)


def tiled_apply(
    fn: Callable[[NDArray[np.float32]], NDArray[np.float32]],
    stacks: NDArray[np.float32],
    *,
    tile: tuple[int, int],
    overlap: int,
    scale: int,
    batch_size: int = 1,
) -> NDArray[np.float32]:
    """Run `fn` on overlapping tiles of `stacks` and blend the outputs.

    Parameters
    ----------
    fn : callable
        float32 (B, F, ty, tx) -> float32 (B, 1, s*ty, s*tx), e.g. a `Reconstructor`.
    stacks : ndarray, float32, shape (N, F, Y, X)
        Normalised input stacks.
    tile : (ty, tx)
        Tile size in input pixels. Frames smaller than a tile are padded by reflection (so
        fixed-shape engines still get their shape) and the padding is cropped off the output.
    overlap : int
        Overlap of neighbouring tiles in input pixels; choose at least 4x the network's
        receptive-field radius for exact results.
    scale : int
        Output pixels per input pixel.
    batch_size : int
        Tiles per call of `fn`.

    Returns
    -------
    ndarray, float32, shape (N, 1, s*Y, s*X)
    """
    if stacks.ndim != 4:
        raise ValueError(f"expected stacks (N, F, Y, X), got shape {stacks.shape}")
    n, _, height, width = stacks.shape
    ty, tx = tile
    pad_y, pad_x = max(0, ty - height), max(0, tx - width)
    if pad_y or pad_x:
        widths = ((0, 0), (0, 0), (0, pad_y), (0, pad_x))
        if pad_y < height and pad_x < width:
            stacks = np.pad(stacks, widths, mode="reflect")
        else:
            stacks = np.pad(stacks, widths, mode="edge")
    full_y, full_x = stacks.shape[-2:]
    ys, xs = tile_starts(full_y, ty, overlap), tile_starts(full_x, tx, overlap)

    out = np.zeros((n, 1, full_y * scale, full_x * scale), dtype=np.float32)
    weight_sum = np.zeros((full_y * scale, full_x * scale), dtype=np.float32)
    windows: dict[tuple[int, int], NDArray[np.float32]] = {}
    for iy, y0 in enumerate(ys):
        wy = tile_window(ty, scale, overlap, taper_start=iy > 0, taper_end=iy < len(ys) - 1)
        for ix, x0 in enumerate(xs):
            wx = tile_window(tx, scale, overlap, taper_start=ix > 0, taper_end=ix < len(xs) - 1)
            windows[y0, x0] = np.outer(wy, wx)
            weight_sum[y0 * scale : (y0 + ty) * scale, x0 * scale : (x0 + tx) * scale] += windows[
                y0, x0
            ]

    jobs = [(i, y0, x0) for i in range(n) for y0 in ys for x0 in xs]
    for first in range(0, len(jobs), batch_size):
        chunk = jobs[first : first + batch_size]
        batch = np.stack([stacks[i, :, y0 : y0 + ty, x0 : x0 + tx] for i, y0, x0 in chunk])
        result = fn(np.ascontiguousarray(batch, dtype=np.float32))
        for (i, y0, x0), tile_out in zip(chunk, result, strict=True):
            oy, ox = slice(y0 * scale, (y0 + ty) * scale), slice(x0 * scale, (x0 + tx) * scale)
            out[i, :, oy, ox] += tile_out * windows[y0, x0]
    out /= weight_sum
    return out[..., : height * scale, : width * scale]


class TiledReconstructor:
    """A `Reconstructor` that feeds another one overlapping tiles of a fixed size.

    Parameters
    ----------
    inner : Reconstructor
        The network backend; if it has a ``fixed_shape`` that is the tile size.
    tile_size : int or (ty, tx), optional
        Tile size in input pixels; required when `inner` accepts any shape.
    overlap : int
        Overlap of neighbouring tiles in input pixels.
    batch_size : int
        Tiles per call of `inner`.

    Notes
    -----
    Same threading contract as `inner`: one owner thread. `close` closes `inner`.
    """

    def __init__(
        self,
        inner: Reconstructor,
        tile_size: int | tuple[int, int] | None = None,
        *,
        overlap: int = 32,
        batch_size: int = 1,
    ) -> None:
        fixed = inner.info.fixed_shape
        if tile_size is None:
            if fixed is None:
                raise ValueError("tile_size is required when the backend accepts any frame size")
            tile = fixed
        else:
            tile = (tile_size, tile_size) if isinstance(tile_size, int) else tuple(tile_size)  # type: ignore[assignment]
            if fixed is not None and tile != fixed:
                raise ValueError(
                    f"tile_size {tile} differs from the backend's fixed input shape {fixed}; "
                    "build the backend for the tile size or omit tile_size"
                )
        if overlap < 0 or min(tile) <= overlap:
            raise ValueError(f"overlap must be in [0, tile size), got {overlap} for tile {tile}")
        self.inner = inner
        self.tile: tuple[int, int] = (int(tile[0]), int(tile[1]))
        self.overlap = int(overlap)
        self.batch_size = int(batch_size)
        self._info = dataclasses.replace(inner.info, fixed_shape=None)

    @property
    def info(self) -> ReconstructorInfo:
        """The inner backend's info, accepting any frame size."""
        return self._info

    def warmup(self) -> None:
        """Warm up the inner backend."""
        self.inner.warmup()

    def __call__(self, stacks: NDArray[np.float32]) -> NDArray[np.float32]:
        """Reconstruct float32 (N, F, Y, X) -> float32 (N, 1, s*Y, s*X) tile by tile."""
        return tiled_apply(
            self.inner,
            stacks,
            tile=self.tile,
            overlap=self.overlap,
            scale=self.info.scale,
            batch_size=self.batch_size,
        )

    def close(self) -> None:
        """Close the inner backend."""
        self.inner.close()
