"""Filament structures: microtubules and f-actin (a mesh plus stress-fibre bundles).

Filaments are smooth curves whose curvature modes travel slowly, so they bend in time about
their middle while the whole structure drifts with its `Motion`.

Pure numpy; a structure's ``points`` function is called from one thread at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ._gaussians import Array, Motion, Points, chains, concat

__all__ = ["f_actin", "microtubules"]


def _group_cumsum(values: Array, counts: NDArray[np.int64]) -> Array:
    """Exclusive cumulative sum restarting at each group (groups are consecutive runs)."""
    total = np.cumsum(values)
    ends = np.cumsum(counts)
    before = np.concatenate([[0.0], total[ends[:-1] - 1]])
    out: Array = total - values - np.repeat(before, counts)
    return out


class _Filaments:
    """Smooth curved filaments whose curvature modes travel slowly (bending)."""

    def __init__(
        self,
        rng: np.random.Generator,
        field: tuple[float, float],
        count: int,
        length: tuple[float, float],
        sigma: float,
        curvature: float,
        bend_rate: float,
        motion: Motion,
    ) -> None:
        fy, fx = field
        # Each filament passes near a random point of the field (long ones cross it).
        through = np.stack([rng.uniform(-1, fy + 1, count), rng.uniform(-1, fx + 1, count)], 1)
        self.theta0 = rng.uniform(0, 2 * math.pi, count)
        self.length = rng.uniform(*length, count)
        back = self.length * rng.uniform(0.2, 0.8, count)
        self.start = through - back[:, None] * np.stack(
            [np.sin(self.theta0), np.cos(self.theta0)], 1
        )
        self.mass = rng.uniform(0.7, 1.3, count)
        n_modes = 3
        self.amp = curvature * rng.uniform(0.3, 1.0, (count, n_modes)) / np.arange(1, n_modes + 1)
        self.wavelength = rng.uniform(4.0, 15.0, (count, n_modes)) / np.arange(1, n_modes + 1)
        self.psi = rng.uniform(0, 2 * math.pi, (count, n_modes))
        self.omega = bend_rate * rng.normal(0.0, 1.0, (count, n_modes))
        self.phase = rng.uniform(0, 2 * math.pi, count)
        self.sigma = sigma
        self.motion = motion
        self._mid0: tuple[Array, Array, Array] | None = None

    def nodes(self, t: float) -> tuple[Array, Array, NDArray[np.int64]]:
        """Polyline nodes (every 50 nm) of all filaments at time t."""
        h = 0.05
        counts = np.ceil(self.length / h).astype(np.int64) + 1
        idx = np.repeat(np.arange(counts.size), counts)
        s = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) * h
        mid = np.cumsum(counts) - counts + counts // 2
        theta = self._theta(s, idx, counts, t)
        if self._mid0 is None:
            # Direction and position (from the start) of each middle node at t = 0.
            theta0 = theta if t == 0 else self._theta(s, idx, counts, 0.0)
            self._mid0 = (
                theta0[mid],
                _group_cumsum(np.sin(theta0) * h, counts)[mid],
                _group_cumsum(np.cos(theta0) * h, counts)[mid],
            )
        theta_mid0, ly0, lx0 = self._mid0
        # A filament bends about its middle, whose position and direction only drift (with
        # `motion`): turned about one end, a 30 um filament would swing its far end like a whip.
        # At t = 0 this changes nothing.
        theta = theta + (theta_mid0 - theta[mid])[idx]
        ly = _group_cumsum(np.sin(theta) * h, counts)
        lx = _group_cumsum(np.cos(theta) * h, counts)
        dy, dx = self.motion.offset(t, self.phase)
        y = (self.start[:, 0] + dy + ly0 - ly[mid])[idx] + ly
        x = (self.start[:, 1] + dx + lx0 - lx[mid])[idx] + lx
        return y, x, counts

    def _theta(
        self, s: Array, idx: NDArray[np.int64], counts: NDArray[np.int64], t: float
    ) -> Array:
        """Direction (radians) of every node at time t."""
        arg = 2 * math.pi * s[:, None] / self.wavelength[idx] + self.psi[idx] + self.omega[idx] * t
        # Curvature (1/um) is a sum of travelling modes, so filaments bend smoothly in time.
        kappa = (self.amp[idx] * np.sin(arg)).sum(1)
        theta: Array = self.theta0[idx] + _group_cumsum(kappa * 0.05, counts)
        return theta

    def points(self, t: float, blur: float) -> Points:
        y, x, counts = self.nodes(t)
        return chains(y, x, counts, self.mass, np.full(counts.size, self.sigma), blur)


def microtubules(
    rng: np.random.Generator, field: tuple[float, float]
) -> Callable[[float, float], Points]:
    """Draw microtubules in a `field` (y, x, um): long, gently curved filaments."""
    area = field[0] * field[1]
    motion = Motion(rng.normal(0, 0.004, 2), 0.02, 0.01)
    fil = _Filaments(
        rng,
        field,
        count=max(3, int(area / 8)),
        length=(8.0, 30.0),
        sigma=0.0125,
        curvature=0.08,
        bend_rate=0.05,
        motion=motion,
    )
    return fil.points


def f_actin(
    rng: np.random.Generator, field: tuple[float, float]
) -> Callable[[float, float], Points]:
    """Draw f-actin in a `field` (y, x, um): a mesh of short filaments plus stress fibres."""
    area = field[0] * field[1]
    motion = Motion(rng.normal(0, 0.003, 2), 0.01, 0.02)
    mesh = _Filaments(
        rng,
        field,
        count=max(5, int(area / 1.2)),
        length=(0.5, 5.0),
        sigma=0.0125,
        curvature=0.01,
        bend_rate=0.1,
        motion=motion,
    )
    # Stress-fibre bundles: groups of parallel long filaments 40-80 nm apart, brighter.
    n_bundles = max(1, int(area / 150))
    fy, fx = field
    bundle_lines: list[tuple[Array, Array, float]] = []
    for _ in range(n_bundles):
        centre = np.array([rng.uniform(0, fy), rng.uniform(0, fx)])
        theta = rng.uniform(0, math.pi)
        direction = np.array([math.sin(theta), math.cos(theta)])
        normal = np.array([direction[1], -direction[0]])
        half = rng.uniform(8.0, 20.0)
        for j in range(int(rng.integers(5, 12))):
            off = normal * (j * rng.uniform(0.04, 0.08))
            a = centre + off - half * direction
            b = centre + off + half * direction
            bundle_lines.append((a, b, float(rng.uniform(0.6, 1.2))))
    phase = rng.uniform(0, 2 * math.pi, len(bundle_lines))

    lines = np.array([(a[0], b[0], a[1], b[1]) for a, b, _ in bundle_lines])
    line_mass = np.array([mass for _, _, mass in bundle_lines])

    def points(t: float, blur: float) -> Points:
        mesh_points = mesh.points(t, blur)
        dy, dx = motion.offset(t, phase)
        y = (lines[:, :2] + dy[:, None]).ravel()
        x = (lines[:, 2:] + dx[:, None]).ravel()
        counts = np.full(len(lines), 2, np.int64)
        sigma = np.full(len(lines), 0.0125)
        bundle_points = chains(y, x, counts, line_mass, sigma, blur)
        return concat(mesh_points, bundle_points)

    return points
