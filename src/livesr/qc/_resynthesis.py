"""Raw re-synthesis: the camera frames an SR image implies, and how well they fit the data.

For SR density S on the SR grid and the pattern of frame (d, p), the modelled frame is
``D_hat = g * box_p[h * (S I_dp)] + u * Q_dp + b``, where ``box_p`` integrates over camera
pixels, h is the detection PSF and ``I_dp = 1 + sum_n Re(a_n e^{i n theta} e^{i 2 pi n k.r})``.
Per frame, (g, u, b) are a linear least-squares fit: g absorbs the unknown intensity scale of
the SR image and frame-to-frame laser fluctuations, b the camera offset and background, and u
the pattern a constant added to S would carry (an SR image's offset or background is not
modulated on the camera, so S is only known up to a constant). The residual, normalised by the
expected shot and read noise ``sqrt(D_hat + read^2)`` in electrons, gives chi^2 (about 1 when
the SR image and the pattern explain the frames down to the noise).

Each orientation costs one complex FFT on the SR grid (band-pruned: only rows and columns
inside the detection band are transformed along the second axis) and one small inverse FFT
on the camera grid per order.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from livesr.config import CameraConfig

from ._grid import SRGrid
from ._pattern import PatternState

__all__ = ["RawResynthesis", "frame_chi2"]

#: Regulariser of the division by the SR image's own OTF (relative to its DC value of 1).
_DEBLUR_EPS = 0.05


def _runs(freqs: NDArray[np.floating], cutoff: float) -> tuple[int, int]:
    """(leading non-negative, trailing negative) counts of FFT bins with |f| < cutoff."""
    inside = np.abs(freqs) < cutoff
    pos = int(np.argmin(inside)) if not inside.all() else freqs.size
    neg = int(np.count_nonzero(inside)) - pos
    return pos, neg


class RawResynthesis:
    """Precomputed filters that turn an SR image into modelled raw frames.

    Parameters
    ----------
    grid : SRGrid
        SR and camera geometry.
    pattern : PatternState
        Wave vectors, frame phases and order factors.
    cutoff_per_um : float
        Detection OTF cutoff 2 NA / lambda.
    otf : callable, optional
        |OTF| as a function of |k| in cycles/um (for example `RadialOTF`); the ideal
        incoherent OTF of `cutoff_per_um` when None.
    sr_passband_per_um : float, optional
        What the SR image is taken to be. None: the density itself. A cutoff K: the density
        blurred by the ideal incoherent OTF of cutoff K, which is how livesr defines a SIM
        ground truth (K = kc + n_orders k0) and about what Wiener SIM's apodisation and
        networks trained on that ground truth deliver; that blur is divided out (Wiener-
        regularised) before the frames are formed, so a faithful SR image is not penalised
        for being band-limited.
    workers : int
        FFT threads.

    Notes
    -----
    Not thread-safe (work buffers are reused); one owner thread per instance.
    """

    def __init__(
        self,
        grid: SRGrid,
        pattern: PatternState,
        cutoff_per_um: float,
        otf: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
        sr_passband_per_um: float | None = None,
        workers: int = 1,
    ) -> None:
        from livesr.optics import ideal_otf_radial

        self.grid = grid
        self.pattern = pattern
        self.workers = workers
        kc = float(cutoff_per_um)
        if kc >= 1.0 / (2.0 * grid.pixel_size_um):
            raise ValueError(
                f"the OTF cutoff {kc:.2f} /um is above the camera's Nyquist frequency "
                f"{1 / (2 * grid.pixel_size_um):.2f} /um: check NA, wavelength and pixel size"
            )
        radial = otf if otf is not None else (lambda k: ideal_otf_radial(k / kc))
        fy, fx = grid.raw_frequencies()
        self._b0_transfer = grid.camera_transfer(radial(np.hypot(fy, fx)))

        # Band-pruned complex spectra: SR-grid bins inside the detection band.
        sy, sx = grid.sr_shape
        ny, nx = grid.raw_shape
        d = grid.sr_pixel_um
        self._deblur: NDArray[np.float32] | None = None
        if sr_passband_per_um is not None:
            qy = np.fft.fftfreq(sy, d)[:, np.newaxis]
            qx = np.fft.rfftfreq(sx, d)[np.newaxis, :]
            apo = ideal_otf_radial(np.hypot(qy, qx) / sr_passband_per_um)
            self._deblur = (apo / (apo**2 + _DEBLUR_EPS**2)).astype(np.float32)
        self._rows = _runs(np.fft.fftfreq(sy, d), kc)
        self._cols = _runs(np.fft.fftfreq(sx, d), kc)
        fy_full = np.fft.fftfreq(ny, grid.pixel_size_um)
        fx_full = np.fft.fftfreq(nx, grid.pixel_size_um)
        (ry, ny_neg), (cx, nx_neg) = self._rows, self._cols
        by = np.concatenate([fy_full[:ry], fy_full[ny - ny_neg :]])[:, np.newaxis]
        bx = np.concatenate([fx_full[:cx], fx_full[nx - nx_neg :]])[np.newaxis, :]
        p = grid.pixel_size_um
        self._band_transfer = (
            radial(np.hypot(by, bx))
            * np.sinc(by * p)
            * np.sinc(bx * p)
            * np.exp(2j * math.pi * (by + bx) * grid.delta_um)
        ).astype(np.complex64)

        # Phase ramps exp(i 2 pi n k . r) at the SR pixel centres, per (angle, order).
        y = np.arange(sy) * d - grid.delta_um
        x = np.arange(sx) * d - grid.delta_um
        a, n_orders = pattern.n_angles, pattern.n_orders
        self._ramps = np.empty((a, n_orders, sy, sx), np.complex64)
        # The response to a uniform SR image (S = 1), per (angle, order), on the camera grid.
        ycam = np.arange(ny) * p
        xcam = np.arange(nx) * p
        unit = np.empty((a, n_orders, ny, nx), np.complex64)
        for dd in range(a):
            for n in range(1, n_orders + 1):
                ky, kx = n * pattern.k_per_um[dd]
                self._ramps[dd, n - 1] = np.outer(
                    np.exp(2j * math.pi * ky * y), np.exp(2j * math.pi * kx * x)
                )
                gain = (
                    float(radial(np.array(math.hypot(ky, kx)))) * np.sinc(ky * p) * np.sinc(kx * p)
                )
                unit[dd, n - 1] = gain * np.outer(
                    np.exp(2j * math.pi * ky * ycam), np.exp(2j * math.pi * kx * xcam)
                )
        # Per frame: coefficient of each order's band, a_n e^{i n theta_dp}.
        orders = np.arange(1, n_orders + 1)
        self._coeff = (
            pattern.factors[:, np.newaxis, :]
            * np.exp(1j * orders[np.newaxis, np.newaxis, :] * pattern.frame_phases[:, :, None])
        ).astype(np.complex64)  # (A, P, n_orders)
        self.unit_frames = self._combine(np.zeros((ny, nx), np.float32), unit)
        self._work = np.empty((sy, sx), np.complex64)
        self._full = np.zeros((ny, nx), np.complex64)

    @property
    def n_frames(self) -> int:
        """Raw frames per stack (A x P)."""
        return self.pattern.n_angles * self.pattern.n_phases

    def _combine(
        self, b0: NDArray[np.float32], bands: NDArray[np.complex64]
    ) -> NDArray[np.float32]:
        a, p = self.pattern.n_angles, self.pattern.n_phases
        out = np.empty((a * p, *b0.shape), np.float32)
        for dd in range(a):
            for ph in range(p):
                frame = out[dd * p + ph]
                frame[...] = b0
                for n in range(self.pattern.n_orders):
                    c = self._coeff[dd, ph, n]
                    # Re(c B) = Re(c) Re(B) - Im(c) Im(B)
                    frame += np.float32(c.real) * bands[dd, n].real
                    frame -= np.float32(c.imag) * bands[dd, n].imag
        return out

    def model_frames(
        self, tapered: NDArray[np.float32], spectrum: NDArray[np.complexfloating]
    ) -> NDArray[np.float32]:
        """Modelled frames ``box_p[h * (S I_dp)]`` of a tapered, mean-free SR image.

        Parameters
        ----------
        tapered : ndarray, float32, shape `grid.sr_shape`
            ``(S - mean(S)) * grid.window``.
        spectrum : ndarray, complex, shape (sY, sX//2+1)
            ``rfft2(tapered)``.

        Returns
        -------
        ndarray, float32, shape (A * P, Y, X)
            Valid inside `grid.interior`; the constant removed from S is one of the fitted
            terms (`frame_chi2`).
        """
        grid = self.grid
        w = self.workers
        if self._deblur is not None:
            spectrum = spectrum * self._deblur
            tapered = scipy.fft.irfft2(spectrum, s=grid.sr_shape, workers=w).astype(
                np.float32, copy=False
            )
        b0 = grid.to_camera(grid.crop_spectrum(spectrum) * self._b0_transfer, w)
        (ry, ny_neg), (cx, nx_neg) = self._rows, self._cols
        sy, sx = grid.sr_shape
        ny, nx = grid.raw_shape
        bands = np.empty((self.pattern.n_angles, self.pattern.n_orders, ny, nx), np.complex64)
        work, full = self._work, self._full
        scale = np.float32(1.0 / grid.scale**2)
        for dd in range(self.pattern.n_angles):
            for n in range(self.pattern.n_orders):
                np.multiply(tapered, self._ramps[dd, n], out=work)
                along_x = scipy.fft.fft(work, axis=1, workers=w, overwrite_x=True)
                cols = np.concatenate([along_x[:, :cx], along_x[:, sx - nx_neg :]], axis=1)
                spec = scipy.fft.fft(cols, axis=0, workers=w, overwrite_x=True)
                band = np.concatenate([spec[:ry], spec[sy - ny_neg :]], axis=0)
                band *= self._band_transfer
                full[:ry, :cx] = band[:ry, :cx]
                full[:ry, nx - nx_neg :] = band[:ry, cx:]
                full[ny - ny_neg :, :cx] = band[ry:, :cx]
                full[ny - ny_neg :, nx - nx_neg :] = band[ry:, cx:]
                bands[dd, n] = scipy.fft.ifft2(full, workers=w)
                bands[dd, n] *= scale
        return self._combine(b0, bands)


def frame_chi2(
    model: NDArray[np.float32],
    unit: NDArray[np.float32],
    raw: NDArray[np.generic],
    camera: CameraConfig,
    interior: tuple[slice, slice],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fit each frame as ``g model + u unit + b`` and return its reduced chi^2.

    Parameters
    ----------
    model, unit : ndarray, float32, shape (F, Y, X)
        `RawResynthesis.model_frames` and `RawResynthesis.unit_frames`.
    raw : ndarray, shape (F, Y, X)
        Camera counts (ADU, offset included).
    camera : CameraConfig
        Offset, gain (electrons per ADU) and read noise that turn counts into electrons and
        set the noise.
    interior : (slice, slice)
        Pixels to use.

    Returns
    -------
    chi2 : ndarray, float64, shape (F,)
        ``mean(((E - E_hat) / sqrt(max(E_hat, 0) + read^2 + gain^2 / 12))^2)`` in electrons.
    gains : ndarray, float64, shape (F,)
        Fitted g per frame (electrons per SR unit).
    """
    frames = raw.shape[0]
    chi2 = np.empty(frames)
    gains = np.empty(frames)
    noise_floor = camera.read_noise_e**2 + camera.gain_e_per_adu**2 / 12.0
    for f in range(frames):
        e = (np.asarray(raw[f][interior], np.float64) - camera.offset_adu) * camera.gain_e_per_adu
        m = np.asarray(model[f][interior], np.float64)
        q = np.asarray(unit[f][interior], np.float64)
        mc = m.ravel() - m.mean()
        qc = q.ravel() - q.mean()
        target = e.ravel() - e.mean()
        # 2 x 2 normal equations by einsum (no BLAS thread pool for microseconds of work).
        smm = float(np.einsum("i,i->", mc, mc))
        sqq = float(np.einsum("i,i->", qc, qc))
        smq = float(np.einsum("i,i->", mc, qc))
        sme = float(np.einsum("i,i->", mc, target))
        sqe = float(np.einsum("i,i->", qc, target))
        det = smm * sqq - smq * smq
        if det > 1e-12 * max(smm * sqq, 1e-300):
            g = (sme * sqq - sqe * smq) / det
            u = (sqe * smm - sme * smq) / det
        else:  # the SR image is flat, or the pattern unmodulated: fit the image alone
            g = sme / smm if smm > 0 else 0.0
            u = 0.0
        b = e.mean() - g * m.mean() - u * q.mean()
        fit = g * m + u * q + b
        var = np.maximum(fit, 0.0) + noise_floor
        chi2[f] = float(np.mean((e - fit) ** 2 / var))
        gains[f] = float(g)
    return chi2, gains
