"""Image resolution by decorrelation analysis (Descloux, Grussmayer, Radenovic 2019).

Written from the paper's description of the algorithm: the normalised cross-correlation
between an image's spectrum and its phase-only (normalised) spectrum, restricted to a disc of
growing radius, peaks at the highest frequency with signal; repeating it on high-pass
filtered spectra and taking the largest peak radius gives the cut-off ``kc`` (normalised to
Nyquist), and resolution ``2 pixel / kc``. Pure numpy, thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Decorrelation", "decorrelation_analysis", "decorrelation_resolution"]


@dataclass(frozen=True)
class Decorrelation:
    """Result of a decorrelation analysis.

    Attributes
    ----------
    resolution : float
        ``2 pixel_size / kc`` in the unit of `pixel_size` (inf when no peak was found).
    cutoff : float
        kc, normalised to Nyquist (0-1).
    amplitude : float
        Peak amplitude of the unfiltered curve (an SNR proxy).
    radii, curve : ndarray, float64, shape (n,)
        The unfiltered decorrelation curve d(r).
    """

    resolution: float
    cutoff: float
    amplitude: float
    radii: NDArray[np.float64]
    curve: NDArray[np.float64]


def _apodize(image: NDArray[np.float64], width: int) -> NDArray[np.float64]:
    # Sine edge taper around the mean, so the image borders do not add a cross to the spectrum.
    ny, nx = image.shape
    mean = float(image.mean())
    wy = np.ones(ny)
    wx = np.ones(nx)
    ramp_y = np.sin(np.linspace(0, np.pi / 2, min(width, ny // 4) + 2)[1:-1]) ** 2
    ramp_x = np.sin(np.linspace(0, np.pi / 2, min(width, nx // 4) + 2)[1:-1]) ** 2
    wy[: ramp_y.size] = ramp_y
    wy[ny - ramp_y.size :] = ramp_y[::-1]
    wx[: ramp_x.size] = ramp_x
    wx[nx - ramp_x.size :] = ramp_x[::-1]
    out: NDArray[np.float64] = (image - mean) * np.outer(wy, wx) + mean
    return out


def _peak(curve: NDArray[np.float64], radii: NDArray[np.float64]) -> tuple[float, float]:
    # Global maximum; a maximum at the last sample is not a peak, so drop it and retry.
    d = np.floor(curve * 1000.0) / 1000.0
    n = d.size
    while n > 1:
        i = int(np.argmax(d[:n]))
        if i == n - 1:
            n -= 1
            continue
        if d[i] - float(d[i:n].min()) >= 0.0005:
            return float(radii[i]), float(d[i])
        return 0.0, 0.0
    return 0.0, 0.0


def _curve(
    spectrum: NDArray[np.complex128],
    phase_only: NDArray[np.complex128],
    radius: NDArray[np.float64],
    radii: NDArray[np.float64],
) -> NDArray[np.float64]:
    inside = radius < 1.0
    norm = np.sqrt(np.sum(np.abs(spectrum[inside]) ** 2))
    # Sort once; cumulative sums give every disc at once.
    order = np.argsort(radius[inside])
    r_sorted = radius[inside][order]
    num = np.cumsum(np.real(spectrum[inside] * np.conj(phase_only[inside]))[order])
    den = np.cumsum((np.abs(phase_only[inside]) ** 2)[order])
    idx = np.searchsorted(r_sorted, radii, side="left") - 1
    out = np.zeros(radii.size)
    valid = idx >= 0
    out[valid] = num[idx[valid]] / (norm * np.sqrt(np.maximum(den[idx[valid]], 1e-30)))
    return out


def decorrelation_analysis(
    image: NDArray[np.generic],
    pixel_size: float = 1.0,
    *,
    n_radii: int = 50,
    n_filters: int = 10,
) -> Decorrelation:
    """Decorrelation analysis of one 2D image.

    Parameters
    ----------
    image : ndarray, shape (Y, X)
        Any real dtype.
    pixel_size : float
        Pixel size in the unit wanted for `Decorrelation.resolution` (nm for nm).
    n_radii : int
        Samples of the radius grid (>= 30).
    n_filters : int
        High-pass filters in each of the two passes.

    Returns
    -------
    Decorrelation
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2 or min(img.shape) < 16:
        raise ValueError(f"decorrelation analysis needs a 2D image >= 16 px, got {img.shape}")
    if not np.isfinite(img).all():
        raise ValueError("decorrelation analysis: the image contains NaN or inf")
    # Odd size: the FFT grid is then symmetric around DC.
    ny, nx = img.shape[0] - (1 - img.shape[0] % 2), img.shape[1] - (1 - img.shape[1] % 2)
    img = _apodize(img[:ny, :nx], 20)
    # Without the mean, DC would dominate every disc and flatten the curve.
    img = img - img.mean()
    spectrum = np.fft.fftshift(np.fft.fft2(img))
    ky = np.fft.fftshift(np.fft.fftfreq(ny)) * 2.0
    kx = np.fft.fftshift(np.fft.fftfreq(nx)) * 2.0
    radius = np.hypot(ky[:, None], kx[None, :])
    spectrum[radius >= 1.0] = 0.0
    magnitude = np.abs(spectrum)
    phase_only = np.where(magnitude > 0, spectrum / np.where(magnitude > 0, magnitude, 1.0), 0)
    n_radii = max(n_radii, 30)
    radii = np.linspace(0.0, 1.0, n_radii)
    curve0 = _curve(spectrum, phase_only, radius, radii)
    r0, a0 = _peak(curve0, radii)
    if r0 == 0.0:
        return Decorrelation(float("inf"), 0.0, 0.0, radii, curve0)
    size = float(max(ny, nx))

    def scan(gs: NDArray[np.float64], rs: NDArray[np.float64]) -> list[tuple[float, float, float]]:
        found = []
        for g in gs:
            filtered = spectrum * (1.0 - np.exp(-2.0 * g * g * radius**2))
            rg, ag = _peak(_curve(filtered, phase_only, radius, rs), rs)
            found.append((float(g), rg, ag))
        return found

    gs = np.concatenate(
        [[size / 4.0], np.exp(np.linspace(np.log(2.0 / r0), np.log(0.15), n_filters))]
    )
    first = scan(gs, radii)
    peaks = [(r0, a0)] + [(r, a) for _, r, a in first]
    best = int(np.argmax([r for _, r, _ in first]))
    lo = gs[max(best - 1, 0)]
    hi = gs[min(best + 1, gs.size - 1)]
    r_best = first[best][1]
    dr = radii[1] - radii[0]
    fine_r = np.linspace(max(r_best - dr, 0.0), min(r_best + 0.4, 1.0), n_radii)
    second = scan(np.exp(np.linspace(np.log(lo), np.log(hi), n_filters)), fine_r)
    peaks += [(r, a) for _, r, a in second]
    accepted = [r for r, a in peaks if a >= 0.05]
    kc = max(accepted) if accepted else 0.0
    resolution = 2.0 * pixel_size / kc if kc > 0 else float("inf")
    return Decorrelation(resolution, kc, a0, radii, curve0)


def decorrelation_resolution(image: NDArray[np.generic], pixel_size: float = 1.0) -> float:
    """Resolution ``2 pixel_size / kc`` by decorrelation analysis (inf if none found).

    Give `pixel_size` in nm to get nm.
    """
    return decorrelation_analysis(image, pixel_size).resolution
