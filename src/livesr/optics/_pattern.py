"""Pattern geometry shared by the simulator and the reconstructor.

One convention everywhere: angle d has orientation ``theta_d = offset + d * pi / n_angles``
(radians, counter-clockwise from the +x axis with y pointing down the rows), wave vector
``k_d = k0 (sin theta_d, cos theta_d)`` as ``(ky, kx)`` in cycles per um, and phase step p has
phase ``2 pi p / n_phases``. A frame's illumination is ``1 + m cos(2 pi k_d . r + phi_p) + ...``
with ``r = (y, x)`` in um measured from the centre of pixel [0, 0].
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from livesr.config import OpticsConfig, PatternConfig

__all__ = ["pattern_k0_per_um", "pattern_phases", "pattern_wavevectors"]


def pattern_k0_per_um(
    pattern: PatternConfig, optics: OpticsConfig, channel: str | None = None
) -> float:
    """Pattern frequency |k| in cycles per um (first harmonic)."""
    if pattern.k0_per_um is not None:
        return pattern.k0_per_um
    assert pattern.k0_fraction is not None  # guaranteed by PatternConfig's validator
    return pattern.k0_fraction * optics.cutoff_per_um(channel)


def pattern_wavevectors(
    pattern: PatternConfig, optics: OpticsConfig, channel: str | None = None
) -> NDArray[np.float64]:
    """First-order wave vector of each orientation.

    Returns
    -------
    ndarray, float64, shape (n_angles, 2)
        ``(ky, kx)`` in cycles per um.
    """
    k0 = pattern_k0_per_um(pattern, optics, channel)
    theta = math.radians(pattern.angle_offset_deg) + np.arange(pattern.n_angles) * (
        math.pi / pattern.n_angles
    )
    return np.stack([k0 * np.sin(theta), k0 * np.cos(theta)], axis=1)


def pattern_phases(pattern: PatternConfig) -> NDArray[np.float64]:
    """Nominal phase of each step, radians, shape (n_phases,)."""
    return 2.0 * np.pi * np.arange(pattern.n_phases) / pattern.n_phases
