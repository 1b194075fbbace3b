"""BioSR-like specimens as moving sets of Gaussians.

Each structure is drawn from a seeded generator once (geometry and motion parameters) and then
evaluated at any time ``t`` (seconds) as arrays of Gaussian centres, masses and widths. Widths
follow the labelled structures: microtubules and actin about 30 nm FWHM, ER tubules 50-100 nm,
clathrin-coated pits 80-200 nm (rings when large).

Filaments and tubules are continuous polylines (nodes every 50 nm or less along smooth curves)
with a Gaussian cross-section. They are integrated as chains of Gaussians spaced at most one
*rendered* sigma apart (profile sigma widened by any blur, trapezoid weights), so a line's
profile is exact to about 1e-8 (Poisson summation) whatever the grid or blur.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["STRUCTURES", "Points", "build_structure"]

STRUCTURES: tuple[str, ...] = ("microtubules", "ccps", "er", "f-actin")

Array = NDArray[np.float64]
# (y, x, mass, sigma), all shape (n,), um and arbitrary mass units.
Points = tuple[Array, Array, Array, Array]

# Thinnest profile any structure uses; the forward model relies on it for its anti-alias margin.
MIN_SIGMA_UM = 0.01


@dataclass(frozen=True)
class _Motion:
    """Global drift plus slow smooth wobble, shared by all parts of a structure."""

    drift: Array  # (2,) um per s
    wobble_amp: float  # um
    wobble_freq: float  # Hz

    def offset(self, t: float, phase: Array) -> tuple[Array, Array]:
        w = 2 * math.pi * self.wobble_freq * t
        dy = self.drift[0] * t + self.wobble_amp * np.sin(w + phase)
        dx = self.drift[1] * t + self.wobble_amp * np.cos(w + 1.3 * phase)
        return dy, dx


def _group_cumsum(values: Array, counts: NDArray[np.int64]) -> Array:
    """Exclusive cumulative sum restarting at each group (groups are consecutive runs)."""
    total = np.cumsum(values)
    ends = np.cumsum(counts)
    before = np.concatenate([[0.0], total[ends[:-1] - 1]])
    out: Array = total - values - np.repeat(before, counts)
    return out


def _chains(
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
        motion: _Motion,
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
        return _chains(y, x, counts, self.mass, np.full(counts.size, self.sigma), blur)


def _microtubules(
    rng: np.random.Generator, field: tuple[float, float]
) -> Callable[[float, float], Points]:
    area = field[0] * field[1]
    motion = _Motion(rng.normal(0, 0.004, 2), 0.02, 0.01)
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


def _f_actin(
    rng: np.random.Generator, field: tuple[float, float]
) -> Callable[[float, float], Points]:
    area = field[0] * field[1]
    motion = _Motion(rng.normal(0, 0.003, 2), 0.01, 0.02)
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
        bundle_points = _chains(y, x, counts, line_mass, sigma, blur)
        return _concat(mesh_points, bundle_points)

    return points


def _concat(*parts: Points) -> Points:
    y, x, m, s = zip(*parts, strict=True)
    return np.concatenate(y), np.concatenate(x), np.concatenate(m), np.concatenate(s)


def _hash_signed(site: NDArray[np.int64], cycle: Array, salt: float) -> Array:
    """Deterministic pseudo-random numbers in [-1, 1) of (site, cycle) pairs."""
    v = np.sin(site * 12.9898 + cycle * 78.233 + salt * 37.719) * 43758.5453
    out: Array = 2.0 * (v - np.floor(v)) - 1.0
    return out


def _ccps(
    rng: np.random.Generator, field: tuple[float, float]
) -> Callable[[float, float], Points]:
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
    motion = _Motion(rng.normal(0, 0.003, 2), 0.03, 0.02)
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


def _er(rng: np.random.Generator, field: tuple[float, float]) -> Callable[[float, float], Points]:
    from scipy.spatial import Voronoi

    fy, fx = field
    # Seeds denser towards one corner (the perinuclear side): polygons there are smaller.
    n_seeds = max(12, int(fy * fx * 0.8))
    u = rng.random((n_seeds * 3, 2))
    accept = rng.random(n_seeds * 3) < 0.25 + 0.75 * (1 - 0.5 * (u[:, 0] + u[:, 1]))
    seeds = u[accept][:n_seeds] * (np.array([fy, fx]) + 4) - 2
    vor = Voronoi(seeds)
    verts = vor.vertices
    # Voronoi vertices are three-way junctions; keep edges between finite vertices.
    edges = np.array([r for r in vor.ridge_vertices if -1 not in r], dtype=np.int64)
    inside = np.all(
        (verts[edges] > -3).all(-1) & (verts[edges] < np.array([fy, fx]) + 3).all(-1), axis=1
    )
    edges = edges[inside]
    bow = np.asarray(rng.normal(0, 0.15, edges.shape[0]))  # tubules are gently curved
    mass = np.asarray(rng.uniform(0.6, 1.2, edges.shape[0]))
    width = np.asarray(rng.uniform(0.02, 0.035, edges.shape[0]))
    v_amp = rng.uniform(0.02, 0.08, verts.shape)
    v_freq = rng.uniform(0.005, 0.03, verts.shape)
    v_phase = rng.uniform(0, 2 * math.pi, verts.shape)
    motion = _Motion(rng.normal(0, 0.003, 2), 0.0, 0.0)
    # A few flat sheets (cisternae) near the dense side.
    n_sheets = max(1, int(fy * fx / 100))
    sheets = [
        (
            rng.uniform(0, fy / 3),
            rng.uniform(0, fx / 3),
            rng.uniform(0.3, 0.8),
            rng.uniform(0.2, 0.5),
            rng.uniform(0, math.pi),
        )
        for _ in range(n_sheets)
    ]

    def points(t: float, blur: float) -> Points:
        dy, dx = motion.offset(t, np.zeros(1))
        v = verts + v_amp * np.sin(2 * math.pi * v_freq * t + v_phase)
        v = v + np.array([dy[0], dx[0]])
        pa, pb = v[edges[:, 0]], v[edges[:, 1]]
        d = pb - pa
        ctrl = (pa + pb) / 2 + bow[:, None] * np.stack([d[:, 1], -d[:, 0]], 1)
        # Quadratic Bezier tubules through their junctions, 9 nodes each.
        tt = np.linspace(0, 1, 9)[None, :, None]
        curve = (
            (1 - tt) ** 2 * pa[:, None] + 2 * (1 - tt) * tt * ctrl[:, None] + tt**2 * pb[:, None]
        )
        counts = np.full(len(edges), 9, np.int64)
        tubules = _chains(curve[..., 0].ravel(), curve[..., 1].ravel(), counts, mass, width, blur)
        parts = [tubules]
        for cy0, cx0, ry, rx, rot in sheets:
            step = 0.04
            gy, gx = np.meshgrid(np.arange(-ry, ry, step), np.arange(-rx, rx, step))
            ins = (gy / ry) ** 2 + (gx / rx) ** 2 < 1
            gy, gx = gy[ins], gx[ins]
            parts.append(
                (
                    cy0 + dy[0] + gy * math.cos(rot) - gx * math.sin(rot),
                    cx0 + dx[0] + gy * math.sin(rot) + gx * math.cos(rot),
                    np.full(gy.size, 0.5 * step * step / 0.05),
                    np.full(gy.size, 0.04),
                )
            )
        return _concat(*parts)

    return points


_BUILDERS: dict[
    str, Callable[[np.random.Generator, tuple[float, float]], Callable[[float, float], Points]]
]
_BUILDERS = {
    "microtubules": _microtubules,
    "ccps": _ccps,
    "er": _er,
    "f-actin": _f_actin,
}


def build_structure(
    structure: str, rng: np.random.Generator, field: tuple[float, float]
) -> Callable[[float, float], Points]:
    """Draw a structure's geometry and motion; return its ``points(t)`` function."""
    try:
        builder = _BUILDERS[structure]
    except KeyError:
        raise ValueError(
            f"unknown structure {structure!r}; choose one of {', '.join(STRUCTURES)}"
        ) from None
    return builder(rng, field)
