"""Image-quality metrics against a ground truth: NRMSE, PSNR, SSIM, MS-SSIM.

Two conventions:

- ``"authors"`` (the DFCAN paper's): image and ground truth are each min-max normalised to
  [0, 1] (``prctile_norm(x, 0, 100)``), then NRMSE = ||gt - x|| / ||gt||, PSNR and SSIM with a
  data range of 1.
- ``"photometric"``: the image is mapped onto the ground truth by a least-squares affine fit
  ``a x + b`` (CARE-style), so only structure and relative intensity count, not an arbitrary
  scale; data range = the ground truth's range.

All functions take 2D arrays of equal shape (any real dtype) and return Python floats. Pure
numpy/scipy, thread-safe.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = [
    "Convention",
    "fit_affine",
    "ms_ssim",
    "normalize_minmax",
    "nrmse",
    "prepare",
    "psnr",
    "ssim",
]

Convention = Literal["authors", "photometric"]
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def normalize_minmax(image: NDArray[np.generic]) -> NDArray[np.float64]:
    """Min-max normalise to [0, 1] (the authors' ``prctile_norm(x, 0, 100)``)."""
    x = np.asarray(image, dtype=np.float64)
    lo, hi = float(x.min()), float(x.max())
    out: NDArray[np.float64] = (x - lo) / (hi - lo + 1e-7)
    return out


def fit_affine(image: NDArray[np.generic], reference: NDArray[np.generic]) -> NDArray[np.float64]:
    """``a * image + b`` with (a, b) minimising the squared error to `reference`."""
    x = np.asarray(image, dtype=np.float64).ravel()
    y = np.asarray(reference, dtype=np.float64).ravel()
    xc = x - x.mean()
    var = float(xc @ xc)
    a = float(xc @ (y - y.mean())) / var if var > 0 else 0.0
    b = float(y.mean()) - a * float(x.mean())
    out: NDArray[np.float64] = a * np.asarray(image, dtype=np.float64) + b
    return out


def _check(image: NDArray[np.generic], reference: NDArray[np.generic]) -> None:
    if np.shape(image) != np.shape(reference) or np.ndim(image) != 2:
        raise ValueError(
            f"metrics need two 2D images of the same shape, got {np.shape(image)} and "
            f"{np.shape(reference)}: resample the image onto the ground-truth grid first"
        )


def prepare(
    image: NDArray[np.generic], reference: NDArray[np.generic], convention: Convention
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Image and reference after the convention's normalisation, and the data range."""
    _check(image, reference)
    if convention == "authors":
        return normalize_minmax(image), normalize_minmax(reference), 1.0
    if convention == "photometric":
        ref = np.asarray(reference, dtype=np.float64)
        data_range = float(ref.max() - ref.min()) or 1.0
        return fit_affine(image, ref), ref, data_range
    raise ValueError(f"convention must be 'authors' or 'photometric', got {convention!r}")


def nrmse(
    image: NDArray[np.generic],
    reference: NDArray[np.generic],
    *,
    convention: Convention = "authors",
) -> float:
    """Normalised RMSE ``||ref - x|| / ||ref||`` (lower is better)."""
    x, ref, _ = prepare(image, reference, convention)
    return float(np.linalg.norm(ref - x) / max(float(np.linalg.norm(ref)), 1e-12))


def psnr(
    image: NDArray[np.generic],
    reference: NDArray[np.generic],
    *,
    convention: Convention = "authors",
) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(range^2 / MSE)`` (higher is better)."""
    x, ref, data_range = prepare(image, reference, convention)
    mse = float(np.mean((ref - x) ** 2))
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / mse))


def _ssim_maps(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    data_range: float,
    gaussian: bool,
    window: int = 7,
    sigma: float = 1.5,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    # Luminance*contrast*structure map and contrast*structure map (Wang et al. 2004).
    if gaussian:

        def filt(a: NDArray[np.float64]) -> NDArray[np.float64]:
            out: NDArray[np.float64] = ndimage.gaussian_filter(a, sigma, truncate=3.5)
            return out
    else:

        def filt(a: NDArray[np.float64]) -> NDArray[np.float64]:
            out: NDArray[np.float64] = ndimage.uniform_filter(a, window)
            return out

    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    mx, my = filt(x), filt(y)
    # Sample (unbiased) covariances, as scikit-image does.
    n = window * window if not gaussian else 1.0
    cov_norm = n / (n - 1) if not gaussian else 1.0
    vx = cov_norm * (filt(x * x) - mx * mx)
    vy = cov_norm * (filt(y * y) - my * my)
    vxy = cov_norm * (filt(x * y) - mx * my)
    cs = (2 * vxy + c2) / (vx + vy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return lum * cs, cs


def ssim(
    image: NDArray[np.generic],
    reference: NDArray[np.generic],
    *,
    convention: Convention = "authors",
) -> float:
    """Structural similarity (7x7 uniform window, K1 0.01, K2 0.03, as skimage and the authors).

    The mean is taken over the interior (a 3-pixel border dropped), like scikit-image.
    """
    x, ref, data_range = prepare(image, reference, convention)
    full, _ = _ssim_maps(x, ref, data_range, gaussian=False)
    return float(full[3:-3, 3:-3].mean())


def ms_ssim(
    image: NDArray[np.generic],
    reference: NDArray[np.generic],
    *,
    convention: Convention = "authors",
) -> float:
    """Multi-scale SSIM (Wang, Simoncelli, Bovik 2003): 5 scales, standard weights.

    Gaussian 11x11 window (sigma 1.5), 2x2 average pooling between scales. Images whose
    smaller side is below 161 pixels use only the scales that fit (weights renormalised), so
    the value is comparable across sizes only at >= 161 pixels.
    """
    x, ref, data_range = prepare(image, reference, convention)
    scales = len(MS_SSIM_WEIGHTS)
    while scales > 1 and min(x.shape) < 10 * 2 ** (scales - 1) + 1:
        scales -= 1
    weights = np.asarray(MS_SSIM_WEIGHTS[:scales])
    weights = weights / weights.sum()
    values = []
    for j in range(scales):
        full, cs = _ssim_maps(x, ref, data_range, gaussian=True)
        if j == scales - 1:
            values.append(max(float(full[5:-5, 5:-5].mean()), 0.0))
        else:
            values.append(max(float(cs[5:-5, 5:-5].mean()), 0.0))
            x = _pool(x)
            ref = _pool(ref)
    return float(np.prod(np.asarray(values) ** weights))


def _pool(a: NDArray[np.float64]) -> NDArray[np.float64]:
    ny, nx = (a.shape[0] // 2) * 2, (a.shape[1] // 2) * 2
    a = a[:ny, :nx]
    out: NDArray[np.float64] = 0.25 * (
        a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]
    )
    return out
