"""The forward model's Fourier path: a fine-grid specimen density -> SIM bands on the camera.

Sampling (why it is alias-free): the density is rendered on a fine grid (``oversample`` x the
camera) with a known Gaussian pre-blur that the filters here divide out again; the modulated
density is transformed on the fine grid, where the shift by ``n k_d`` is exact for any sub-pixel
k, and only the detection band ``|q| < kc`` is kept. Pixel integration is the exact box (sinc)
filter, and the camera image is formed on the camera grid by an inverse FFT. The field is padded
by a few camera pixels so the periodic FFT does not wrap light across the edges.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.fft as sfft
from numpy.typing import NDArray

__all__ = ["BandTransform", "smooth_size"]

_WORKERS = 2


def smooth_size(n: int, factor: int) -> int:
    """Smallest m >= n with m - n even and factor * m a product of 2, 3 and 5 (fast FFTs)."""
    m = n
    while True:
        v = factor * m
        for f in (2, 3, 5):
            while v % f == 0:
                v //= f
        if v == 1:
            return m
        m += 2


def _take_band(a: NDArray[np.complex64], pos: int, neg: int, axis: int) -> NDArray[np.complex64]:
    """The first `pos` and last `neg` entries of `a` along `axis` (an FFT band), as one copy."""
    n = a.shape[axis]
    if axis == 0:
        return np.concatenate((a[:pos], a[n - neg :]), axis=0)
    return np.concatenate((a[:, :pos], a[:, n - neg :]), axis=1)


class BandTransform:
    """Detection filters of one camera grid, pattern and OTF, and the transform applying them.

    Parameters
    ----------
    shape, padded_shape : (Y, X)
        Camera frame, and the padded camera grid the FFTs run on.
    oversample : int
        Fine-grid factor: the density has shape ``oversample * padded_shape``.
    pixel_size_um, cutoff_per_um : float
        Camera pixel in the sample and the wide-field cutoff kc.
    wavevectors : ndarray, float64, shape (n_angles, 2)
        First-order ``(ky, kx)`` of each angle, cycles/um.
    n_orders : int
        Pattern harmonics beyond the zero order.
    prefilter_um : float
        Sigma of the Gaussian pre-blur of the density, divided out by the filters.
    otf : callable
        Detection OTF as a function of |k| in cycles/um.
    fine_origin_um : (y, x)
        Specimen coordinates of the centre of fine pixel [0, 0].

    Notes
    -----
    Threads: nothing changes after construction, so several threads may call one transform.
    """

    def __init__(
        self,
        *,
        shape: tuple[int, int],
        padded_shape: tuple[int, int],
        oversample: int,
        pixel_size_um: float,
        cutoff_per_um: float,
        wavevectors: NDArray[np.float64],
        n_orders: int,
        prefilter_um: float,
        otf: Callable[[NDArray[np.float64]], NDArray[np.float64]],
        fine_origin_um: tuple[float, float],
    ) -> None:
        self.shape, self.padded_shape = shape, padded_shape
        self.wavevectors, self.n_orders = wavevectors, n_orders
        self.fine_shape = (oversample * padded_shape[0], oversample * padded_shape[1])
        self._pad = ((padded_shape[0] - shape[0]) // 2, (padded_shape[1] - shape[1]) // 2)
        p, os_ = pixel_size_um, oversample
        pyy, pxx = padded_shape
        fy, fx = self.fine_shape
        qy = np.fft.fftfreq(pyy, p)
        qx = np.fft.fftfreq(pxx, p)
        # Only the detection band |q| < kc of the fine spectrum is ever used: its row and
        # column indices on the padded camera grid.
        kc = cutoff_per_um
        iby = np.flatnonzero(np.abs(qy) < kc)
        ibx = np.flatnonzero(np.abs(qx) < kc)
        ibx_r = np.flatnonzero((qx >= 0) & (qx < kc))  # rfft half of the columns
        # Both index sets are two runs, (non-negative, negative) frequencies: kept as counts
        # so the band moves with slice copies instead of slow fancy indexing.
        self._band_y = (int(np.count_nonzero(qy[iby] >= 0)), int(np.count_nonzero(qy[iby] < 0)))
        self._band_x = (int(np.count_nonzero(qx[ibx] >= 0)), int(np.count_nonzero(qx[ibx] < 0)))
        shift = (p - p / os_) / 2  # camera centre minus fine centre of pixel [0, 0]
        sig2 = 2 * math.pi**2 * prefilter_um**2
        qyy, qxx = np.meshgrid(qy, qx, indexing="ij")
        base = (
            otf(np.hypot(qyy, qxx))
            * np.sinc(qyy * p)
            * np.sinc(qxx * p)
            * np.exp(2j * math.pi * (qyy + qxx) * shift)
            / os_**2
        )
        base = np.where(np.hypot(qyy, qxx) < kc, base, 0.0)
        w0 = base * np.exp(sig2 * (qyy**2 + qxx**2))
        self._w0 = w0[np.ix_(iby, ibx_r)].astype(np.complex64)
        band = np.ix_(iby, ibx)
        w = np.empty((len(wavevectors), n_orders, iby.size, ibx.size), np.complex64)
        for d, (ky, kx) in enumerate(wavevectors):
            for n in range(1, n_orders + 1):
                deblur = np.exp(sig2 * ((qyy - n * ky) ** 2 + (qxx - n * kx) ** 2))
                w[d, n - 1] = (base * deblur)[band]
        self._w = w
        # Fine-grid coordinates relative to the centre of camera pixel [0, 0].
        oy, ox = fine_origin_um
        fine_pixel_um = p / os_
        self._ry = (oy - p / 2 + np.arange(fy) * fine_pixel_um).astype(np.float64)
        self._rx = (ox - p / 2 + np.arange(fx) * fine_pixel_um).astype(np.float64)

    def crop(self, image: NDArray[np.generic]) -> NDArray[np.generic]:
        """The camera frame of an image on the padded camera grid."""
        (py, px), (ny, nx) = self._pad, self.shape
        return image[..., py : py + ny, px : px + nx]

    def __call__(
        self, density: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """Bands of a fine-grid density on the camera grid.

        Returns
        -------
        b0 : ndarray, float32, shape (Y, X)
            The zero-order (wide-field) band.
        re, im : ndarray, float32, shape (n_angles, n_orders, Y, X)
            Real and imaginary parts of the modulated bands ``B_dn``.
        """
        pyy, pxx = self.padded_shape
        (ay, by), (ax, bx) = self._band_y, self._band_x
        # Band-pruned 2D FFTs: transform along x, keep the band's columns, then along y.
        spec = sfft.rfft(density, axis=1, workers=_WORKERS)[:, :ax]
        spec = _take_band(sfft.fft(spec, axis=0, workers=_WORKERS, overwrite_x=True), ay, by, 0)
        full = np.zeros((pyy, pxx // 2 + 1), np.complex64)
        spec *= self._w0
        full[:ay, :ax] = spec[:ay]
        full[pyy - by :, :ax] = spec[ay:]
        b0 = sfft.irfft2(full, s=(pyy, pxx), workers=_WORKERS)
        re = np.empty((len(self.wavevectors), self.n_orders, *self.shape), np.float32)
        im = np.empty_like(re)
        mod = np.empty(self.fine_shape, np.complex64)
        for d, (ky, kx) in enumerate(self.wavevectors):
            for n in range(1, self.n_orders + 1):
                # exp(i 2 pi n k.r) shifts the spectrum by n k exactly, for any sub-pixel k.
                ex = np.exp(2j * math.pi * n * kx * self._rx).astype(np.complex64)
                ey = np.exp(2j * math.pi * n * ky * self._ry).astype(np.complex64)
                np.multiply(density, ex, out=mod)
                # In place: `mod` is refilled for every band anyway.
                spec_x = sfft.fft(mod, axis=1, workers=_WORKERS, overwrite_x=True)
                cols = _take_band(spec_x, ax, bx, 1)
                cols *= ey[:, None]
                spec_n = sfft.fft(cols, axis=0, workers=_WORKERS, overwrite_x=True)
                spec_n = _take_band(spec_n, ay, by, 0)
                spec_n *= self._w[d, n - 1]
                full_n = np.zeros((pyy, pxx), np.complex64)
                full_n[:ay, :ax] = spec_n[:ay, :ax]
                full_n[:ay, pxx - bx :] = spec_n[:ay, ax:]
                full_n[pyy - by :, :ax] = spec_n[ay:, :ax]
                full_n[pyy - by :, pxx - bx :] = spec_n[ay:, ax:]
                band = self.crop(sfft.ifft2(full_n, workers=_WORKERS, overwrite_x=True))
                re[d, n - 1] = band.real
                im[d, n - 1] = band.imag
        b0c = np.ascontiguousarray(self.crop(b0), dtype=np.float32)
        return b0c, re, im
