"""SIM parameter estimation: pattern vector, phase, modulation, with a fit-quality report.

Per orientation (Gustafsson 2000; fairSIM/napari-sim-processor style): separate the bands with
nominal phases, cross-correlate band 0 with band +1 to find the carrier (integer peak, then a
zoomed DTFT of the real-space product for sub-pixel precision), and read the modulation and
global phase from the overlap of the shifted bands. Higher orders are measured against the
order below. A fit that is implausible (peak lost in noise, k far from nominal, modulation out
of range) is replaced by nominal values with a `SIMFitWarning`, never silently used.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from livesr._logger import logger
from livesr.config import OpticsConfig, PatternConfig
from livesr.optics import pattern_k0_per_um, pattern_phases, pattern_wavevectors

from ._bands import (
    RadialOTF,
    fourier_pad,
    frequency_radius,
    phase_ramp,
    remove_leakage,
    separation_matrix,
    shifted_radius,
)
from ._checks import check_stack

__all__ = ["AngleFit", "SIMFitWarning", "SIMParameters", "estimate_parameters"]

FitStatus = Literal["ok", "nominal", "fallback"]


class SIMFitWarning(UserWarning):
    """Parameter estimation was implausible and nominal values were used instead."""


@dataclass(frozen=True)
class AngleFit:
    """Fit-quality report of one orientation.

    Attributes
    ----------
    status : {"ok", "nominal", "fallback"}
        ``"ok"``: estimated values are used; ``"nominal"``: no fit was attempted;
        ``"fallback"``: the fit was rejected (see `message`) and nominal values are used.
    k_estimated : (ky, kx) or None
        Fitted first-order vector in cycles per um (before any fallback).
    k_nominal : (ky, kx)
        Nominal vector from the pattern config, cycles per um.
    k_offset_fraction : float or None
        ``min |k_estimated -+ k_nominal| / |k_nominal|``.
    peak_contrast : float or None
        Carrier peak contrast: the product of two detectors' peak-to-median ratios (|band
        +1 / H| and the band 0 x band +1 cross-correlation); pure noise gives up to ~27.
    modulation_estimated : tuple of float
        Fitted modulation of each order (1, 2, ...).
    message : str
        Why a fit was rejected, empty when ok.
    """

    status: FitStatus
    k_estimated: tuple[float, float] | None
    k_nominal: tuple[float, float]
    k_offset_fraction: float | None
    peak_contrast: float | None
    modulation_estimated: tuple[float, ...]
    message: str = ""


@dataclass(frozen=True)
class SIMParameters:
    """Everything the band separation and recombination need, per orientation.

    Attributes
    ----------
    k_per_um : ndarray, float64, shape (A, 2)
        First-order wave vector ``(ky, kx)`` of each angle in cycles per um; band n sits at
        ``n * k``.
    frame_phases : ndarray, float64, shape (A, P)
        Phase ``theta_p`` of each frame (radians) used in the separation.
    factors : ndarray, complex128, shape (A, n_orders)
        ``a_n = m_n exp(i psi_n)`` of orders 1..n_orders: modulation and global phase.
    pixel_size_um : float
        Raw pixel size.
    shape : (Y, X)
        Raw frame shape the parameters were estimated on.
    fits : tuple of AngleFit
        Fit-quality report, one per angle.
    """

    k_per_um: NDArray[np.float64]
    frame_phases: NDArray[np.float64]
    factors: NDArray[np.complex128]
    pixel_size_um: float
    shape: tuple[int, int]
    fits: tuple[AngleFit, ...] = field(default=())

    @property
    def n_angles(self) -> int:
        """Number of orientations (A)."""
        return int(self.k_per_um.shape[0])

    @property
    def n_phases(self) -> int:
        """Phase steps per orientation (P)."""
        return int(self.frame_phases.shape[1])

    @property
    def n_orders(self) -> int:
        """Highest band order."""
        return int(self.factors.shape[1])

    @property
    def modulation(self) -> NDArray[np.float64]:
        """Modulation depth of each order, shape (A, n_orders)."""
        return np.abs(self.factors)

    @property
    def phase_offsets(self) -> NDArray[np.float64]:
        """Global first-order phase of each angle in radians, shape (A,)."""
        offsets: NDArray[np.float64] = np.angle(
            self.factors[:, 0] * np.exp(1j * self.frame_phases[:, 0])
        )
        return offsets

    @property
    def ok(self) -> bool:
        """True when every angle's fit was accepted."""
        return all(f.status == "ok" for f in self.fits)

    @classmethod
    def nominal(
        cls,
        pattern: PatternConfig,
        optics: OpticsConfig,
        shape: tuple[int, int],
        channel: str | None = None,
    ) -> SIMParameters:
        """Parameters straight from the configs (no fit)."""
        k = pattern_wavevectors(pattern, optics, channel)
        phases = np.tile(pattern_phases(pattern), (pattern.n_angles, 1))
        mods = (pattern.modulation, *pattern.nonlinear_harmonics)
        factors = np.tile(np.asarray(mods, dtype=np.complex128), (pattern.n_angles, 1))
        fits = tuple(
            AngleFit("nominal", None, (float(kk[0]), float(kk[1])), None, None, ()) for kk in k
        )
        return cls(k, phases, factors, optics.pixel_size_um, shape, fits)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SIMParameters:
        """Inverse of `to_dict`: the exact parameters a reconstruction used (e.g. live).

        Raises
        ------
        ValueError
            If `data` lacks a field `to_dict` writes (for example a report from an older
            livesr without exact band factors).
        """
        try:
            angles = data["angles"]
            k = np.array([a["k_per_um"] for a in angles], dtype=np.float64)
            phases = np.array([a["frame_phases_rad"] for a in angles], dtype=np.float64)
            factors = np.array(
                [[complex(re, im) for re, im in a["factors"]] for a in angles],
                dtype=np.complex128,
            )
            fits = tuple(
                AngleFit(
                    a["fit"]["status"],
                    None
                    if a["fit"]["k_estimated_per_um"] is None
                    else tuple(a["fit"]["k_estimated_per_um"]),
                    tuple(a["fit"]["k_nominal_per_um"]),
                    a["fit"]["k_offset_fraction"],
                    a["fit"]["peak_contrast"],
                    tuple(a["fit"]["modulation_estimated"]),
                    a["fit"]["message"],
                )
                for a in angles
                if a.get("fit") is not None
            )
            shape = (int(data["shape"][0]), int(data["shape"][1]))
            return cls(k, phases, factors, float(data["pixel_size_um"]), shape, fits)
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(
                f"not a complete SIM parameter record (missing {exc}); estimate the "
                "parameters again instead"
            ) from exc

    def separation(self, angle: int) -> NDArray[np.complex128]:
        """Band-separation matrix of `angle`, shape (2 n_orders + 1, P), rows (0, 1, -1, ...)."""
        return separation_matrix(self.frame_phases[angle], self.factors[angle])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: k per um and per field, angles, phases, modulation, fit quality."""
        ny, nx = self.shape
        fov = (ny * self.pixel_size_um, nx * self.pixel_size_um)
        angles = []
        for d in range(self.n_angles):
            ky, kx = (float(v) for v in self.k_per_um[d])
            fit = self.fits[d] if d < len(self.fits) else None
            angles.append(
                {
                    "k_per_um": [ky, kx],
                    "k_cycles_per_field": [ky * fov[0], kx * fov[1]],
                    "k_magnitude_per_um": math.hypot(ky, kx),
                    "period_um": 1.0 / max(math.hypot(ky, kx), 1e-12),
                    "angle_deg": math.degrees(math.atan2(ky, kx)),
                    "frame_phases_rad": [float(v) for v in self.frame_phases[d]],
                    "phase_offset_rad": float(self.phase_offsets[d]),
                    "modulation": [float(v) for v in self.modulation[d]],
                    # Exact a_n = m_n exp(i psi_n) of every order, so `from_dict` round-trips.
                    "factors": [[float(f.real), float(f.imag)] for f in self.factors[d]],
                    "fit": None
                    if fit is None
                    else {
                        "status": fit.status,
                        "k_estimated_per_um": None
                        if fit.k_estimated is None
                        else list(fit.k_estimated),
                        "k_nominal_per_um": list(fit.k_nominal),
                        "k_offset_fraction": fit.k_offset_fraction,
                        "peak_contrast": fit.peak_contrast,
                        "modulation_estimated": list(fit.modulation_estimated),
                        "message": fit.message,
                    },
                }
            )
        return {
            "pixel_size_um": self.pixel_size_um,
            "shape": list(self.shape),
            "n_angles": self.n_angles,
            "n_phases": self.n_phases,
            "n_orders": self.n_orders,
            "ok": self.ok,
            "angles": angles,
        }


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


def _refine_peak(
    product: NDArray[np.complexfloating], spacing: float, k: NDArray[np.float64], df: float
) -> NDArray[np.float64]:
    # Zoom on |DTFT| around the coarse peak: steps df/2 (+-3 px, so a coarse peak displaced
    # by clutter is recovered) ... df/1250 (final ~0.001 px).
    center = k.astype(np.float64).copy()
    step = df / 2.0
    offsets = np.arange(-6, 7, dtype=np.float64)
    for _ in range(5):
        ky = center[0] + offsets * step
        kx = center[1] + offsets * step
        mag = np.abs(_dtft(product, spacing, ky, kx))
        iy, ix = np.unravel_index(int(np.argmax(mag)), mag.shape)
        center = np.array([ky[iy], kx[ix]])
        step /= 5.0
    return center


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


def _fit_factors(
    bands: NDArray[np.complexfloating],
    k: NDArray[np.float64],
    otf: RadialOTF,
    pixel_size_um: float,
    n_orders: int,
) -> NDArray[np.complexfloating]:
    # Modulation and phase of each order from the overlap with the order below.
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


def _frame_phases(
    spectra: NDArray[np.complexfloating],
    theta: NDArray[np.float64],
    k: NDArray[np.float64],
    pixel_size_um: float,
    n_orders: int,
    region_radius: float,
) -> NDArray[np.float64]:
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


def estimate_parameters(
    stack: NDArray[np.generic],
    pattern: PatternConfig,
    optics: OpticsConfig,
    *,
    channel: str | None = None,
    otf: RadialOTF | None = None,
    search: Literal["nominal", "free"] = "nominal",
    per_frame_phases: bool = False,
    min_modulation: float = 0.3,
    max_modulation: float = 1.5,
    min_contrast: float | None = None,
    k_tolerance: float = 0.05,
) -> SIMParameters:
    """Estimate pattern vector, phases and modulation of every orientation.

    Parameters
    ----------
    stack : ndarray, shape (F, Y, X) or (N, F, Y, X)
        Raw frames (counts, any real dtype), angle-major. Several stacks are averaged first,
        which helps at low signal.
    pattern, optics : PatternConfig, OpticsConfig
        Nominal pattern (angles, phases, frequency, modulation, orders) and optics.
    channel : str, optional
        Optics channel (emission wavelength); the first when None.
    otf : RadialOTF, optional
        Detection OTF; the ideal OTF of `optics` when None.
    search : {"nominal", "free"}
        ``"nominal"``: look for the carrier within 10 % of +-k_nominal and reject fits more
        than `k_tolerance` away; ``"free"``: search the annulus 0.25-1.0 x cutoff (for data
        whose pattern frequency or orientation is unknown).
    per_frame_phases : bool
        Fit each frame's phase (projection onto band +1 near its carrier) instead of assuming
        equidistant steps.
    min_modulation, max_modulation : float
        Accepted first-order modulation range; outside it nominal values are used.
    min_contrast : float, optional
        Minimum peak contrast (product of the two detectors' peak-to-median ratios) for a
        carrier to count as found; None = 25 for ``"nominal"``, 30 for ``"free"`` (pure
        noise reaches about 20 and 27).
    k_tolerance : float
        Maximum relative distance from the nominal k (search="nominal").

    Returns
    -------
    SIMParameters
        With a fit report per angle; rejected angles fall back to nominal values and emit a
        `SIMFitWarning`.

    Raises
    ------
    ValueError
        If the frame count does not match the pattern, or frames are NaN or empty.
    """
    data = check_stack(stack, pattern, "estimate_parameters")
    if min_contrast is None:
        min_contrast = 25.0 if search == "nominal" else 30.0
    if data.ndim == 4:
        data = data.mean(axis=0)
    ny, nx = data.shape[-2:]
    px = optics.pixel_size_um
    otf = otf or RadialOTF.from_optics(optics, channel)
    kc = otf.cutoff_per_um
    nominal = SIMParameters.nominal(pattern, optics, (ny, nx), channel)
    k0 = pattern_k0_per_um(pattern, optics, channel)
    shape2 = (2 * ny, 2 * nx)
    px2 = px / 2.0
    df = 1.0 / (max(ny, nx) * px)  # frequency pixel (the coarser axis for non-square frames)
    r_small = frequency_radius((ny, nx), px)
    otf_small = otf(r_small)
    support = otf_small > 1e-3
    leak_region = support & (r_small > 0)
    # OTF compensation (Wiener-damped 1/H): the carrier sits where H is small when k is near
    # the cutoff; without it, specimen structure at low frequencies outweighs the carrier.
    compensate = otf_small / (otf_small**2 + 0.05**2)
    notch = 1.0 - 0.99 * np.exp(-(r_small**2) / (2.0 * (0.15 * kc / 2.355) ** 2))
    fy2 = np.fft.fftfreq(shape2[0], d=px2)[:, None]
    fx2 = np.fft.fftfreq(shape2[1], d=px2)[None, :]
    r2 = np.hypot(fy2, fx2)
    n_orders = pattern.n_orders
    frames = data.reshape(pattern.n_angles, pattern.n_phases, ny, nx)

    k_out = nominal.k_per_um.copy()
    phases_out = nominal.frame_phases.copy()
    factors_out = nominal.factors.copy()
    fits: list[AngleFit] = []
    for d in range(pattern.n_angles):
        k_nom = nominal.k_per_um[d]
        spectra = np.fft.fft2(frames[d])
        unit = separation_matrix(nominal.frame_phases[d], np.ones(n_orders))
        bands = np.einsum("bp,pyx->byx", unit, spectra)
        bands[1:] = remove_leakage(bands[1:], bands[0], leak_region)
        # Coarse carrier: band +1 holds the specimen's DC (its strongest component) at +k, so
        # |band +1 / H| peaks there. (The band 0 x band +1 cross-correlation is dominated by
        # chance overlaps at small shifts when k is near the cutoff, where the bands overlap
        # little; it is used below only to refine the peak.)
        c0 = np.fft.ifft2(fourier_pad(bands[0] * notch * support, 2))
        c1 = np.fft.ifft2(fourier_pad(bands[1] * notch * support, 2))
        product = np.conj(c0) * c1
        annulus = (r2 > 0.25 * kc) & (r2 < 1.0 * kc)
        # Two detectors with different clutter: |band +1 / H| (the specimen's DC sits at +k)
        # and the band 0 x band +1 cross-correlation; each normalised by its median over the
        # annulus, their product peaks only where both agree.
        peak_map = np.abs(fourier_pad(bands[1] * compensate, 2))
        xcorr = np.abs(np.fft.fft2(product))
        cc = (peak_map / max(float(np.median(peak_map[annulus])), 1e-30)) * (
            xcorr / max(float(np.median(xcorr[annulus])), 1e-30)
        )
        if search == "free":
            region = annulus
        else:
            radius = max(0.1 * k0, 2.5 * df)
            region = (np.hypot(fy2 - k_nom[0], fx2 - k_nom[1]) < radius) | (
                np.hypot(fy2 + k_nom[0], fx2 + k_nom[1]) < radius
            )
        masked = np.where(region, cc, 0.0)
        iy, ix = np.unravel_index(int(np.argmax(masked)), masked.shape)
        # Contrast against the whole annulus where a carrier could be, not the (small)
        # nominal window, whose median is dominated by the peak's own shoulders.
        contrast = float(cc[iy, ix] / max(float(np.median(cc[annulus])), 1e-30))
        k_int = np.array([fy2[iy, 0], fx2[0, ix]])

        k_fit = _refine_peak(product, px2, k_int, df)
        if per_frame_phases:
            theta = _frame_phases(
                spectra,
                nominal.frame_phases[d],
                k_fit,
                px,
                n_orders,
                0.5 * float(np.hypot(*k_fit)),
            )
            unit = separation_matrix(theta, np.ones(n_orders))
            bands = np.einsum("bp,pyx->byx", unit, spectra)
            bands[1:] = remove_leakage(bands[1:], bands[0], leak_region)
        else:
            theta = nominal.frame_phases[d]
        factors = _fit_factors(bands, k_fit, otf, px, n_orders)
        mods = tuple(float(v) for v in np.abs(factors))
        offset = float(min(np.hypot(*(k_fit - k_nom)), np.hypot(*(k_fit + k_nom))) / k0)
        problems = []
        if contrast < min_contrast:
            problems.append(
                f"no clear carrier peak (contrast {contrast:.1f} < {min_contrast}): signal too "
                "low or the data are not SIM frames in angle-major order"
            )
        if search == "nominal" and offset > k_tolerance:
            problems.append(
                f"k is {100 * offset:.1f} % from nominal (tolerance {100 * k_tolerance:.0f} %): "
                "check the pattern frequency/angles, or use search='free'"
            )
        if not np.all(np.isfinite(factors)) or not min_modulation <= mods[0] <= max_modulation:
            problems.append(
                f"modulation {mods[0]:.2f} outside [{min_modulation}, {max_modulation}]"
            )
        fit = AngleFit(
            "ok" if not problems else "fallback",
            (float(k_fit[0]), float(k_fit[1])),
            (float(k_nom[0]), float(k_nom[1])),
            offset,
            contrast,
            mods,
            "; ".join(problems),
        )
        fits.append(fit)
        if problems:
            message = f"angle {d}: SIM fit rejected, using nominal parameters: {fit.message}"
            logger.info(message)
            warnings.warn(message, SIMFitWarning, stacklevel=2)
            continue
        k_out[d] = k_fit
        phases_out[d] = theta
        factors_out[d] = factors
    return SIMParameters(k_out, phases_out, factors_out, px, (ny, nx), tuple(fits))
