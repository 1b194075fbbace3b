"""The pattern the checks assume, and the one adapter from the estimator's parameters.

`PatternState` holds only what re-synthesising raw frames needs: each orientation's wave
vector, each frame's phase and each order's complex factor ``a_n = m_n exp(i psi_n)``. Frame p
of orientation d is lit by ``1 + sum_n Re(a_n exp(i n theta_dp) exp(i 2 pi n k_d . r))`` with
``r = (y, x)`` in um from the centre of camera pixel [0, 0] (the `livesr.optics` convention).
`pattern_state` is the only place that reads the estimator's `SIMParameters`, so pointing the
checks at another parameter source (a stored calibration) means changing that one function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from livesr.config import OpticsConfig, PatternConfig
from livesr.optics import pattern_phases, pattern_wavevectors

if TYPE_CHECKING:
    from livesr.reconstruct.conventional import SIMParameters

__all__ = ["PatternState", "pattern_state"]


@dataclass(frozen=True)
class PatternState:
    """Illumination of every raw frame of one SIM stack (angle-major, phase-minor).

    Attributes
    ----------
    k_per_um : ndarray, float64, shape (A, 2)
        First-order ``(ky, kx)`` of each orientation, cycles/um.
    frame_phases : ndarray, float64, shape (A, P)
        Phase step ``theta_dp`` of each frame, radians.
    factors : ndarray, complex128, shape (A, n_orders)
        ``a_n = m_n exp(i psi_n)`` of orders 1..n_orders.
    fit_ok : bool or None
        Whether the parameter fit was accepted for every orientation (None: not fitted).
    """

    k_per_um: NDArray[np.float64]
    frame_phases: NDArray[np.float64]
    factors: NDArray[np.complex128]
    fit_ok: bool | None = None

    @property
    def n_angles(self) -> int:
        """Orientations A."""
        return int(self.k_per_um.shape[0])

    @property
    def n_phases(self) -> int:
        """Phase steps P per orientation."""
        return int(self.frame_phases.shape[1])

    @property
    def n_orders(self) -> int:
        """Highest band order."""
        return int(self.factors.shape[1])

    @property
    def modulation(self) -> tuple[float, ...]:
        """First-order modulation depth of each orientation."""
        return tuple(float(v) for v in np.abs(self.factors[:, 0]))

    @property
    def k_max_per_um(self) -> float:
        """Largest first-order |k| over the orientations, cycles/um."""
        return float(np.max(np.hypot(self.k_per_um[:, 0], self.k_per_um[:, 1])))

    @classmethod
    def from_config(
        cls,
        pattern: PatternConfig,
        optics: OpticsConfig,
        channel: str | None = None,
        phase_offsets: Sequence[float] | None = None,
    ) -> PatternState:
        """The nominal pattern of the configs (the simulator's exact one for equal offsets).

        Parameters
        ----------
        pattern, optics : config
            Orientations, phases, frequency and modulation; the optics set k0 when it is a
            fraction of the cutoff.
        channel : str, optional
            Optics channel (the first when None).
        phase_offsets : sequence of float, optional
            Global phase of each orientation in radians (`SIMForwardModel`'s
            ``phase_offsets``); zeros when None.
        """
        k = pattern_wavevectors(pattern, optics, channel)
        phases = np.tile(pattern_phases(pattern), (pattern.n_angles, 1))
        offsets = np.zeros(pattern.n_angles) if phase_offsets is None else phase_offsets
        offsets = np.asarray(offsets, np.float64)
        if offsets.shape != (pattern.n_angles,):
            raise ValueError(
                f"phase_offsets needs one value per orientation ({pattern.n_angles}), got "
                f"{offsets.size}"
            )
        strengths = np.asarray((pattern.modulation, *pattern.nonlinear_harmonics))
        orders = np.arange(1, strengths.size + 1)
        factors = strengths[np.newaxis, :] * np.exp(1j * orders[np.newaxis, :] * offsets[:, None])
        return cls(k, phases, factors.astype(np.complex128))


def pattern_state(params: SIMParameters) -> PatternState:
    """The checks' view of fitted SIM parameters (`livesr.reconstruct.SIMParameters`)."""
    fits = getattr(params, "fits", ())
    return PatternState(
        k_per_um=np.asarray(params.k_per_um, np.float64),
        frame_phases=np.asarray(params.frame_phases, np.float64),
        factors=np.asarray(params.factors, np.complex128),
        fit_ok=bool(params.ok) if fits else None,
    )
