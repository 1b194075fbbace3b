"""Incoherent 2D OTF and PSF of a circular pupil.

Frequencies follow numpy's FFT layout (``np.fft.fftfreq``, DC at [0, 0]) unless a function
says otherwise, in cycles per um.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["frequency_grid", "ideal_otf", "ideal_otf_radial", "psf_from_otf"]


def frequency_grid(shape: tuple[int, int], pixel_size_um: float) -> NDArray[np.float64]:
    """Spatial frequencies of an FFT grid.

    Parameters
    ----------
    shape : (ny, nx)
        Image shape in pixels.
    pixel_size_um : float
        Pixel size in um.

    Returns
    -------
    ndarray, float64, shape (2, ny, nx)
        ``(ky, kx)`` in cycles per um, in numpy FFT order (DC at [0, 0]).
    """
    ky = np.fft.fftfreq(shape[0], d=pixel_size_um)
    kx = np.fft.fftfreq(shape[1], d=pixel_size_um)
    return np.stack(np.meshgrid(ky, kx, indexing="ij"))


def ideal_otf_radial(rho: NDArray[np.floating] | float) -> NDArray[np.float64]:
    """Diffraction-limited incoherent OTF of a circular pupil at normalised radius.

    ``H(rho) = 2/pi (acos(rho) - rho sqrt(1 - rho^2))`` for ``rho = |k| / (2 NA / lambda) < 1``,
    0 beyond; ``H(0) = 1``.
    """
    r = np.clip(np.abs(np.asarray(rho, dtype=np.float64)), 0.0, 1.0)
    otf: NDArray[np.float64] = (2.0 / np.pi) * (np.arccos(r) - r * np.sqrt(1.0 - r * r))
    return otf


def ideal_otf(
    shape: tuple[int, int], pixel_size_um: float, na: float, wavelength_um: float
) -> NDArray[np.float64]:
    """Ideal 2D incoherent OTF on an FFT grid.

    Returns
    -------
    ndarray, float64, shape `shape`
        Real, non-negative OTF with DC (index [0, 0]) equal to 1.
    """
    ky, kx = frequency_grid(shape, pixel_size_um)
    cutoff = 2.0 * na / wavelength_um
    return ideal_otf_radial(np.hypot(ky, kx) / cutoff)


def psf_from_otf(otf: NDArray[np.floating]) -> NDArray[np.float64]:
    """Centred PSF (sum 1) of an OTF given in FFT order."""
    psf = np.real(np.fft.fftshift(np.fft.ifft2(otf)))
    psf = np.clip(psf, 0.0, None)
    normalised: NDArray[np.float64] = psf / psf.sum()
    return normalised
