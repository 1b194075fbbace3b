"""Fourier ring correlation between two independent images of the same scene.

``FRC(q) = Re sum_ring F1 conj(F2) / sqrt(sum_ring |F1|^2 sum_ring |F2|^2)``; the resolution
is ``1 / q`` where the curve first falls below the threshold: the fixed 1/7 or the half-bit
curve (van Heel & Schatz 2005). Both images are windowed (Tukey, 1/8 taper) first. Pure
numpy, thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal.windows import tukey

__all__ = ["FRCResult", "frc"]


@dataclass(frozen=True)
class FRCResult:
    """An FRC curve and its resolution at two thresholds.

    Attributes
    ----------
    frequencies : ndarray, float64, shape (n,)
        Ring centres in cycles per unit of `pixel_size`.
    curve : ndarray, float64, shape (n,)
        FRC per ring.
    half_bit : ndarray, float64, shape (n,)
        Half-bit threshold per ring.
    resolution_half_bit, resolution_one_seventh : float
        ``1 / q`` at the first crossing, in the unit of `pixel_size` (inf if never crossed:
        the images correlate up to Nyquist).
    """

    frequencies: NDArray[np.float64]
    curve: NDArray[np.float64]
    half_bit: NDArray[np.float64]
    resolution_half_bit: float
    resolution_one_seventh: float


def _crossing(
    freq: NDArray[np.float64], curve: NDArray[np.float64], thr: NDArray[np.float64]
) -> float:
    below = np.nonzero(curve[1:] < thr[1:])[0]
    if below.size == 0:
        return float("inf")
    i = int(below[0]) + 1
    # Linear interpolation between the last ring above and the first below.
    d0 = curve[i - 1] - thr[i - 1]
    d1 = curve[i] - thr[i]
    t = d0 / (d0 - d1) if d0 != d1 else 0.0
    q = freq[i - 1] + t * (freq[i] - freq[i - 1])
    return float(1.0 / q) if q > 0 else float("inf")


def frc(
    image1: NDArray[np.generic], image2: NDArray[np.generic], pixel_size: float = 1.0
) -> FRCResult:
    """Fourier ring correlation of two images with independent noise.

    Parameters
    ----------
    image1, image2 : ndarray, shape (Y, X)
        Two reconstructions of the same scene from independent noise (two acquisitions, two
        simulated noise realisations, or a binomial split of the photon counts).
    pixel_size : float
        Pixel size in the unit wanted for the resolution (nm for nm).

    Returns
    -------
    FRCResult
    """
    a = np.asarray(image1, dtype=np.float64)
    b = np.asarray(image2, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"FRC needs two 2D images of one shape, got {a.shape} and {b.shape}")
    window = np.outer(tukey(a.shape[0], 0.125), tukey(a.shape[1], 0.125))
    fa = np.fft.fft2((a - a.mean()) * window)
    fb = np.fft.fft2((b - b.mean()) * window)
    fy = np.fft.fftfreq(a.shape[0])
    fx = np.fft.fftfreq(a.shape[1])
    radius = np.hypot(fy[:, None], fx[None, :])
    step = 1.0 / min(a.shape)
    rings = np.rint(radius / step).astype(np.int64).ravel()
    n_rings = int(0.5 / step) + 1
    keep = rings < n_rings
    rings = rings[keep]

    def ring_sum(values: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = np.asarray(
            np.bincount(rings, values.ravel()[keep], minlength=n_rings), dtype=np.float64
        )
        return out

    num = ring_sum(np.real(fa * np.conj(fb)))
    den = np.sqrt(ring_sum(np.abs(fa) ** 2) * ring_sum(np.abs(fb) ** 2))
    # Rings without signal in either image (beyond a reconstruction's band limit) carry only
    # window leakage, identical in both images; they hold no information, so FRC = 0 there.
    power = np.minimum(ring_sum(np.abs(fa) ** 2), ring_sum(np.abs(fb) ** 2))
    empty = power <= 1e-6 * power[1:].max()
    curve = np.where(~empty & (den > 0), num / np.where(den > 0, den, 1.0), 0.0)
    count = np.maximum(np.bincount(rings, minlength=n_rings), 1)
    sq = np.sqrt(count)
    half_bit = (0.2071 + 1.9102 / sq) / (1.2071 + 0.9102 / sq)
    freq = np.arange(n_rings) * step / pixel_size
    seventh = np.full(n_rings, 1.0 / 7.0)
    return FRCResult(
        freq, curve, half_bit, _crossing(freq, curve, half_bit), _crossing(freq, curve, seventh)
    )
