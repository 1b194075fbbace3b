"""Carrier search: OTF-weighted band cross-correlation, ring-normalised score, consensus.

For one orientation the bands separated with nominal phases are ``C_0 = H S`` and
``C_+1 = m H S(. - k)``. Their cross-correlation ``X(kappa) = sum_q W C_0(q) conj(W C_+1(q +
kappa))`` peaks at ``kappa = k``. The weight ``W = H / (H^2 + 0.1^2)`` (a damped inverse OTF)
makes the overlap near the cutoff count, where a carrier at 0.75-1.0 of the cutoff lives,
without the 1/H blow-up of plain division. ``X`` falls steeply with |kappa| (specimen
structure at small shifts), so it is divided by its median over the ring of the same |kappa|:
the score is "peak over ring median", which noise alone brings to about 4 over a whole
annulus and to about 3 within a small window.

Several orientations share |k| and sit 180/N degrees apart; `consensus_peaks` uses that to
look for a weak orientation's carrier only where the others say it must be, instead of taking
the highest clutter peak in the whole annulus.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import maximum_filter

from ._bands import fourier_pad

__all__ = ["Peak", "SearchGrid", "consensus_peaks", "refine_peak", "score_map"]


@dataclass(frozen=True)
class Peak:
    """A carrier candidate on the 2x grid: index, frequency (cycles per um), score."""

    iy: int
    ix: int
    k: tuple[float, float]
    score: float


class SearchGrid:
    """Frequencies of the 2x-padded cross-correlation grid and their ring index.

    Parameters
    ----------
    shape : (Y, X)
        Raw frame shape; the grid is (2Y, 2X) with the raw frequency spacing.
    pixel_size_um : float
        Raw pixel size.
    """

    def __init__(self, shape: tuple[int, int], pixel_size_um: float) -> None:
        ny, nx = shape
        self.shape = (2 * ny, 2 * nx)
        self.df = 1.0 / (max(ny, nx) * pixel_size_um)
        self.fy = np.fft.fftfreq(2 * ny, d=pixel_size_um / 2.0)[:, None]
        self.fx = np.fft.fftfreq(2 * nx, d=pixel_size_um / 2.0)[None, :]
        self.radius: NDArray[np.float64] = np.hypot(self.fy, self.fx)
        # Orientation of each frequency, degrees in [0, 180): +k and -k are one orientation.
        self.angle: NDArray[np.float64] = np.degrees(np.arctan2(self.fy, self.fx)) % 180.0
        self.ring: NDArray[np.intp] = np.rint(self.radius / self.df).astype(np.intp)
        self._order = np.argsort(self.ring.ravel(), kind="stable")
        self._bounds = np.searchsorted(
            self.ring.ravel()[self._order], np.arange(int(self.ring.max()) + 2)
        )

    def frequency(self, iy: int, ix: int) -> tuple[float, float]:
        """(ky, kx) of grid point (iy, ix), cycles per um."""
        return float(self.fy[iy, 0]), float(self.fx[0, ix])

    def ring_normalise(
        self, magnitude: NDArray[np.float64], region: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """`magnitude` over the median of its ring (same rounded |f|), 0 outside `region`."""
        flat = magnitude.ravel()
        scale = np.zeros(self._bounds.size - 1)
        for r in np.unique(self.ring[region]):
            members = self._order[self._bounds[r] : self._bounds[r + 1]]
            scale[r] = 1.0 / max(float(np.median(flat[members])), 1e-30)
        out: NDArray[np.float64] = np.where(region, magnitude * scale[self.ring], 0.0)
        return out


def score_map(
    bands: NDArray[np.complexfloating],
    otf_small: NDArray[np.float64],
    radius_small: NDArray[np.float64],
    cutoff: float,
    grid: SearchGrid,
    region: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.complex128]]:
    """Ring-normalised |cross-correlation| of band 0 and band +1 of one orientation.

    Parameters
    ----------
    bands : ndarray, complex, shape (B, Y, X)
        Separated bands (rows 0, +1, -1, ...), full FFT layout.
    otf_small, radius_small : ndarray, float, shape (Y, X)
        |OTF| and |f| on the raw grid.
    cutoff : float
        OTF cutoff, cycles per um.
    grid : SearchGrid
        The 2x grid.
    region : ndarray, bool, shape (2Y, 2X)
        Where a carrier may be (the score is computed only there).

    Returns
    -------
    (score, product)
        Score (2Y, 2X), 0 outside `region`; the real-space product ``conj(c0) c1`` on the 2x
        grid, whose DTFT `refine_peak` zooms into.
    """
    weight = otf_small / (otf_small**2 + 0.1**2) * (otf_small > 1e-3)
    notch = 1.0 - np.exp(-((radius_small / (0.15 * cutoff)) ** 2))
    w = weight * notch
    c0 = np.fft.ifft2(fourier_pad(bands[0] * w, 2))
    c1 = np.fft.ifft2(fourier_pad(bands[1] * w, 2))
    product: NDArray[np.complex128] = np.conj(c0) * c1
    magnitude = np.abs(np.fft.fft2(product))
    return grid.ring_normalise(magnitude, region), product


def local_peaks(score: NDArray[np.float64], grid: SearchGrid, count: int = 6) -> list[Peak]:
    """The `count` highest local maxima (5x5 neighbourhood) of `score`, best first."""
    maxima = (score == maximum_filter(score, size=5)) & (score > 0)
    idx = np.flatnonzero(maxima)
    best = idx[np.argsort(score.ravel()[idx])[::-1][:count]]
    peaks = []
    for i in best:
        iy, ix = divmod(int(i), score.shape[1])
        peaks.append(Peak(iy, ix, grid.frequency(iy, ix), float(score[iy, ix])))
    return peaks


def _angle_gap(a: NDArray[np.float64] | float, b: float) -> NDArray[np.float64]:
    # Distance between orientations in degrees, modulo 180.
    d = np.abs((np.asarray(a) - b + 90.0) % 180.0 - 90.0)
    return np.asarray(d, dtype=np.float64)


def _best_in(score: NDArray[np.float64], window: NDArray[np.bool_], grid: SearchGrid) -> Peak:
    masked = np.where(window, score, 0.0)
    i = int(np.argmax(masked))
    iy, ix = divmod(i, score.shape[1])
    return Peak(iy, ix, grid.frequency(iy, ix), float(masked[iy, ix]))


def consensus_peaks(
    scores: list[NDArray[np.float64]],
    grid: SearchGrid,
    *,
    k_tolerance: float = 0.02,
    angle_tolerance_deg: float = 2.0,
    candidates: int = 6,
) -> list[Peak]:
    """One carrier per orientation, consistent across orientations.

    Every strong local maximum of every orientation is tried as an anchor. Given an anchor
    (|k|, angle), each other orientation's carrier must sit at the same |k| (within
    `k_tolerance` plus one frequency pixel) and at one of the other angles ``anchor + j 180/N``
    (within `angle_tolerance_deg` plus one pixel's angle); each takes the best score in its
    window, and distinct orientations take distinct angles. The anchor whose set has the
    highest summed log score wins. With one orientation, its highest peak is returned.

    Parameters
    ----------
    scores : list of ndarray, shape (2Y, 2X)
        `score_map` of each orientation (in acquisition order).
    grid : SearchGrid
        The grid the scores live on.
    k_tolerance : float
        Relative |k| window around the anchor's.
    angle_tolerance_deg : float
        Angle window around each expected orientation.
    candidates : int
        Local maxima per orientation tried as anchors.

    Returns
    -------
    list of Peak
        One per orientation; a weak orientation's peak is the best within its window, whose
        score the caller judges.
    """
    n = len(scores)
    if n == 1:
        peaks = local_peaks(scores[0], grid, 1)
        return peaks or [Peak(0, 0, (0.0, 0.0), 0.0)]
    step = 180.0 / n
    best: tuple[float, list[Peak]] | None = None
    for d, score in enumerate(scores):
        for anchor in local_peaks(score, grid, candidates):
            mag = float(np.hypot(*anchor.k))
            angle = float(np.degrees(np.arctan2(anchor.k[0], anchor.k[1])) % 180.0)
            ring = np.abs(grid.radius - mag) <= k_tolerance * mag + grid.df
            slack = angle_tolerance_deg + float(np.degrees(grid.df / max(mag, 1e-12)))
            slots = [(angle + j * step) % 180.0 for j in range(1, n)]
            others = [e for e in range(n) if e != d]
            windows = [_angle_gap(grid.angle, slot) <= slack for slot in slots]
            table = {
                (e, j): _best_in(scores[e], ring & windows[j], grid)
                for e in others
                for j in range(n - 1)
            }
            for perm in itertools.permutations(range(n - 1)):
                chosen = {e: table[(e, j)] for e, j in zip(others, perm, strict=True)}
                chosen[d] = anchor
                total = sum(float(np.log(max(p.score, 1e-3))) for p in chosen.values())
                if best is None or total > best[0]:
                    best = (total, [chosen[e] for e in range(n)])
    if best is None:
        return [Peak(0, 0, (0.0, 0.0), 0.0)] * n
    return best[1]


def _dtft(
    product: NDArray[np.complexfloating],
    spacing: float,
    ky: NDArray[np.float64],
    kx: NDArray[np.float64],
) -> NDArray[np.complexfloating]:
    # sum_r p(r) exp(-2 pi i k.r) on a small grid of k: two matrix products (chirp-z zoom).
    y = np.arange(product.shape[0]) * spacing
    x = np.arange(product.shape[1]) * spacing
    ey = np.exp(-2j * np.pi * np.outer(ky, y))
    ex = np.exp(-2j * np.pi * np.outer(x, kx))
    result: NDArray[np.complexfloating] = ey @ product @ ex
    return result


def refine_peak(
    product: NDArray[np.complexfloating], spacing: float, k: NDArray[np.float64], df: float
) -> NDArray[np.float64]:
    """Sub-pixel carrier: zoom on |DTFT| of `product` around the coarse peak `k`.

    Steps df/4 (+-1.5 px around the coarse peak) down to df/2500 (final ~0.0005 frequency
    pixel); `spacing` is the product's pixel size (raw / 2).
    """
    center = k.astype(np.float64).copy()
    step = df / 4.0
    offsets = np.arange(-6, 7, dtype=np.float64)
    for _ in range(5):
        ky = center[0] + offsets * step
        kx = center[1] + offsets * step
        mag = np.abs(_dtft(product, spacing, ky, kx))
        iy, ix = np.unravel_index(int(np.argmax(mag)), mag.shape)
        center = np.array([ky[iy], kx[ix]])
        step /= 5.0
    return center
