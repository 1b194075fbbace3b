"""Wide-field and Richardson-Lucy baselines on the SR grid.

Both work on raw SIM stacks so that every method in an evaluation starts from the same data:
the wide-field image is the mean of a stack's frames; Richardson-Lucy deconvolves it (after
Fourier upsampling onto the SR grid) with the detection OTF.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from livesr.config import OpticsConfig

from ._bands import RadialOTF, fourier_pad, frequency_radius

__all__ = ["fourier_upsample", "richardson_lucy", "widefield"]


def fourier_upsample(image: NDArray[np.generic], scale: int) -> NDArray[np.float32]:
    """Band-limited (sinc) upsampling of 2D images by zero-padding their spectra.

    Parameters
    ----------
    image : ndarray, shape (..., Y, X)
        Images (any real dtype).
    scale : int
        Grid factor.

    Returns
    -------
    ndarray, float32, shape (..., scale*Y, scale*X)
        Same mean. SR pixels subdivide raw pixels (livesr's SR grid, as the simulated ground
        truth and pixel-shuffle networks): SR pixel [0, 0] covers the top-left 1/scale of raw
        pixel [0, 0].
    """
    data = np.asarray(image, dtype=np.float32)
    if scale == 1:
        return data.copy()
    padded = fourier_pad(scipy.fft.fft2(data), scale)
    # SR pixel [0, 0] sits (scale - 1) / (2 scale) raw pixels before raw pixel [0, 0]'s centre.
    delta = (scale - 1) / (2.0 * scale)
    fy = np.fft.fftfreq(padded.shape[-2])[:, None] * scale
    fx = np.fft.fftfreq(padded.shape[-1])[None, :] * scale
    padded *= np.exp(-2j * np.pi * (fy + fx) * delta)
    out: NDArray[np.float32] = (scipy.fft.ifft2(padded).real * (scale * scale)).astype(np.float32)
    return out


def widefield(stack: NDArray[np.generic], scale: int = 1) -> NDArray[np.float32]:
    """Wide-field image of raw SIM stacks: the mean over frames.

    Parameters
    ----------
    stack : ndarray, shape (F, Y, X) or (N, F, Y, X)
        Raw frames (any real dtype).
    scale : int
        Fourier upsampling factor (2 puts it on the linear-SIM grid).

    Returns
    -------
    ndarray, float32, shape (scale*Y, scale*X) or (N, scale*Y, scale*X)
    """
    data = np.asarray(stack)
    if data.ndim not in (3, 4):
        raise ValueError(f"widefield expects (F, Y, X) or (N, F, Y, X), got {data.shape}")
    mean = data.astype(np.float32).mean(axis=-3)
    return fourier_upsample(mean, scale)


def richardson_lucy(
    image: NDArray[np.generic],
    optics: OpticsConfig,
    *,
    channel: str | None = None,
    otf: RadialOTF | None = None,
    scale: int = 2,
    iterations: int = 20,
    background: float | None = None,
) -> NDArray[np.float32]:
    """Richardson-Lucy deconvolution of a wide-field image on a `scale`x finer grid.

    ``x <- x * h' (*) (y / (h (*) x + eps))`` with the (symmetric) detection PSF h, starting
    from a flat image; the background is removed first so the Poisson model holds.

    Parameters
    ----------
    image : ndarray, shape (Y, X)
        Wide-field image in counts (for example `widefield(stack)`).
    optics : OpticsConfig
        Pixel size (of `image`), NA and wavelength.
    channel : str, optional
        Optics channel; the first when None.
    otf : RadialOTF, optional
        Measured OTF; ideal when None.
    scale : int
        Output grid factor (2 matches linear SIM).
    iterations : int
        RL iterations (10-50 is typical; more sharpens and amplifies noise).
    background : float, optional
        Subtracted first; the 0.5th percentile of `image` when None (camera offset plus
        background).

    Returns
    -------
    ndarray, float32, shape (scale*Y, scale*X)
        Non-negative estimate, same mean (after background) per SR pixel as the input.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"richardson_lucy expects one 2D image, got shape {img.shape}")
    if iterations < 1:
        raise ValueError(f"iterations={iterations} must be at least 1")
    if not np.isfinite(img).all():
        raise ValueError("richardson_lucy: the image contains NaN or inf")
    bg = float(np.percentile(img, 0.5)) if background is None else float(background)
    data = np.clip(fourier_upsample(img - bg, scale).astype(np.float64), 0.0, None)
    otf = otf or RadialOTF.from_optics(optics, channel)
    h = otf(frequency_radius(data.shape, optics.pixel_size_um / scale))
    h_half = h[:, : data.shape[1] // 2 + 1]

    def blur(x: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = scipy.fft.irfft2(scipy.fft.rfft2(x) * h_half, s=x.shape)
        return out

    eps = 1e-6 * max(float(data.mean()), 1e-12)
    estimate = np.full_like(data, max(float(data.mean()), 1e-12))
    for _ in range(iterations):
        ratio = data / np.maximum(blur(estimate), eps)
        estimate = estimate * np.clip(blur(ratio), 0.0, None)
    return estimate.astype(np.float32)
