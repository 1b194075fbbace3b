"""Endoplasmic reticulum: a network of curved tubules with a few flat sheets.

Tubules join at three-way junctions (the vertices of a Voronoi diagram whose seeds crowd
towards the perinuclear corner); the junctions wobble and the network drifts.

Pure numpy/scipy; a structure's ``points`` function is called from one thread at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ._gaussians import Motion, Points, chains, concat

__all__ = ["er"]

#: One flat sheet (cisterna): centre y, x (um), semi-axes ry, rx (um), rotation (radians).
_Sheet = tuple[float, float, float, float, float]


def _junctions(
    rng: np.random.Generator, field: tuple[float, float]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Draw the tubule network's three-way junctions and the tubules joining them.

    Returns
    -------
    verts : ndarray, shape (n_vertices, 2)
        Junction positions (y, x), um.
    edges : ndarray of int, shape (n_tubules, 2)
        Vertex indices of each tubule's two ends (tubules that reach far outside the field,
        or to infinity, are left out).
    """
    from scipy.spatial import Voronoi

    fy, fx = field
    # Seeds denser towards one corner (the perinuclear side): polygons there are smaller.
    n_seeds = max(12, int(fy * fx * 0.8))
    u = rng.random((n_seeds * 3, 2))
    accept = rng.random(n_seeds * 3) < 0.25 + 0.75 * (1 - 0.5 * (u[:, 0] + u[:, 1]))
    seeds = u[accept][:n_seeds] * (np.array([fy, fx]) + 4) - 2
    vor = Voronoi(seeds)
    verts: NDArray[np.float64] = vor.vertices
    # Voronoi vertices are three-way junctions; keep edges between finite vertices.
    edges = np.array([r for r in vor.ridge_vertices if -1 not in r], dtype=np.int64)
    inside = np.all(
        (verts[edges] > -3).all(-1) & (verts[edges] < np.array([fy, fx]) + 3).all(-1), axis=1
    )
    return verts, edges[inside]


def _sheets(rng: np.random.Generator, field: tuple[float, float]) -> list[_Sheet]:
    """Draw a few flat sheets (cisternae) near the dense side."""
    fy, fx = field
    n_sheets = max(1, int(fy * fx / 100))
    return [
        (
            rng.uniform(0, fy / 3),
            rng.uniform(0, fx / 3),
            rng.uniform(0.3, 0.8),
            rng.uniform(0.2, 0.5),
            rng.uniform(0, math.pi),
        )
        for _ in range(n_sheets)
    ]


def _tubules(
    pa: NDArray[np.float64],
    pb: NDArray[np.float64],
    bow: NDArray[np.float64],
    mass: NDArray[np.float64],
    width: NDArray[np.float64],
    blur: float,
) -> Points:
    """Quadratic Bezier tubules from `pa` to `pb`, bowed sideways by `bow` of their length.

    Parameters
    ----------
    pa, pb : ndarray, shape (n, 2)
        Ends (y, x) of each tubule, um.
    bow, mass, width : ndarray, shape (n,)
        Sideways bow (fraction of the length), line density and profile sigma of each tubule.
    blur : float
        Blur the tubules will be rendered with (see `chains`).
    """
    d = pb - pa
    ctrl = (pa + pb) / 2 + bow[:, None] * np.stack([d[:, 1], -d[:, 0]], 1)
    # Quadratic Bezier tubules through their junctions, 9 nodes each.
    tt = np.linspace(0, 1, 9)[None, :, None]
    curve = (1 - tt) ** 2 * pa[:, None] + 2 * (1 - tt) * tt * ctrl[:, None] + tt**2 * pb[:, None]
    counts = np.full(len(pa), 9, np.int64)
    return chains(curve[..., 0].ravel(), curve[..., 1].ravel(), counts, mass, width, blur)


def _sheet_points(sheet: _Sheet, dy: float, dx: float) -> Points:
    """A flat sheet as a dense grid of wide Gaussians (40 nm apart), shifted by (dy, dx) um."""
    cy0, cx0, ry, rx, rot = sheet
    step = 0.04
    gy, gx = np.meshgrid(np.arange(-ry, ry, step), np.arange(-rx, rx, step))
    ins = (gy / ry) ** 2 + (gx / rx) ** 2 < 1
    gy, gx = gy[ins], gx[ins]
    return (
        cy0 + dy + gy * math.cos(rot) - gx * math.sin(rot),
        cx0 + dx + gy * math.sin(rot) + gx * math.cos(rot),
        np.full(gy.size, 0.5 * step * step / 0.05),
        np.full(gy.size, 0.04),
    )


def er(rng: np.random.Generator, field: tuple[float, float]) -> Callable[[float, float], Points]:
    """Draw an ER network in a `field` (y, x, um); return its ``points(t, blur)`` function."""
    verts, edges = _junctions(rng, field)
    bow = np.asarray(rng.normal(0, 0.15, edges.shape[0]))  # tubules are gently curved
    mass = np.asarray(rng.uniform(0.6, 1.2, edges.shape[0]))
    width = np.asarray(rng.uniform(0.02, 0.035, edges.shape[0]))
    v_amp = rng.uniform(0.02, 0.08, verts.shape)
    v_freq = rng.uniform(0.005, 0.03, verts.shape)
    v_phase = rng.uniform(0, 2 * math.pi, verts.shape)
    motion = Motion(rng.normal(0, 0.003, 2), 0.0, 0.0)
    sheets = _sheets(rng, field)

    def points(t: float, blur: float) -> Points:
        dy, dx = motion.offset(t, np.zeros(1))
        v = verts + v_amp * np.sin(2 * math.pi * v_freq * t + v_phase)
        v = v + np.array([dy[0], dx[0]])
        tubules = _tubules(v[edges[:, 0]], v[edges[:, 1]], bow, mass, width, blur)
        return concat(tubules, *(_sheet_points(sheet, dy[0], dx[0]) for sheet in sheets))

    return points
