"""SQUIRREL-style resolution-scaled error (Culley et al., Nat Methods 15:263, 2018).

The SR image, blurred by a Gaussian resolution-scaling function G_sigma and mapped by an
intensity fit, should reproduce the wide-field reference:
``I_RS = (alpha SR + beta) * G_sigma``; ``RSE = sqrt(mean((ref - block_mean(I_RS))^2))``,
``RSP = Pearson(ref, block_mean(I_RS))`` and the error map ``|ref_up - I_RS|``. Unlike NanoJ
the blur is fixed by the optics (sigma = 0.21 lambda / NA, the Gaussian approximation of the
wide-field PSF), so it cannot absorb errors; fitting it is an option. alpha and beta are a
linear least-squares fit (the blur is linear, so ``I_RS = alpha (SR * G) + beta``).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from livesr.config import OpticsConfig

from ._grid import SRGrid

__all__ = ["blur_sr", "fit_intensity", "gaussian_transfer", "squirrel_sigma_um"]

#: sigma of the Gaussian approximation of the wide-field PSF, in units of lambda / NA.
SIGMA_LAMBDA_OVER_NA = 0.21


def squirrel_sigma_um(optics: OpticsConfig, channel: str | None = None) -> float:
    """The fixed resolution-scaling sigma ``0.21 lambda / NA`` in um."""
    return SIGMA_LAMBDA_OVER_NA * optics.wavelength_um(channel) / optics.na


def gaussian_transfer(grid: SRGrid, sigma_um: float) -> NDArray[np.complex64]:
    """G_sigma x pixel box x sub-pixel shift on the camera rfft grid (`SRGrid.camera_transfer`)."""
    fy, fx = grid.raw_frequencies()
    gauss = np.exp(-2.0 * math.pi**2 * sigma_um**2 * (fy**2 + fx**2))
    return grid.camera_transfer(gauss)


def fit_intensity(
    reference: NDArray[np.floating], blurred: NDArray[np.floating]
) -> tuple[float, float, float, float]:
    """Least-squares ``reference ~ alpha blurred + beta``.

    Parameters
    ----------
    reference, blurred : ndarray, same shape
        Pixels to compare (already restricted to the interior).

    Returns
    -------
    (alpha, beta, rse, rsp)
        The fit, its root-mean-square error (reference units) and the Pearson correlation.
    """
    y = np.asarray(reference, np.float64).ravel()
    x = np.asarray(blurred, np.float64).ravel()
    xc = x - x.mean()
    yc = y - y.mean()
    # einsum, not `@`: a BLAS dot may wake a pool of spinning threads (tens of ms on a
    # loaded host) for what is a few microseconds of work.
    sxx = float(np.einsum("i,i->", xc, xc))
    syy = float(np.einsum("i,i->", yc, yc))
    sxy = float(np.einsum("i,i->", xc, yc))
    alpha = sxy / sxx if sxx > 0 else 0.0
    beta = float(y.mean()) - alpha * float(x.mean())
    residual = yc - alpha * xc
    rse = math.sqrt(float(np.einsum("i,i->", residual, residual)) / y.size)
    rsp = sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0
    return alpha, beta, rse, rsp


def blur_sr(sr: NDArray[np.floating], sigma_sr_px: float, workers: int = 1) -> NDArray[np.float32]:
    """Gaussian blur of an SR image with mirrored borders (no wrap-around), float32."""
    image = np.asarray(sr, np.float32)
    pad = math.ceil(4 * sigma_sr_px) + 1
    padded = np.pad(image, pad, mode="reflect")
    shape = tuple(scipy.fft.next_fast_len(n, real=True) for n in padded.shape)
    fy = np.fft.fftfreq(shape[0])[:, np.newaxis]
    fx = np.fft.rfftfreq(shape[1])[np.newaxis, :]
    gauss = np.exp(-2.0 * math.pi**2 * sigma_sr_px**2 * (fy**2 + fx**2))
    spectrum = scipy.fft.rfft2(padded, s=shape, workers=workers) * gauss
    out = scipy.fft.irfft2(spectrum, s=shape, workers=workers)
    blurred: NDArray[np.float32] = out[
        pad : pad + image.shape[0], pad : pad + image.shape[1]
    ].astype(np.float32)
    return blurred
