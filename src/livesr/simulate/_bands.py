"""The per-timepoint cache of the forward model and the photon level it is scaled to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["SIMBands", "signal_level"]


def signal_level(image: NDArray[np.floating]) -> float:
    """Mean of an image over its structure: pixels at least 20% of the 99.9th percentile.

    This is the photon count that the signal levels refer to (background excluded).
    """
    top = float(np.percentile(image, 99.9))
    if top <= 0:
        raise ValueError("the specimen is empty in this field of view: nothing to scale")
    return float(image[image >= 0.2 * top].mean())


@dataclass(frozen=True)
class SIMBands:
    """Noise-free bands of one specimen state: the per-timepoint cache of the forward model.

    Attributes
    ----------
    b0 : ndarray, float32, shape (Y, X)
        Wide-field image (order 0), density units, pixel-integrated.
    re, im : ndarray, float32, shape (n_angles, n_orders, Y, X)
        Real and imaginary parts of the modulated bands ``B_dn`` (orders n = 1..n_orders).
    signal : float
        `signal_level` of `b0`: photons scale as ``photons / signal``.
    t : float
        Specimen time (s) the bands show.
    """

    b0: NDArray[np.float32]
    re: NDArray[np.float32]
    im: NDArray[np.float32]
    signal: float
    t: float

    def photon_scale(self, photons: float) -> float:
        """Factor from density units to photons for `photons` mean signal photons per pixel."""
        return photons / self.signal
