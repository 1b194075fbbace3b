"""The nine signal levels of the simulator, like BioSR's."""

from __future__ import annotations

import numpy as np

__all__ = ["SIGNAL_LEVELS", "level_photons"]

#: Mean signal photons per pixel per raw frame over the structure, levels 1..9: geometric from
#: 15 to 600 (BioSR quotes nine levels spanning 15-600 average photons).
SIGNAL_LEVELS: tuple[float, ...] = tuple(float(round(v, 1)) for v in np.geomspace(15.0, 600.0, 9))


def level_photons(level: int) -> float:
    """Mean signal photons per pixel of signal level `level` (1 = dimmest, 9 = brightest)."""
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)):
        raise TypeError(f"level must be an integer 1..9, got {level!r}")
    if not 1 <= level <= len(SIGNAL_LEVELS):
        raise ValueError(
            f"level={level} is out of range: signal levels are 1 (15 photons) to "
            f"{len(SIGNAL_LEVELS)} (600 photons); pass photons=... for other values"
        )
    return SIGNAL_LEVELS[int(level) - 1]
