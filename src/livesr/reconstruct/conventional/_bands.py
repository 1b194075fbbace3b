"""SIM band algebra shared by parameter estimation and Wiener reconstruction.

Conventions (those of `livesr.optics`): frame p of angle d is lit by
``1 + sum_n m_n cos(n (2 pi k_d . r + theta_p))`` with ``r = (y, x)`` in um from the centre of
pixel [0, 0]. With numpy's FFT sign the spectrum of a frame is
``D_p(f) = H(f) sum_n (a_n / 2) e^{i n theta_p} S(f - n k_d)`` (a_0 = 2), so band n is centred
at ``+n k_d``. Band separation with unit modulation and nominal phases returns
``C_n = a_n H(f) S(f - n k_d)``; the complex factor ``a_n = m_n e^{i psi_n}`` is what the
estimator measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from livesr.config import OpticsConfig
from livesr.optics import ideal_otf_radial

__all__ = [
    "RadialOTF",
    "band_orders",
    "fourier_pad",
    "frequency_radius",
    "phase_ramp",
    "remove_leakage",
    "separation_matrix",
    "shifted_radius",
]


@dataclass(frozen=True)
class RadialOTF:
    """A rotationally symmetric detection OTF, evaluated at any frequency.

    Attributes
    ----------
    cutoff_per_um : float
        Support radius 2 NA / lambda in cycles per um.
    radial : ndarray or None
        Measured |OTF| samples at ``i * dk_per_um`` (normalised to 1 at DC); None = ideal OTF.
    dk_per_um : float
        Spacing of `radial`.
    """

    cutoff_per_um: float
    radial: NDArray[np.float64] | None = None
    dk_per_um: float = 0.0

    @classmethod
    def from_optics(
        cls,
        optics: OpticsConfig,
        channel: str | None = None,
        measured: tuple[NDArray[np.float64], float] | None = None,
    ) -> RadialOTF:
        """The ideal OTF of `optics`, or measured samples ``(radial, dk_per_um)``."""
        cutoff = optics.cutoff_per_um(channel)
        if measured is None:
            return cls(cutoff)
        radial, dk = measured
        values = np.abs(np.asarray(radial, dtype=np.float64)).ravel()
        if values.size < 2 or values[0] <= 0 or dk <= 0:
            raise ValueError("a measured OTF needs >= 2 samples, a positive DC and spacing")
        return cls(cutoff, values / values[0], float(dk))

    def __call__(self, k_per_um: NDArray[np.floating]) -> NDArray[np.float64]:
        """|OTF| at frequency magnitudes `k_per_um` (any shape), 0 beyond the support."""
        k = np.asarray(k_per_um, dtype=np.float64)
        if self.radial is None:
            return ideal_otf_radial(k / self.cutoff_per_um)
        radii = np.arange(self.radial.size) * self.dk_per_um
        values: NDArray[np.float64] = np.interp(k, radii, self.radial, right=0.0)
        return np.clip(values, 0.0, None)


def band_orders(n_orders: int) -> tuple[int, ...]:
    """Band order of each separated band: ``(0, 1, -1, 2, -2, ...)`` up to `n_orders`."""
    orders = [0]
    for n in range(1, n_orders + 1):
        orders += [n, -n]
    return tuple(orders)


def separation_matrix(
    theta: NDArray[np.floating], factors: NDArray[np.number]
) -> NDArray[np.complex128]:
    """Pseudo-inverse that maps one angle's frame spectra to its bands.

    Parameters
    ----------
    theta : ndarray, float, shape (P,)
        Phase of each frame (radians), nominal ``2 pi p / P`` plus any fitted offsets.
    factors : ndarray, complex, shape (n_orders,)
        ``a_n`` for n = 1..n_orders (modulation times e^{i psi_n}); ones separate with unit
        modulation.

    Returns
    -------
    ndarray, complex128, shape (2 n_orders + 1, P)
        Rows in `band_orders` order: ``bands = M @ frames``.
    """
    theta = np.asarray(theta, dtype=np.float64)
    cols = [np.ones_like(theta, dtype=np.complex128)]
    for n, a in enumerate(np.asarray(factors, dtype=np.complex128), start=1):
        cols.append(0.5 * a * np.exp(1j * n * theta))
        cols.append(0.5 * np.conj(a) * np.exp(-1j * n * theta))
    mixing = np.stack(cols, axis=1)  # (P, bands): frames = mixing @ bands
    if np.linalg.matrix_rank(mixing) < mixing.shape[1]:
        raise ValueError(
            "the phase steps cannot separate the bands (two phases coincide or a modulation "
            "is zero): check n_phases and the estimated parameters"
        )
    inverse: NDArray[np.complex128] = np.asarray(np.linalg.pinv(mixing), dtype=np.complex128)
    return inverse


def remove_leakage(
    bands: NDArray[np.complexfloating],
    band0: NDArray[np.complexfloating],
    region: NDArray[np.bool_],
) -> NDArray[np.complexfloating]:
    """Subtract the part of each band that is a copy of band 0.

    Frame-to-frame intensity fluctuations (laser noise, bleaching) break the phase algebra and
    leak a scaled copy of band 0 into every other band; it shows up as a ghost of the
    wide-field image at each band's carrier. The leak coefficient is the least-squares
    projection onto band 0 over `region` (which should exclude DC, where the camera offset
    sits and does not fluctuate).

    Parameters
    ----------
    bands : ndarray, complex, shape (B, Y, X) or (B, Y, X//2+1)
        Separated bands of one angle (not band 0 itself).
    band0 : ndarray, complex, same trailing shape
        Band 0 of the same angle.
    region : ndarray, bool, same trailing shape
        Frequencies used for the projection.

    Returns
    -------
    ndarray, same shape and dtype as `bands`
    """
    ref = band0[region]
    norm = float(np.vdot(ref, ref).real)
    if norm <= 0:
        return bands
    alpha = np.array([np.vdot(ref, b[region]) / norm for b in bands])
    out: NDArray[np.complexfloating] = bands - alpha.astype(bands.dtype)[:, None, None] * band0
    return out


def frequency_radius(shape: tuple[int, int], pixel_size_um: float) -> NDArray[np.float64]:
    """|f| in cycles per um on an FFT grid (DC at [0, 0]), shape `shape`."""
    fy = np.fft.fftfreq(shape[0], d=pixel_size_um)
    fx = np.fft.fftfreq(shape[1], d=pixel_size_um)
    radius: NDArray[np.float64] = np.hypot(fy[:, None], fx[None, :])
    return radius


def shifted_radius(
    shape: tuple[int, int], pixel_size_um: float, k: NDArray[np.floating]
) -> NDArray[np.float64]:
    """``|f + k|`` in cycles per um on an FFT grid, for a vector ``k = (ky, kx)``."""
    fy = np.fft.fftfreq(shape[0], d=pixel_size_um) + k[0]
    fx = np.fft.fftfreq(shape[1], d=pixel_size_um) + k[1]
    radius: NDArray[np.float64] = np.hypot(fy[:, None], fx[None, :])
    return radius


def fourier_pad(spectrum: NDArray[np.complexfloating], scale: int) -> NDArray[np.complexfloating]:
    """Zero-pad spectra in FFT order onto a `scale` times larger grid (same frequencies).

    Parameters
    ----------
    spectrum : ndarray, complex, shape (..., Y, X)
        Spectra in FFT order (DC at [0, 0]).
    scale : int
        Grid factor.

    Returns
    -------
    ndarray, same dtype, shape (..., scale*Y, scale*X)
        The inverse FFT of the result samples the same band-limited image on a finer grid,
        pixel [0, 0] keeping its centre (times 1 / scale**2 with numpy's normalisation).
    """
    *lead, ny, nx = spectrum.shape
    out = np.zeros((*lead, scale * ny, scale * nx), dtype=spectrum.dtype)
    hy, hx = (ny + 1) // 2, (nx + 1) // 2
    ly, lx = ny - hy, nx - hx
    out[..., :hy, :hx] = spectrum[..., :hy, :hx]
    out[..., :hy, -lx:] = spectrum[..., :hy, hx:]
    out[..., -ly:, :hx] = spectrum[..., hy:, :hx]
    out[..., -ly:, -lx:] = spectrum[..., hy:, hx:]
    return out


def phase_ramp(
    shape: tuple[int, int],
    pixel_size_um: float,
    k: NDArray[np.floating],
    dtype: type = np.complex128,
) -> NDArray[np.complexfloating]:
    """``exp(-2 pi i k . r)`` on a grid of pixel centres (r from the centre of pixel [0, 0]).

    Multiplying an inverse-FFT'd band by it moves the band's spectrum by ``-k``; it is separable,
    so it is built from two 1D factors.
    """
    y = np.arange(shape[0]) * pixel_size_um
    x = np.arange(shape[1]) * pixel_size_um
    ry = np.exp(-2j * np.pi * k[0] * y)
    rx = np.exp(-2j * np.pi * k[1] * x)
    ramp: NDArray[np.complexfloating] = (ry[:, None] * rx[None, :]).astype(dtype)
    return ramp
