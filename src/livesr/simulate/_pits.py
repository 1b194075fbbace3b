"""Clathrin-coated pits: puncta that form and fade at a steady density.

Pits sit on a jittered lattice of sites; each site hosts pit after pit, and pits of 120 nm
and larger show their coat as a ring.

Pure numpy; a structure's ``points`` function is called from one thread at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ._gaussians import MIN_SIGMA_UM, Array, Motion, Points

__all__ = ["ccps"]


def _hash_signed(site: NDArray[np.int64], cycle: Array, salt: float) -> Array:
    """Deterministic pseudo-random numbers in [-1, 1) of (site, cycle) pairs."""
    v = np.sin(site * 12.9898 + cycle * 78.233 + salt * 37.719) * 43758.5453
    out: Array = 2.0 * (v - np.floor(v)) - 1.0
    return out


def ccps(rng: np.random.Generator, field: tuple[float, float]) -> Callable[[float, float], Points]:
    """Draw clathrin-coated pit sites in a `field` (y, x, um); return ``points(t, blur)``."""
    fy, fx = field
    # Jittered lattice: well separated puncta (Poisson-disc like) at about 1.2 per um^2.
    spacing = 0.9
    gy, gx = np.meshgrid(np.arange(-0.5, fy + 0.5, spacing), np.arange(-0.5, fx + 0.5, spacing))
    cy = gy.ravel() + rng.uniform(-0.3, 0.3, gy.size) * spacing
    cx = gx.ravel() + rng.uniform(-0.3, 0.3, gx.size) * spacing
    n = cy.size
    diameter = rng.uniform(0.08, 0.2, n)
    brightness = rng.lognormal(0.0, 0.3, n) * (diameter / 0.12) ** 2
    # Each site hosts pit after pit: a pit lives 20-80 s, fading in and out (sin^2 envelope),
    # then the site stays empty for a while and the next pit forms nearby. Every site runs this
    # cycle from its own random phase, so the expected number of pits is the same at every
    # time (a steady state, as in a living cell): 60 % of the sites carry a pit at any moment.
    life = rng.uniform(20.0, 80.0, n)
    period = life / 0.6
    start = rng.uniform(0.0, 1.0, n) * period  # cycle phase at t = 0
    motion = Motion(rng.normal(0, 0.003, 2), 0.03, 0.02)
    phase = rng.uniform(0, 2 * math.pi, n)
    # Template ring: pits of 120 nm and larger show their clathrin coat as a ring.
    ring_sigma = 0.015

    def points(t: float, blur: float) -> Points:
        cycle, since = np.divmod(t + start, period)
        age = since / life
        alive = age < 1
        env = np.where(alive, np.sin(math.pi * np.clip(age, 0, 1)) ** 2, 0.0)
        dy, dx = motion.offset(t, phase)
        # Each new pit of a site forms within 0.3 spacings of the site (a fixed hash of the
        # site and cycle, so every time t sees the same pit); it moves only between pits.
        dy = dy + 0.3 * spacing * _hash_signed(np.arange(n), cycle, 1.0)
        dx = dx + 0.3 * spacing * _hash_signed(np.arange(n), cycle, 2.0)
        ys, xs, ms, ss = [], [], [], []
        idx = np.flatnonzero(env > 1e-3)
        large = idx[diameter[idx] >= 0.12]
        small = idx[diameter[idx] < 0.12]
        ys.append(cy[small] + dy[small])
        xs.append(cx[small] + dx[small])
        ms.append(brightness[small] * env[small])
        ss.append(np.maximum(diameter[small] / 4, MIN_SIGMA_UM))
        n_ring = 40  # ring Gaussians closer than their sigma: a smooth ring
        ang = 2 * math.pi * np.arange(n_ring) / n_ring
        r = (diameter[large] / 2 - ring_sigma)[:, None]
        ys.append(((cy[large] + dy[large])[:, None] + r * np.sin(ang)).ravel())
        xs.append(((cx[large] + dx[large])[:, None] + r * np.cos(ang)).ravel())
        ms.append(np.repeat(brightness[large] * env[large] / n_ring, n_ring))
        ss.append(np.full(large.size * n_ring, ring_sigma))
        return np.concatenate(ys), np.concatenate(xs), np.concatenate(ms), np.concatenate(ss)

    return points
