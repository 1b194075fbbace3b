"""What every structure is made of: moving sets of Gaussians.

A structure evaluates to `Points` (centres, masses and widths of 2D Gaussians) at any time.
`Motion` is the drift and wobble all parts of one structure share; `chains` integrates
polylines with a Gaussian cross-section as chains of Gaussians spaced at most one *rendered*
sigma apart (profile sigma widened by any blur, trapezoid weights), so a line's profile is
exact to about 1e-8 (Poisson summation) whatever the grid or blur.

Pure numpy; no state, any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["MIN_SIGMA_UM", "Array", "Motion", "Points", "chains", "concat"]

Array = NDArray[np.float64]
# (y, x, mass, sigma), all shape (n,), um and arbitrary mass units.
Points = tuple[Array, Array, Array, Array]

# Thinnest profile any structure uses; the forward model relies on it for its anti-alias margin.
MIN_SIGMA_UM = 0.01


@dataclass(frozen=True)
class Motion:
    """Global drift plus slow smooth wobble, shared by all parts of a structure."""

    drift: Array  # (2,) um per s
    wobble_amp: float  # um
    wobble_freq: float  # Hz

    def offset(self, t: float, phase: Array) -> tuple[Array, Array]:
        """(dy, dx) displacement (um) at time `t` of parts with wobble phases `phase` (n,)."""
        w = 2 * math.pi * self.wobble_freq * t
        dy = self.drift[0] * t + self.wobble_amp * np.sin(w + phase)
        dx = self.drift[1] * t + self.wobble_amp * np.cos(w + 1.3 * phase)
        return dy, dx


def chains(
    y: Array,
    x: Array,
    counts: NDArray[np.int64],
    mass_per_um: Array,
    sigma: Array,
    blur: float,
) -> Points:
    """Integrate polylines with Gaussian cross-sections as chains of Gaussians.

    Parameters
    ----------
    y, x : ndarray, shape (n_nodes,)
        Nodes of all polylines, concatenated.
    counts : ndarray of int, shape (n_lines,)
        Nodes per polyline (>= 2).
    mass_per_um, sigma : ndarray, shape (n_lines,)
        Line density and profile width of each polyline.
    blur : float
        Blur the chain will be rendered with; spacing <= sqrt(sigma^2 + blur^2).
    """
    ends = np.cumsum(counts)
    starts = ends - counts
    seg = np.hypot(np.diff(y), np.diff(x))
    seg[ends[:-1] - 1] = 1.0  # a gap between polylines keeps the arc length increasing
    s = np.concatenate([[0.0], np.cumsum(seg)])
    s0, length = s[starts], s[ends - 1] - s[starts]
    spacing = np.sqrt(sigma**2 + blur**2)
    n = np.maximum(2, np.ceil(length / spacing).astype(np.int64) + 1)
    ds = length / (n - 1)
    local = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    si = np.repeat(s0, n) + local * np.repeat(ds, n)
    mass = np.repeat(mass_per_um * ds, n)
    last = np.cumsum(n) - 1
    first = last - n + 1
    mass[last] *= 0.5  # trapezoid rule along the line
    mass[first] *= 0.5
    py, px = np.interp(si, s, y), np.interp(si, s, x)
    # Euler-Maclaurin end correction -(ds^2/12) [f'(L) - f'(0)], with the derivative along the
    # line as a central difference of Gaussians half a step either side of each end: the chain
    # then integrates the line to O(ds^4) and renders the same for any spacing (any blur).
    ty, tx = py[first + 1] - py[first], px[first + 1] - px[first]
    norm = np.maximum(np.hypot(ty, tx), 1e-12)
    t0 = np.stack([ty / norm, tx / norm], 1)
    ty, tx = py[last] - py[last - 1], px[last] - px[last - 1]
    norm = np.maximum(np.hypot(ty, tx), 1e-12)
    t1 = np.stack([ty / norm, tx / norm], 1)
    half = (ds / 2)[:, None]
    c = mass_per_um * ds / 12
    end_y = np.concatenate(
        [
            py[first] + half[:, 0] * t0[:, 0],
            py[first] - half[:, 0] * t0[:, 0],
            py[last] + half[:, 0] * t1[:, 0],
            py[last] - half[:, 0] * t1[:, 0],
        ]
    )
    end_x = np.concatenate(
        [
            px[first] + half[:, 0] * t0[:, 1],
            px[first] - half[:, 0] * t0[:, 1],
            px[last] + half[:, 0] * t1[:, 1],
            px[last] - half[:, 0] * t1[:, 1],
        ]
    )
    end_m = np.concatenate([c, -c, -c, c])
    end_s = np.tile(sigma, 4)
    return (
        np.concatenate([py, end_y]),
        np.concatenate([px, end_x]),
        np.concatenate([mass, end_m]),
        np.concatenate([np.repeat(sigma, n), end_s]),
    )


def concat(*parts: Points) -> Points:
    """Join point sets into one."""
    y, x, m, s = zip(*parts, strict=True)
    return np.concatenate(y), np.concatenate(x), np.concatenate(m), np.concatenate(s)
