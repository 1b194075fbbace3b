"""SIM parameter estimation: carrier, phases, modulation, with a fit report per orientation.

Order of work (fairSIM / HiFi-SIM / rDL-SIM, see the reference notes): camera offset and hot
pixels out of the frames (`prepare_frames`); per orientation, bands separated with nominal
phases; the OTF-weighted band cross-correlation scored as peak over ring median
(`score_map`); a carrier consistent across orientations (`consensus_peaks`) or near a prior
(calibration or nominal pattern); sub-pixel refinement; modulation and global phase from the
band overlap, optionally per-frame phases. A rejected orientation is never used: it falls back
to the calibration (status ``"calibration"``), to the nominal pattern only when the caller
allows it (``"nominal"``), or raises `SIMFitError`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from livesr._logger import logger
from livesr.config import OpticsConfig, PatternConfig

from ._bands import RadialOTF, frequency_radius, remove_leakage, separation_matrix
from ._camera import prepare_frames
from ._checks import check_stack
from ._factors import fit_factors, fit_frame_phases
from ._params import AngleFit, SIMFitError, SIMFitWarning, SIMParameters
from ._search import Peak, SearchGrid, consensus_peaks, refine_peak, score_map

__all__ = ["estimate_parameters"]

Search = Literal["free", "nominal", "calibration"]
#: Minimum confidence (peak over ring median) per search mode. In a free search only the
#: anchor is taken from the whole annulus (noise maximum ~4, hence `MIN_ANCHOR`); the other
#: orientations are read in small consensus windows (noise maximum ~2.5-3).
MIN_CONFIDENCE = {"free": 3.5, "nominal": 4.0, "calibration": 4.0}
#: In a free search the best orientation must stand out clearly: it anchors the others.
MIN_ANCHOR = 6.0


def _windows(
    grid: SearchGrid, centres: NDArray[np.float64], radius: float
) -> list[NDArray[np.bool_]]:
    # Discs around +k and -k of each prior (the nominal sign convention may differ).
    out = []
    for k in centres:
        near = np.hypot(grid.fy - k[0], grid.fx - k[1]) < radius
        out.append(near | (np.hypot(grid.fy + k[0], grid.fx + k[1]) < radius))
    return out


def _orientation_geometry(k: NDArray[np.float64]) -> tuple[float, float]:
    return float(np.hypot(*k)), float(np.degrees(np.arctan2(k[0], k[1])) % 180.0)


def _consistency(
    ks: list[NDArray[np.float64]],
    confidence: list[float],
    k_tolerance: float,
    angle_tolerance: float,
) -> list[str]:
    """Per orientation, why its refined carrier disagrees with the others ("" = agrees)."""
    n = len(ks)
    if n < 2:
        return [""] * n
    mags = [_orientation_geometry(k)[0] for k in ks]
    ref_mag = float(np.median(mags))
    ref = _orientation_geometry(ks[int(np.argmax(confidence))])[1]
    step = 180.0 / n
    out = []
    for k, mag in zip(ks, mags, strict=True):
        angle = _orientation_geometry(k)[1]
        gap = min(abs((angle - ref - j * step + 90.0) % 180.0 - 90.0) for j in range(n))
        problems = []
        if abs(mag - ref_mag) > k_tolerance * ref_mag:
            problems.append(
                f"|k| {mag:.3f}/um differs from the other orientations' {ref_mag:.3f}/um by more "
                f"than {100 * k_tolerance:.0f} %"
            )
        if gap > angle_tolerance:
            problems.append(f"angle {angle:.1f} deg is {gap:.1f} deg off the {step:.0f}-deg grid")
        out.append("; ".join(problems))
    return out


def _fallback(
    d: int,
    fit: AngleFit,
    prior: SIMParameters | None,
    allow_nominal: bool,
) -> AngleFit:
    if prior is not None:
        status: Literal["calibration", "nominal"] = "calibration"
        what = "the calibration"
    elif allow_nominal:
        status, what = "nominal", "the nominal pattern (--allow-nominal)"
    else:
        score = "n/a" if fit.confidence is None else f"{fit.confidence:.1f}"
        raise SIMFitError(
            f"orientation {d}: carrier fit rejected (confidence {score}): {fit.message}. Fix: "
            "pass --calibration CAL.yaml (from `livesr calibrate` on a bright acquisition), "
            "or --k0/--angle-offset with the instrument's pattern, or --allow-nominal"
        )
    message = f"orientation {d}: SIM fit rejected, using {what}: {fit.message}"
    logger.warning(message)
    warnings.warn(message, SIMFitWarning, stacklevel=3)
    return replace(fit, status=status)


def estimate_parameters(
    stack: NDArray[np.generic],
    pattern: PatternConfig,
    optics: OpticsConfig,
    *,
    channel: str | None = None,
    otf: RadialOTF | None = None,
    search: Search | None = None,
    prior: SIMParameters | None = None,
    allow_nominal: bool = False,
    per_frame_phases: bool = False,
    k_range: tuple[float, float] | None = None,
    min_modulation: float = 0.2,
    max_modulation: float = 1.5,
    min_confidence: float | None = None,
    k_tolerance: float = 0.02,
    camera_offset: float | None = None,
    camera_gain: float | None = None,
) -> SIMParameters:
    """Estimate pattern vector, phases and modulation of every orientation.

    Parameters
    ----------
    stack : ndarray, shape (F, Y, X) or (N, F, Y, X)
        Raw frames (camera counts, any real dtype), angle-major. Several stacks of one
        acquisition (a time series has one pattern) are pooled: averaged before the search.
    pattern, optics : PatternConfig, OpticsConfig
        Angles, phases and orders; nominal frequency/angles only for ``search="nominal"`` or
        ``allow_nominal``.
    channel : str, optional
        Optics channel (emission wavelength); the first when None.
    otf : RadialOTF, optional
        Detection OTF; the ideal OTF of `optics` when None.
    search : {"free", "nominal", "calibration"}, optional
        ``"free"``: consensus search over the annulus `k_range`; ``"nominal"``: within 5 % of
        the pattern's k (``--k0/--angle-offset``); ``"calibration"``: within 1 % of `prior`'s
        k (only phases and modulation drift). Default: "calibration" with a prior, else "free".
    prior : SIMParameters, optional
        A calibration: constrains k and replaces any rejected orientation.
    allow_nominal : bool
        Without a prior, replace a rejected orientation by the nominal pattern instead of
        raising `SIMFitError`.
    per_frame_phases : bool
        Fit each frame's phase instead of assuming equidistant steps.
    k_range : (float, float), optional
        Free-search annulus as fractions of the cutoff; (0.6, 1.1) for linear SIM (carriers at
        0.75-1.0 of the cutoff), (0.3, 1.1) with higher orders (3-beam data put k1 near 0.5).
    min_modulation, max_modulation : float
        A fitted first-order modulation below `min_modulation` (but above 0.05, the noise
        floor) is raised to it and noted; one outside [0.05, `max_modulation`] is rejected.
    min_confidence : float, optional
        Minimum peak-over-ring-median score; `MIN_CONFIDENCE` of the mode when None.
    k_tolerance : float
        Relative |k| spread allowed across orientations (and from a nominal k, x2.5).
    camera_offset, camera_gain : float, optional
        Camera offset (ADU; estimated when None) and gain (e-/ADU).

    Returns
    -------
    SIMParameters
        With a fit report per angle (status ``"ok"``, ``"calibration"`` or ``"nominal"``);
        every non-"ok" angle also emitted a `SIMFitWarning`.

    Raises
    ------
    SIMFitError
        If an orientation is rejected and neither a prior nor `allow_nominal` replaces it.
    ValueError
        If the frame count does not match the pattern, or frames are NaN or empty.
    """
    data = check_stack(stack, pattern, "estimate_parameters")
    if data.ndim == 4:
        data = data.mean(axis=0)
    data, _ = prepare_frames(data, offset=camera_offset, gain=camera_gain)
    mode: Search = search or ("calibration" if prior is not None else "free")
    if mode == "calibration" and prior is None:
        raise ValueError("search='calibration' needs prior= (a calibration's parameters)")
    threshold = MIN_CONFIDENCE[mode] if min_confidence is None else min_confidence
    ny, nx = data.shape[-2:]
    px = optics.pixel_size_um
    otf = otf or RadialOTF.from_optics(optics, channel)
    kc = otf.cutoff_per_um
    nominal = SIMParameters.nominal(pattern, optics, (ny, nx), channel)
    grid = SearchGrid((ny, nx), px)
    r_small = frequency_radius((ny, nx), px)
    otf_small = otf(r_small)
    leak_region = (otf_small > 1e-3) & (r_small > 0)
    frames = data.reshape(pattern.n_angles, pattern.n_phases, ny, nx).astype(np.float64)

    if mode == "free":
        lo, hi = k_range or ((0.6, 1.1) if pattern.n_orders == 1 else (0.3, 1.1))
        annulus = (grid.radius > lo * kc) & (grid.radius < hi * kc)
        regions = [annulus] * pattern.n_angles
        centres = None
    else:
        base = prior if mode == "calibration" and prior is not None else nominal
        centres = base.k_per_um
        k0 = float(np.mean(np.hypot(*centres.T)))
        frac = 0.01 if mode == "calibration" else 0.05
        regions = _windows(grid, centres, max(frac * k0, 1.5 * grid.df))

    # Separation phases: the calibration's measured steps, else equidistant.
    phases0 = (prior or nominal).frame_phases
    spectra, bands, scores, products = [], [], [], []
    for d in range(pattern.n_angles):
        unit = separation_matrix(phases0[d], np.ones(pattern.n_orders))
        spec = np.fft.fft2(frames[d])
        band = np.einsum("bp,pyx->byx", unit, spec)
        band[1:] = remove_leakage(band[1:], band[0], leak_region)
        score, product = score_map(band, otf_small, r_small, kc, grid, regions[d])
        spectra.append(spec)
        bands.append(band)
        scores.append(score)
        products.append(product)
    peaks: list[Peak]
    if mode == "free":
        peaks = consensus_peaks(scores, grid, k_tolerance=k_tolerance)
    else:
        peaks = [_best(score, grid) for score in scores]

    return _finish(
        peaks,
        products,
        spectra,
        bands,
        grid=grid,
        mode=mode,
        threshold=threshold,
        nominal=nominal,
        phases0=phases0,
        prior=prior,
        centres=centres,
        allow_nominal=allow_nominal,
        per_frame_phases=per_frame_phases,
        otf=otf,
        leak_region=leak_region,
        modulation_range=(min_modulation, max_modulation),
        k_tolerance=k_tolerance,
    )


def _best(score: NDArray[np.float64], grid: SearchGrid) -> Peak:
    i = int(np.argmax(score))
    iy, ix = divmod(i, score.shape[1])
    return Peak(iy, ix, grid.frequency(iy, ix), float(score[iy, ix]))


def _finish(
    peaks: list[Peak],
    products: list[NDArray[np.complex128]],
    spectra: list[NDArray[np.complex128]],
    bands: list[NDArray[np.complex128]],
    *,
    grid: SearchGrid,
    mode: Search,
    threshold: float,
    nominal: SIMParameters,
    phases0: NDArray[np.float64],
    prior: SIMParameters | None,
    centres: NDArray[np.float64] | None,
    allow_nominal: bool,
    per_frame_phases: bool,
    otf: RadialOTF,
    leak_region: NDArray[np.bool_],
    modulation_range: tuple[float, float],
    k_tolerance: float,
) -> SIMParameters:
    """Refine, fit factors, judge every orientation and apply the fallbacks."""
    n_angles, n_orders = nominal.n_angles, nominal.n_orders
    px = nominal.pixel_size_um
    ks = [
        refine_peak(p, px / 2.0, np.array(pk.k), grid.df)
        for p, pk in zip(products, peaks, strict=True)
    ]
    confidence = [pk.score for pk in peaks]
    geometry = _consistency(
        ks,
        confidence,
        k_tolerance,
        2.0 + math.degrees(grid.df / max(_orientation_geometry(ks[0])[0], 1e-9)),
    )
    fallback = prior if prior is not None else (nominal if allow_nominal else None)
    k_out = (fallback or nominal).k_per_um.copy()
    phases_out = (fallback or nominal).frame_phases.copy()
    factors_out = (fallback or nominal).factors.copy()
    fits: list[AngleFit] = []
    for d in range(n_angles):
        k = ks[d]
        if per_frame_phases:
            theta = fit_frame_phases(
                spectra[d], phases0[d], k, px, n_orders, 0.5 * float(np.hypot(*k))
            )
            sep = separation_matrix(theta, np.ones(n_orders))
            band = np.einsum("bp,pyx->byx", sep, spectra[d])
            band[1:] = remove_leakage(band[1:], band[0], leak_region)
        else:
            theta, band = phases0[d], bands[d]
        factors = fit_factors(band, k, otf, px, n_orders)
        mods = tuple(float(v) for v in np.abs(factors))
        problems = []
        if confidence[d] < threshold:
            problems.append(
                f"no clear carrier peak (confidence {confidence[d]:.1f} < {threshold})"
            )
        if mode == "free" and max(confidence) < MIN_ANCHOR:
            problems.append(
                f"no orientation has a clear carrier (best {max(confidence):.1f} < {MIN_ANCHOR})"
            )
        if mode != "calibration" and geometry[d]:
            problems.append(geometry[d])
        offset = None
        if centres is not None:
            c = centres[d]
            offset = float(min(np.hypot(*(k - c)), np.hypot(*(k + c))) / np.hypot(*c))
        lo, hi = modulation_range
        note = ""
        if not np.all(np.isfinite(factors)) or not 0.05 <= mods[0] <= hi:
            problems.append(f"modulation {mods[0]:.2f} outside [0.05, {hi}]")
        elif mods[0] < lo:
            # Low SNR biases the overlap estimate low; a carrier that passed the confidence
            # and geometry checks keeps its k, its band weight is floored (HiFi-SIM: 0.35 -> 0.7).
            note = f"modulation {mods[0]:.2f} raised to {lo}"
            factors = factors * (lo / mods[0])
        fit = AngleFit(
            "ok",
            (float(k[0]), float(k[1])),
            None if centres is None else (float(centres[d][0]), float(centres[d][1])),
            offset,
            confidence[d],
            mods,
            "; ".join(problems) or note,
        )
        if problems:
            fits.append(_fallback(d, fit, prior, allow_nominal))
            continue
        fits.append(fit)
        k_out[d], phases_out[d], factors_out[d] = k, theta, factors
    return SIMParameters(k_out, phases_out, factors_out, px, nominal.shape, tuple(fits))
