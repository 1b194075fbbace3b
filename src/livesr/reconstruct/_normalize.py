"""Percentile min-max normalisation of SIM stacks, as the DFCAN authors do it, and its inverse.

The authors' ``predict.py`` min-max normalises the whole raw stack (all frames jointly) to [0, 1]
before the network and the training loader does the same per sample. A network trained that
way only ever sees [0, 1] inputs, so every backend gets exactly this input. Percentiles other
than 0 / 100 make the mapping robust to hot pixels; values outside are clipped as in training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["NormalizationStats", "PercentileNormalizer"]


@dataclass(frozen=True)
class NormalizationStats:
    """The intensity mapping applied to one stack: ``(x - low) / (high - low)``.

    Attributes
    ----------
    low, high : float
        Input values (raw counts) mapped to 0 and 1.
    """

    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form, for provenance."""
        return asdict(self)


class PercentileNormalizer:
    """Map each stack to [0, 1] by its joint low/high percentiles over all frames, and back.

    Parameters
    ----------
    p_low, p_high : float
        Percentiles (0-100) mapped to 0 and 1. The authors use 0 and 100 (plain min-max).
    clip : bool
        Clip normalised values to [0, 1], as the authors' loader does.
    eps : float
        Smallest ``high - low`` accepted; flat stacks (a closed shutter) map to zeros instead of
        dividing by zero.

    Notes
    -----
    Pure numpy and stateless between calls, so one instance may be shared by threads.
    """

    def __init__(
        self,
        p_low: float = 0.0,
        p_high: float = 100.0,
        *,
        clip: bool = True,
        eps: float = 1e-6,
    ) -> None:
        if not 0.0 <= p_low < p_high <= 100.0:
            raise ValueError(
                f"percentiles must satisfy 0 <= p_low < p_high <= 100, got p_low={p_low}, "
                f"p_high={p_high}; the authors' setting is p_low=0, p_high=100"
            )
        self.p_low = float(p_low)
        self.p_high = float(p_high)
        self.clip = clip
        self.eps = float(eps)

    def __repr__(self) -> str:
        return f"PercentileNormalizer(p_low={self.p_low}, p_high={self.p_high}, clip={self.clip})"

    def stats(self, stack: NDArray[Any]) -> NormalizationStats:
        """Percentiles of one stack (any shape, all values pooled)."""
        data = np.asarray(stack)
        if data.size == 0:
            raise ValueError("cannot normalise an empty stack")
        # min/max are an order of magnitude faster than np.percentile; use them when exact.
        low = float(data.min()) if self.p_low == 0.0 else float(np.percentile(data, self.p_low))
        if self.p_high == 100.0:
            high = float(data.max())
        else:
            high = float(np.percentile(data, self.p_high))
        return NormalizationStats(low=low, high=high)

    def normalize(
        self, stack: NDArray[Any], stats: NormalizationStats | None = None
    ) -> tuple[NDArray[np.float32], NormalizationStats]:
        """Normalise one stack.

        Parameters
        ----------
        stack : ndarray, any real dtype, shape (F, Y, X) (or any shape)
            Raw counts of one SIM stack; all frames share one mapping so their relative
            intensities (the pattern modulation) survive.
        stats : NormalizationStats, optional
            Use this mapping instead of the stack's own percentiles.

        Returns
        -------
        normalised : ndarray, float32, same shape
        stats : NormalizationStats
            What was applied; pass it to `denormalize`.
        """
        if stats is None:
            stats = self.stats(stack)
        span = stats.high - stats.low
        out = np.asarray(stack, dtype=np.float32) - np.float32(stats.low)
        if span <= self.eps:
            out[...] = 0.0
        else:
            out *= np.float32(1.0 / span)
        if self.clip:
            np.clip(out, 0.0, 1.0, out=out)
        return out, stats

    def normalize_batch(
        self, stacks: NDArray[Any]
    ) -> tuple[NDArray[np.float32], list[NormalizationStats]]:
        """Normalise each stack of a batch (N, F, Y, X) with its own mapping."""
        if stacks.ndim != 4:
            raise ValueError(f"expected a batch (N, F, Y, X), got shape {stacks.shape}")
        pairs = [self.normalize(s) for s in stacks]
        return np.stack([p[0] for p in pairs]), [p[1] for p in pairs]

    def denormalize(self, image: NDArray[Any], stats: NormalizationStats) -> NDArray[np.float32]:
        """Map a network output in [0, 1] back to the input's intensity range.

        Parameters
        ----------
        image : ndarray, float, any shape
            Network output (sigmoid, so in [0, 1]).
        stats : NormalizationStats
            The mapping `normalize` returned for the stack it came from.

        Returns
        -------
        ndarray, float32, same shape: ``low + image * (high - low)``.
        """
        out = np.asarray(image, dtype=np.float32) * np.float32(stats.high - stats.low)
        out += np.float32(stats.low)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description, for provenance."""
        return {
            "method": "percentile",
            "p_low": self.p_low,
            "p_high": self.p_high,
            "clip": self.clip,
        }
