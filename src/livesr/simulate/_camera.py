"""sCMOS camera model: expected photons -> noisy 16-bit ADU."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from livesr.config import CameraConfig

__all__ = ["NoiseMethod", "camera_adu"]

NoiseMethod = Literal["poisson", "fast"]


def camera_adu(
    photons: NDArray[np.floating],
    camera: CameraConfig,
    rng: np.random.Generator,
    method: NoiseMethod = "poisson",
) -> NDArray[np.uint16]:
    """Expose a camera to an expected photon image.

    ``electrons = Poisson(qe * photons) + Normal(0, read_noise_e)``,
    ``adu = clip(round(electrons / gain + offset), 0, 2**bit_depth - 1)``.

    Parameters
    ----------
    photons : ndarray, float, any shape
        Expected photons per pixel (signal plus background), >= 0.
    camera : CameraConfig
        QE, read noise, gain, offset, bit depth.
    rng : numpy.random.Generator
        Source of the noise; not shared between threads.
    method : {"poisson", "fast"}
        ``"poisson"`` draws exact Poisson photo-electrons (numpy, about 100 ns per pixel).
        ``"fast"`` draws one normal deviate per pixel (inverse CDF on 16-bit random numbers,
        tails cut at 4.3 sigma) and matches the first three cumulants of Poisson plus read
        noise (mean, variance, skewness) with a Cornish-Fisher term; about 4x cheaper, so the
        simulated live camera keeps up with realistic frame rates.

    Returns
    -------
    ndarray, uint16, same shape
        Camera counts.
    """
    # In-place arithmetic on float32 buffers: fresh 1 MB temporaries cost page faults that
    # would dominate the per-frame time of the live camera.
    lam = np.maximum(np.asarray(photons, np.float32), np.float32(0.0))
    lam *= np.float32(camera.qe)
    read = np.float32(camera.read_noise_e)
    if method == "poisson":
        electrons = rng.poisson(lam).astype(np.float32)
        if read > 0:
            noise = rng.standard_normal(lam.shape, dtype=np.float32)
            noise *= read
            electrons += noise
    elif method == "fast":
        # Cumulants of Poisson(lam) + N(0, r^2): mean lam, variance lam + r^2, third lam.
        # x = lam + s z + c (z^2 - 1), s^2 = lam + r^2, c = lam / (6 s^2), matches them to O(c^2).
        z = _fast_normal(lam.shape, rng)
        var = lam + read * read
        np.maximum(var, np.float32(1e-12), out=var)
        electrons = np.multiply(z, z)
        electrons -= np.float32(1.0)
        electrons *= lam
        electrons /= var
        electrons *= np.float32(1.0 / 6.0)
        np.sqrt(var, out=var)
        z *= var
        electrons += z
        electrons += lam
    else:
        raise ValueError(f"noise method {method!r} is unknown; use 'poisson' or 'fast'")
    electrons *= np.float32(1.0 / camera.gain_e_per_adu)
    electrons += np.float32(camera.offset_adu)
    np.rint(electrons, out=electrons)
    np.clip(electrons, 0, camera.max_adu, out=electrons)
    return electrons.astype(np.uint16)


@lru_cache(maxsize=1)
def _normal_table() -> NDArray[np.float32]:
    from scipy.special import ndtri

    # Normal quantiles at the centres of 2**16 equal-probability bins, rescaled to unit
    # variance (the cut tails would otherwise shrink it by 1e-5).
    table = np.asarray(ndtri((np.arange(65536) + 0.5) / 65536), np.float64)
    out: NDArray[np.float32] = (table / table.std()).astype(np.float32)
    return out


def _fast_normal(shape: tuple[int, ...], rng: np.random.Generator) -> NDArray[np.float32]:
    """Standard normal deviates from 16-bit uniform draws through a quantile table."""
    n = int(np.prod(shape))
    index = np.frombuffer(rng.bytes(2 * n), np.uint16)
    return np.take(_normal_table(), index).reshape(shape)
