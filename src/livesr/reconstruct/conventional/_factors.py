"""Modulation, global phase and per-frame phases of one orientation at a known carrier."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._bands import (
    RadialOTF,
    fourier_pad,
    frequency_radius,
    phase_ramp,
    separation_matrix,
    shifted_radius,
)

__all__ = ["fit_factors", "fit_frame_phases"]


def _shift_band(
    band: NDArray[np.complexfloating], k: NDArray[np.float64], pixel_size_um: float
) -> NDArray[np.complexfloating]:
    # Band on the 2x grid moved by -k: result(q) = band(q + k), exact for sub-pixel k.
    spatial = np.fft.ifft2(band) * phase_ramp(band.shape, pixel_size_um / 2.0, k)
    shifted: NDArray[np.complexfloating] = np.fft.fft2(spatial)
    return shifted


def _overlap_ratio(
    low: NDArray[np.complexfloating],
    high: NDArray[np.complexfloating],
    otf_low: NDArray[np.float64],
    otf_high: NDArray[np.float64],
    region: NDArray[np.bool_],
) -> complex:
    # low = a_lo H_lo S, high = a_hi H_hi S on the overlap -> a_lo conj(a_hi) / |a_lo|^2.
    num = np.sum((low * otf_high * np.conj(high * otf_low))[region])
    den = np.sum((np.abs(low * otf_high) ** 2)[region])
    if den <= 0:
        return complex("nan")
    return complex(num / den)


def fit_factors(
    bands: NDArray[np.complexfloating],
    k: NDArray[np.float64],
    otf: RadialOTF,
    pixel_size_um: float,
    n_orders: int,
) -> NDArray[np.complexfloating]:
    """``a_n = m_n e^{i psi_n}`` of each order n = 1..n_orders, shape (n_orders,).

    Measured from the overlap of the shifted band n with band n - 1 (fairSIM ``getPeak``),
    where both OTFs exceed 0.05 and away from both band centres.
    """
    shape2 = (2 * bands.shape[-2], 2 * bands.shape[-1])
    px2 = pixel_size_um / 2.0
    kmag = float(np.hypot(*k))
    shifted = [fourier_pad(bands[0], 2)]
    otfs = [otf(frequency_radius(shape2, px2))]
    radii = [frequency_radius(shape2, px2)]
    factors = np.zeros(n_orders, dtype=np.complex128)
    previous = 1.0 + 0j
    for n in range(1, n_orders + 1):
        shifted.append(_shift_band(fourier_pad(bands[2 * n - 1], 2), n * k, pixel_size_um))
        r = shifted_radius(shape2, px2, n * k)
        radii.append(r)
        otfs.append(otf(r))
        region = (
            (otfs[n - 1] > 0.05)
            & (otfs[n] > 0.05)
            & (radii[n - 1] > 0.15 * kmag)
            & (radii[n] > 0.15 * kmag)
        )
        ratio = _overlap_ratio(shifted[n - 1], shifted[n], otfs[n - 1], otfs[n], region)
        previous = previous * np.conj(ratio) if np.isfinite(ratio) else complex("nan")
        factors[n - 1] = previous
    return factors


def fit_frame_phases(
    spectra: NDArray[np.complexfloating],
    theta: NDArray[np.float64],
    k: NDArray[np.float64],
    pixel_size_um: float,
    n_orders: int,
    region_radius: float,
) -> NDArray[np.float64]:
    """Phase of each frame (radians, first frame = 0), shape (P,).

    Projection onto band +1 near its carrier, iterated with re-separation.
    """
    # Per-frame phases by projection: near +k only band +1 (and band 0's tail) lives, so
    # arg <D_p - C_0, C_1> over a disc around +k is frame p's phase relative to the band's
    # global phase. Re-separating with the new phases and repeating converges in a few steps.
    # (Wicker's autocorrelation estimate is biased by band 0's own autocorrelation at k.)
    ny, nx = spectra.shape[-2:]
    fy = np.fft.fftfreq(ny, d=pixel_size_um)[:, None]
    fx = np.fft.fftfreq(nx, d=pixel_size_um)[None, :]
    disc = np.hypot(fy - k[0], fx - k[1]) < region_radius
    theta = np.asarray(theta, dtype=np.float64).copy()
    for _ in range(3):
        sep = separation_matrix(theta, np.ones(n_orders))
        band0 = np.tensordot(sep[0], spectra, axes=1)
        band1 = np.tensordot(sep[1], spectra, axes=1)
        residual = spectra[:, disc] - band0[disc]
        projection = residual @ np.conj(band1[disc])
        theta = np.angle(projection)
    # Keep the first frame's phase as the reference (global phase goes into the factors).
    phases: NDArray[np.float64] = np.angle(np.exp(1j * (theta - theta[0])))
    return phases
