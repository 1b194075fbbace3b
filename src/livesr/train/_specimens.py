"""Procedural specimens for the randomised-microscope training simulator.

Kinds beyond the evaluation simulator's four structures (which training never uses, so the
held-out evaluation also sees unseen specimens): filaments, puncta, ER-like polygon networks,
membrane outlines, smooth cell-like blobs, power-law texture, sparse near-empty fields and
mixtures. Every density is non-negative, float32, on the SR grid, with mean 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter

__all__ = ["SPECIMEN_KINDS", "random_specimen"]

Array = NDArray[np.float32]


def _f32(x: Any) -> Array:
    out: Array = np.asarray(x, dtype=np.float32)
    return out


def _splat(
    shape: tuple[int, int], y: NDArray[np.float64], x: NDArray[np.float64], w: NDArray[np.float64]
) -> Array:
    """Bilinear splat of weighted points (periodic) onto a grid."""
    ny, nx = shape
    y0 = np.floor(y)
    x0 = np.floor(x)
    fy = y - y0
    fx = x - x0
    out = np.zeros(ny * nx, np.float64)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            iy = (y0.astype(np.int64) + dy) % ny
            ix = (x0.astype(np.int64) + dx) % nx
            out += np.bincount(iy * nx + ix, weights=w * wy * wx, minlength=ny * nx)
    return out.reshape(shape).astype(np.float32)


def _segments(
    shape: tuple[int, int],
    starts: NDArray[np.float64],
    ends: NDArray[np.float64],
    weight: NDArray[np.float64],
    step: float = 0.5,
) -> Array:
    """Line segments (start, end) drawn as points every `step` pixels."""
    length = np.linalg.norm(ends - starts, axis=1)
    counts = np.maximum(1, np.ceil(length / step).astype(np.int64))
    idx = np.repeat(np.arange(len(starts)), counts)
    t = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / np.repeat(
        counts, counts
    )
    pts = starts[idx] + (ends[idx] - starts[idx]) * t[:, None]
    w = np.repeat(weight * length / counts, counts)
    return _splat(shape, pts[:, 0], pts[:, 1], w)


def _filaments(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    n = int(rng.integers(3, 40))
    steps = 400
    size = float(max(shape))
    pos = rng.uniform(0, 1, (n, 2)) * np.array(shape)
    theta = rng.uniform(0, 2 * np.pi, n)
    stiffness = rng.uniform(0.01, 0.12)
    curv = rng.normal(0, stiffness, (n, steps)).cumsum(axis=1) * 0.3
    angles = theta[:, None] + np.cumsum(curv + rng.normal(0, stiffness, (n, steps)), axis=1)
    ds = size / steps * rng.uniform(0.5, 1.5)
    path = pos[:, None, :] + np.cumsum(
        np.stack([np.sin(angles), np.cos(angles)], axis=-1) * ds, axis=1
    )
    starts = path[:, :-1].reshape(-1, 2)
    ends = path[:, 1:].reshape(-1, 2)
    bright = np.repeat(rng.lognormal(0, 0.4, n), steps - 1)
    img = _segments(shape, starts, ends, bright)
    return _f32(gaussian_filter(img, rng.uniform(0.4, 1.2), mode="wrap"))


def _puncta(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    n = int(rng.integers(20, 400))
    y = rng.uniform(0, shape[0], n)
    x = rng.uniform(0, shape[1], n)
    img = _splat(shape, y, x, rng.lognormal(0, 0.6, n))
    out = gaussian_filter(img, rng.uniform(0.5, 1.5), mode="wrap")
    if rng.random() < 0.5:  # rings (vesicles, CCP-like)
        ring = gaussian_filter(img, rng.uniform(2.0, 4.0), mode="wrap")
        out = out + 3.0 * np.maximum(ring - gaussian_filter(img, 1.5, mode="wrap") * 0.5, 0)
    return _f32(out)


def _network(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    from scipy.spatial import Delaunay

    n = int(rng.integers(30, 250))
    pts = rng.uniform(0, 1, (n, 2)) * np.array(shape)
    tri = Delaunay(pts)
    edges = np.concatenate(
        [tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [0, 2]]]
    )
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    keep = rng.random(len(edges)) < rng.uniform(0.4, 0.9)
    edges = edges[keep]
    img = _segments(shape, pts[edges[:, 0]], pts[edges[:, 1]], rng.lognormal(0, 0.3, len(edges)))
    img = gaussian_filter(img, rng.uniform(0.5, 1.5), mode="wrap")
    if rng.random() < 0.5:  # sheets
        sheet = gaussian_filter(rng.random(shape).astype(np.float32), 8, mode="wrap")
        sheet = np.maximum(sheet - np.percentile(sheet, 85), 0)
        img = img + sheet * (img.mean() / max(float(sheet.mean()), 1e-9)) * 0.5
    return _f32(img)


def _membranes(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    n = int(rng.integers(1, 12))
    starts, ends, weights = [], [], []
    for _ in range(n):
        cy, cx = rng.uniform(0, 1, 2) * np.array(shape)
        r0 = rng.uniform(0.05, 0.35) * min(shape)
        t = np.linspace(0, 2 * np.pi, 400)
        r = r0 * (
            1 + sum(rng.normal(0, 0.08) * np.cos(k * t + rng.uniform(0, 6.3)) for k in range(2, 6))
        )
        p = np.stack([cy + r * np.sin(t), cx + r * np.cos(t)], axis=1)
        starts.append(p[:-1])
        ends.append(p[1:])
        weights.append(np.full(len(p) - 1, rng.lognormal(0, 0.3)))
    img = _segments(shape, np.concatenate(starts), np.concatenate(ends), np.concatenate(weights))
    return _f32(gaussian_filter(img, rng.uniform(0.5, 2.0), mode="wrap"))


def _blobs(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    field = gaussian_filter(
        rng.standard_normal(shape).astype(np.float32), rng.uniform(3, 15), mode="wrap"
    )
    field /= float(field.std()) + 1e-9
    return _f32(np.log1p(np.exp(2.0 * (field - rng.uniform(0, 1.5)))).astype(np.float32))


def _texture(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    f = np.hypot(fy, fx)
    f[0, 0] = 1.0
    beta = rng.uniform(0.8, 1.6)
    spec = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / f**beta
    field = np.fft.ifft2(spec).real
    field = (field - field.mean()) / (field.std() + 1e-9)
    return _f32(np.exp(rng.uniform(0.5, 1.2) * field).astype(np.float32))


def _sparse(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    n = int(rng.integers(1, 8))
    img = _splat(
        shape, rng.uniform(0, shape[0], n), rng.uniform(0, shape[1], n), rng.lognormal(0, 0.5, n)
    )
    return _f32(gaussian_filter(img, rng.uniform(0.6, 2.0), mode="wrap") + 1e-3)


SPECIMEN_KINDS: dict[str, Callable[[np.random.Generator, tuple[int, int]], Array]] = {
    "filaments": _filaments,
    "puncta": _puncta,
    "network": _network,
    "membranes": _membranes,
    "blobs": _blobs,
    "texture": _texture,
    "sparse": _sparse,
}
_WEIGHTS = np.array([0.25, 0.15, 0.15, 0.12, 0.08, 0.1, 0.03])
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def random_specimen(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[Array, str]:
    """A random density of mean 1 on the SR grid and its kind ("a+b" for a mixture)."""
    names = list(SPECIMEN_KINDS)
    first = names[int(rng.choice(len(names), p=_WEIGHTS))]
    img = SPECIMEN_KINDS[first](rng, shape)
    kind = first
    if rng.random() < 0.3:
        second = names[int(rng.choice(len(names), p=_WEIGHTS))]
        other = SPECIMEN_KINDS[second](rng, shape)
        img = img / (img.mean() + 1e-9) + rng.uniform(0.2, 1.0) * other / (other.mean() + 1e-9)
        kind = f"{first}+{second}"
    if rng.random() < 0.3:  # diffuse cytosolic haze
        img = img / (img.mean() + 1e-9) + rng.uniform(0.02, 0.3)
    img = np.maximum(img, 0).astype(np.float32)
    return img / np.float32(max(float(img.mean()), 1e-12)), kind
