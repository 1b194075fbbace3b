"""Calibration <-> SIM parameters, and `calibrate`: measure an instrument's pattern once."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from livesr.config import (
    Calibration,
    ChannelCalibration,
    OpticsConfig,
    OrientationCalibration,
    PatternConfig,
)

from ._bands import RadialOTF
from ._estimate import estimate_parameters
from ._params import AngleFit, SIMParameters

__all__ = ["calibrate", "calibration_parameters", "pattern_from_calibration"]


def calibration_parameters(
    calibration: Calibration, channel: str | None, shape: tuple[int, int]
) -> SIMParameters:
    """A calibrated channel as `SIMParameters` for frames of `shape` (status "calibration")."""
    ch = calibration.channel(channel)
    k = np.array([o.k_per_um for o in ch.orientations], dtype=np.float64)
    phases = np.array([o.phases_rad for o in ch.orientations], dtype=np.float64)
    factors = np.array(
        [
            [
                m * np.exp(1j * (o.order_phases_rad[n] if n < len(o.order_phases_rad) else 0.0))
                for n, m in enumerate(o.modulation)
            ]
            for o in ch.orientations
        ],
        dtype=np.complex128,
    )
    fits = tuple(
        AngleFit(
            "calibration",
            None,
            o.k_per_um,
            0.0,
            o.confidence,
            o.modulation,
            "calibrated values, not refitted",
        )
        for o in ch.orientations
    )
    return SIMParameters(k, phases, factors, calibration.pixel_size_um, shape, fits)


def pattern_from_calibration(
    calibration: Calibration, channel: str | None = None
) -> PatternConfig:
    """Orientations, phases and orders of a calibrated channel as a `PatternConfig`."""
    ch = calibration.channel(channel)
    first = ch.orientations[0]
    k0 = float(np.mean([o.k_magnitude_per_um for o in ch.orientations]))
    return PatternConfig(
        n_angles=len(ch.orientations),
        n_phases=len(first.phases_rad),
        k0_fraction=None,
        k0_per_um=k0,
        angle_offset_deg=first.angle_deg % 180.0,
        modulation=min(1.0, first.modulation[0]),
        nonlinear_harmonics=tuple(min(1.0, m) for m in first.modulation[1:]),
    )


def calibrate(
    stacks: NDArray[np.generic],
    pattern: PatternConfig,
    optics: OpticsConfig,
    *,
    channel: str | None = None,
    otf: RadialOTF | None = None,
    otf_path: str | None = None,
    camera_offset: float | None = None,
    camera_gain: float | None = None,
    search: str = "free",
    k_range: tuple[float, float] | None = None,
    per_frame_phases: bool = True,
    source: str = "",
) -> tuple[Calibration, SIMParameters]:
    """Measure the pattern on pooled stacks and return it as a `Calibration`.

    Parameters
    ----------
    stacks : ndarray, shape (N, F, Y, X) or (F, Y, X)
        Raw stacks of one good acquisition (beads or a bright sample); pooled.
    pattern, optics : PatternConfig, OpticsConfig
        Angles/phases/orders (and the nominal k for ``search="nominal"``); NA, emission,
        pixel size.
    channel : str, optional
        Channel name written into the calibration (``"default"`` when None).
    otf, otf_path : RadialOTF, str, optional
        Measured OTF used for the fit and the path recorded for it.
    camera_offset, camera_gain : float, optional
        Written into the calibration and used for the fit.
    search : {"free", "nominal"}
        Carrier search (see `estimate_parameters`).
    k_range : (float, float), optional
        Free-search annulus as fractions of the cutoff.
    per_frame_phases : bool
        Measure each frame's phase (recommended: real phase steppers are not exact).
    source : str
        What the calibration was measured on (written into it).

    Raises
    ------
    SIMFitError
        If any orientation's fit is rejected: a calibration is only written from a good fit.
    """
    params = estimate_parameters(
        stacks,
        pattern,
        optics,
        channel=channel,
        otf=otf,
        search=search,  # type: ignore[arg-type]
        per_frame_phases=per_frame_phases,
        k_range=k_range,
        camera_offset=camera_offset,
        camera_gain=camera_gain,
    )
    orientations = tuple(
        OrientationCalibration(
            k_per_um=(float(params.k_per_um[d, 0]), float(params.k_per_um[d, 1])),
            phases_rad=tuple(float(v) for v in params.frame_phases[d]),
            order_phases_rad=tuple(float(v) for v in np.angle(params.factors[d])),
            modulation=tuple(float(v) for v in np.abs(params.factors[d])),
            confidence=params.fits[d].confidence,
        )
        for d in range(params.n_angles)
    )
    name = channel or "default"
    cal = Calibration(
        pixel_size_um=optics.pixel_size_um,
        camera_offset_adu=camera_offset,
        camera_gain_e_per_adu=camera_gain,
        channels={
            name: ChannelCalibration(
                emission_um=optics.wavelength_um(channel),
                na=optics.na,
                otf_path=otf_path,
                orientations=orientations,
            )
        },
        source=source,
    )
    return cal, params
