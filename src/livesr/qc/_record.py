"""The per-frame quality record: a small frozen set of plain numbers."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["QualityRecord"]


@dataclass(frozen=True)
class QualityRecord:
    """How far one SR frame can be trusted, in numbers (JSON- and array-friendly).

    NaN and empty tuples mean "not measured" (no raw frames, no pattern).

    Attributes
    ----------
    rse : float
        SQUIRREL resolution-scaled error: RMS of ``reference - block_mean(I_RS)`` over the
        interior, in reference units (counts for a wide-field image of counts).
    rsp : float
        SQUIRREL resolution-scaled Pearson correlation (1 = the blurred SR image explains the
        wide-field reference perfectly).
    alpha, beta : float
        Intensity fit ``I_RS = (alpha SR + beta) * G_sigma``.
    sigma_um : float
        Resolution-scaling sigma used (fixed from the optics, or fitted).
    chi2 : tuple of float
        Raw re-synthesis reduced chi^2 per orientation (about 1 = consistent with the raw
        frames down to shot and read noise; larger = the SR image or the pattern is wrong).
    out_of_band : float
        Fraction of the SR image's (mean-free) spectral energy beyond the SIM passband
        ``kc + n_orders |k|``, where raw data carry no information.
    photons : float
        Mean photons per camera pixel per raw frame over the structure (pixels above 20 % of
        the wide-field 99.9th percentile), background included.
    modulation : tuple of float
        First-order modulation depth per orientation, as the pattern parameters give it.
    pattern_ok : bool or None
        Whether the pattern fit was accepted for every orientation (None: not fitted).
    """

    rse: float
    rsp: float
    alpha: float
    beta: float
    sigma_um: float
    chi2: tuple[float, ...] = ()
    out_of_band: float = math.nan
    photons: float = math.nan
    modulation: tuple[float, ...] = ()
    pattern_ok: bool | None = None

    @property
    def chi2_max(self) -> float:
        """Worst orientation's chi^2 (NaN without raw frames)."""
        return max(self.chi2) if self.chi2 else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (tuples as lists, NaN as None)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, tuple):
                out[key] = [_finite(v) for v in value]
            elif isinstance(value, float):
                out[key] = _finite(value)
            else:
                out[key] = value
        return out


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
