"""Wiener SIM filters: everything that depends only on the parameters and the frame size.

Filter (Gustafsson 2000; fairSIM defaults), on the output grid, with ``q_n = f - n k_d``:

``S_SR(f) = A(f) sum_{d,n} m_n H'(q_n) C_{d,n}(q_n) / (sum_{d,n} m_n^2 H'(q_n) H(q_n) + w^2)``

- **OTF attenuation** ``H'(q) = H(q) (1 - s exp(-|q|^2 / 2 sigma^2))`` (``attenuation`` = s,
  ``attenuation_fwhm`` = 2.355 sigma as a fraction of the cutoff; fairSIM s = 0.99, FWHM
  1.2/um): each band's own centre, where out-of-focus light and the leaked wide-field sit, is
  down-weighted. Off (s = 0) by default: TIRF/thin samples do not need it.
- **Apodisation** ``A(f) = H_ideal(|f| / (c (kc + n_max |k|)))^b`` (``apodization_cutoff`` c,
  ``apodization_bend`` b; fairSIM c = 1 relative to the extended support, b = 0.9): rolls the
  result off to zero at the edge of the extended OTF support, so the Wiener division does not
  leave a hard edge (ringing) there.
- **Wiener parameter** w: measured for every stack (`stack_wiener`) from that stack's own
  noise floor and signal power, unless fixed by the caller; the filter is rebuilt only when w
  moves by more than 3 %.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from livesr.optics import ideal_otf_radial

from ._bands import RadialOTF, frequency_radius, separation_matrix
from ._params import SIMParameters

__all__ = ["WienerFilters", "auto_wiener_parameter", "build_filters", "stack_wiener"]


def auto_wiener_parameter(
    spectra: NDArray[np.complexfloating],
    otf_small: NDArray[np.float64],
    radius: NDArray[np.float64],
    cutoff: float,
) -> float:
    """Wiener parameter from the measured noise-to-signal ratio of the raw spectra.

    The noise floor is the median power just beyond the OTF support (only noise lives there),
    the signal the mean power at 0.2-0.5 x cutoff minus that floor; with
    ``r = sqrt(noise / signal)``, ``w = 0.05 + 1.5 r`` clipped to [0.03, 1.5]. The rule was
    fitted on simulated linear SIM (microtubules, CCPs, ER, F-actin, signal levels 1-9) as a
    compromise between the NRMSE-optimal w (about 0.15 at high signal, 0.5 at level 1) and the
    decorrelation resolution, which prefers small w (about 0.1 at high signal).

    Parameters
    ----------
    spectra : ndarray, complex, shape (F, Y, X)
        FFTs of the raw frames.
    otf_small : ndarray, float, shape (Y, X)
        OTF on the same grid.
    radius : ndarray, float, shape (Y, X)
        |f| on the same grid, cycles per um.
    cutoff : float
        OTF cutoff, cycles per um.
    """
    power = np.mean(np.abs(spectra) ** 2, axis=0)
    # Just beyond the support: the far corners can be empty of noise too (interpolated data).
    outside = (radius > 1.05 * cutoff) & (radius < 1.5 * cutoff) & (otf_small == 0)
    if not outside.any():
        return 0.2
    noise = float(np.median(power[outside]))
    ring = (radius > 0.2 * cutoff) & (radius < 0.5 * cutoff)
    signal = float(np.mean(power[ring])) - noise
    if signal <= 0:
        return 1.5
    return float(np.clip(0.05 + 1.5 * np.sqrt(noise / signal), 0.03, 1.5))


@dataclass
class WienerFilters:
    shape: tuple[int, int]
    weights: NDArray[np.float32]  # (Y, X) OTF x attenuation applied to every band
    band0: NDArray[np.complex64]  # (F,) weights of frames into the sum of order-0 bands
    orders: NDArray[np.complex64]  # (A * n_orders, F) weights of frames into bands +n
    ramps: NDArray[np.complex64]  # (A * n_orders, wY, wX) on the work grid
    filter: NDArray[np.complex64]  # (wY, wX // 2 + 1) s^2 A / (den + w^2) x sub-pixel shift
    numerator: NDArray[np.complex64]  # (wY, wX // 2 + 1) s^2 A x sub-pixel shift
    denominator: NDArray[np.float32]  # (wY, wX // 2 + 1) sum of m^2 H' H
    noise_idx: NDArray[np.intp]  # flat rfft indices beyond the support (noise floor)
    signal_idx: NDArray[np.intp]  # flat rfft indices at 0.2-0.5 cutoff (signal power)
    wiener: float
    wide: NDArray[np.complex64]  # (A * n_orders, Y, wX) work buffer, zero padding kept
    tall: NDArray[np.complex64]  # (A * n_orders, wY, wX) work buffer, zero padding kept
    out: NDArray[np.complex64]  # (sY, sX // 2 + 1) SR half spectrum, zero padding kept
    unit: NDArray[np.float32] | None = None  # (sY, sX) response to frames of all ones


def _subsample(mask: NDArray[np.bool_], limit: int = 20000) -> NDArray[np.intp]:
    idx = np.flatnonzero(mask)
    step = max(1, idx.size // limit)
    out: NDArray[np.intp] = idx[::step]
    return out


def stack_wiener(spectra: NDArray[np.complexfloating], filters: WienerFilters) -> float:
    """`auto_wiener_parameter`'s rule on one stack's half-plane spectra (F, Y, X//2+1).

    Uses subsampled index sets fixed at build time, so it costs well under a millisecond.
    """
    flat = spectra.reshape(spectra.shape[0], -1)
    if filters.noise_idx.size == 0:
        return 0.2
    noise = float(np.median(np.mean(np.abs(flat[:, filters.noise_idx]) ** 2, axis=0)))
    signal = float(np.mean(np.abs(flat[:, filters.signal_idx]) ** 2)) - noise
    if signal <= 0:
        return 1.5
    return float(np.clip(0.05 + 1.5 * np.sqrt(noise / signal), 0.03, 1.5))


def set_wiener(filters: WienerFilters, wiener: float) -> None:
    """Rebuild the filter for another w when it moved by more than 3 %."""
    if abs(wiener - filters.wiener) <= 0.03 * filters.wiener:
        return
    filters.filter[...] = filters.numerator / (filters.denominator + np.float32(wiener**2))
    filters.wiener = float(wiener)


def build_filters(
    params: SIMParameters,
    otf: RadialOTF,
    shape: tuple[int, int],
    *,
    scale: int,
    wiener: float,
    attenuation: float,
    attenuation_fwhm: float,
    apodization_cutoff: float,
    apodization_bend: float,
) -> WienerFilters:
    """The cached filters for frames of `shape` (see the module docstring for the maths)."""
    s = scale
    px = params.pixel_size_um
    kc = otf.cutoff_per_um
    sigma = attenuation_fwhm * kc / 2.355

    def weight(radius: NDArray[np.float64]) -> NDArray[np.float64]:
        h = otf(radius)
        if attenuation > 0:
            h = h * (1.0 - attenuation * np.exp(-(radius**2) / (2 * sigma**2)))
        return h

    r_small = frequency_radius(shape, px)
    otf_small = otf(r_small)
    half = (slice(None), slice(0, shape[1] // 2 + 1))
    outside = (r_small > 1.05 * kc) & (r_small < 1.5 * kc) & (otf_small == 0)
    ring = (r_small > 0.2 * kc) & (r_small < 0.5 * kc)
    k0 = float(np.mean(np.hypot(*params.k_per_um.T)))
    apo_radius = apodization_cutoff * (kc + params.n_orders * k0)
    work, spacing = _work_grid(params, shape, scale, max_frequency=apo_radius, cutoff=kc)
    # Half-plane of the work grid: rfft2 layout (wY, wX // 2 + 1).
    fy = np.fft.fftfreq(work[0], d=spacing[0])[:, None]
    fx = np.fft.rfftfreq(work[1], d=spacing[1])[None, :]
    band0, orders, ramps, denominator = _bands(params, work, spacing, (fy, fx), weight, otf)
    apodization = ideal_otf_radial(np.hypot(fy, fx) / apo_radius) ** apodization_bend
    # SR pixels subdivide raw pixels (as the ground truth and pixel-shuffle networks do):
    # SR pixel [0, 0] is centred (s - 1) / (2 s) raw pixels before raw pixel [0, 0]'s
    # centre, so the output is resampled by that sub-pixel shift in the same filter.
    delta = (s - 1) * px / (2 * s)
    shift = np.exp(-2j * np.pi * (fy + fx) * delta)
    numerator = (s * s) * apodization * shift
    return WienerFilters(
        shape=shape,
        weights=weight(r_small)[half].astype(np.float32),
        band0=band0.astype(np.complex64),
        orders=orders.astype(np.complex64),
        ramps=ramps,
        filter=(numerator / (denominator + wiener**2)).astype(np.complex64),
        numerator=numerator.astype(np.complex64),
        denominator=denominator.astype(np.float32),
        noise_idx=_subsample(outside[half]),
        signal_idx=_subsample(ring[half]),
        wiener=float(wiener),
        wide=np.zeros((len(orders), shape[0], work[1]), dtype=np.complex64),
        tall=np.zeros((len(orders), *work), dtype=np.complex64),
        out=np.zeros((s * shape[0], s * shape[1] // 2 + 1), dtype=np.complex64),
    )


def _work_grid(
    params: SIMParameters,
    shape: tuple[int, int],
    scale: int,
    *,
    max_frequency: float,
    cutoff: float,
) -> tuple[tuple[int, int], tuple[float, float]]:
    """The grid the shifted bands and the filter are computed on: (shape, pixel size in um).

    They only need a Nyquist above the apodised support (kc + n k0), usually well below the
    SR grid's, so they are computed on a smaller FFT-friendly grid (never below the raw grid,
    which holds the bands) and zero-padded onto the SR grid at the end.
    """
    px = params.pixel_size_um
    fmax = max(
        max_frequency, cutoff + params.n_orders * float(np.max(np.hypot(*params.k_per_um.T)))
    )
    wy, wx = (
        min(scale * n, max(n, scipy.fft.next_fast_len(int(np.ceil(2 * n * px * fmax * 1.03)) + 2)))
        for n in shape
    )
    return (wy, wx), (shape[0] * px / wy, shape[1] * px / wx)


def _bands(
    params: SIMParameters,
    work: tuple[int, int],
    spacing: tuple[float, float],
    freqs: tuple[NDArray[np.floating], NDArray[np.floating]],
    weight: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    otf: RadialOTF,
) -> tuple[
    NDArray[np.complex128], NDArray[np.complex128], NDArray[np.complex64], NDArray[np.float64]
]:
    """Frame weights into bands, the bands' sub-pixel ramps, and the Wiener denominator.

    Returns
    -------
    band0 : ndarray, complex128, shape (F,)
        Weights of the frames into the sum of all orientations' order-0 bands.
    orders : ndarray, complex128, shape (A * n_orders, F)
        Weights of the frames into each orientation's band +n (times its modulation).
    ramps : ndarray, complex64, shape (A * n_orders, wY, wX)
        exp(-2 pi i n k.r) on the work grid: moves band +n to its place.
    denominator : ndarray, float64, shape (wY, wX // 2 + 1)
        sum over orientations and orders of m_n^2 H'(q_n) H(q_n) on the half plane.
    """
    fy, fx = freqs
    n_orders, p = params.n_orders, params.n_phases
    band0 = np.zeros(params.n_angles * p, dtype=np.complex128)
    orders = np.zeros((params.n_angles * n_orders, params.n_angles * p), dtype=np.complex128)
    ramps = np.empty((params.n_angles * n_orders, *work), dtype=np.complex64)
    denominator = np.zeros((work[0], fx.shape[1]))
    for d in range(params.n_angles):
        # Separate with the fitted phases but unit modulation, so band n carries m_n H:
        # its Wiener weight is m_n H and its denominator term m_n^2 |H|^2. A weak order
        # (low m, e.g. the second order of 3-beam data at low light) is then down-weighted
        # instead of being divided by a small, noisy m and amplifying noise.
        mods = np.abs(params.factors[d])
        sep = separation_matrix(params.frame_phases[d], np.exp(1j * np.angle(params.factors[d])))
        band0[d * p : (d + 1) * p] = sep[0]
        k = params.k_per_um[d]
        denominator += weight(np.hypot(fy, fx)) * otf(np.hypot(fy, fx))
        for n in range(1, n_orders + 1):
            row = d * n_orders + n - 1
            orders[row, d * p : (d + 1) * p] = mods[n - 1] * sep[2 * n - 1]
            ry = np.exp(-2j * np.pi * n * k[0] * np.arange(work[0]) * spacing[0])
            rx = np.exp(-2j * np.pi * n * k[1] * np.arange(work[1]) * spacing[1])
            ramps[row] = np.outer(ry, rx).astype(np.complex64)
            for sign in (1, -1):
                r = np.hypot(fy + sign * n * k[0], fx + sign * n * k[1])
                denominator += mods[n - 1] ** 2 * weight(r) * otf(r)
    return band0, orders, ramps, denominator
