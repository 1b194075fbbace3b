"""The SIM pattern parameters a reconstruction uses, with a fit report per orientation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from livesr.config import OpticsConfig, PatternConfig
from livesr.optics import pattern_phases, pattern_wavevectors

from ._bands import separation_matrix

__all__ = ["AngleFit", "FitStatus", "SIMFitError", "SIMFitWarning", "SIMParameters"]

FitStatus = Literal["ok", "calibration", "nominal", "rejected"]


class SIMFitWarning(UserWarning):
    """An orientation's fit was rejected and calibrated (or, if allowed, nominal) values used."""


class SIMFitError(ValueError):
    """An orientation's fit was rejected and nothing trustworthy can replace it.

    The message is one line naming the orientation, its confidence and the fixes.
    """


@dataclass(frozen=True)
class AngleFit:
    """Fit-quality report of one orientation.

    Attributes
    ----------
    status : {"ok", "calibration", "nominal", "rejected"}
        ``"ok"``: the fitted values are used; ``"calibration"``: the fit was rejected (see
        `message`) and the calibration's values are used; ``"nominal"``: nominal pattern values
        are used (no fit, or a rejected fit with ``allow_nominal``); ``"rejected"``: the fit
        was rejected and nothing replaced it (only in reports of failed estimations).
    k_estimated : (ky, kx) or None
        Fitted first-order vector in cycles per um (before any fallback).
    k_prior : (ky, kx) or None
        The vector the search was constrained to (calibration or nominal pattern), if any.
    k_offset_fraction : float or None
        ``min |k_estimated -+ k_prior| / |k_prior|``.
    confidence : float or None
        Carrier peak of the OTF-weighted band cross-correlation over the median of its ring
        (same |k|); noise alone reaches about 4 over the whole search annulus.
    modulation_estimated : tuple of float
        Fitted modulation of each order (1, 2, ...).
    message : str
        Why a fit was rejected, empty when ok.
    """

    status: FitStatus
    k_estimated: tuple[float, float] | None
    k_prior: tuple[float, float] | None
    k_offset_fraction: float | None
    confidence: float | None
    modulation_estimated: tuple[float, ...]
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "status": self.status,
            "k_estimated_per_um": None if self.k_estimated is None else list(self.k_estimated),
            "k_prior_per_um": None if self.k_prior is None else list(self.k_prior),
            "k_offset_fraction": self.k_offset_fraction,
            "confidence": self.confidence,
            "modulation_estimated": list(self.modulation_estimated),
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AngleFit:
        """Inverse of `to_dict`."""
        est, prior = data["k_estimated_per_um"], data["k_prior_per_um"]
        return cls(
            data["status"],
            None if est is None else (float(est[0]), float(est[1])),
            None if prior is None else (float(prior[0]), float(prior[1])),
            data["k_offset_fraction"],
            data["confidence"],
            tuple(data["modulation_estimated"]),
            data["message"],
        )


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
        return bool(self.fits) and all(f.status == "ok" for f in self.fits)

    @property
    def statuses(self) -> tuple[str, ...]:
        """Fit status of each angle (``"ok"``, ``"calibration"``, ``"nominal"``)."""
        return tuple(f.status for f in self.fits)

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
            fits = tuple(AngleFit.from_dict(a["fit"]) for a in angles if a.get("fit") is not None)
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
                    "fit": None if fit is None else fit.to_dict(),
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
