"""The SIM forward model: specimen -> noise-free bands -> raw camera frames.

Physics: a raw frame is ``camera(h * (S I_dp)) + background`` with the illumination
``I_dp = 1 + sum_n m_n cos(n (2 pi k_d . r + phi_p))`` (livesr.optics convention), h the
detection PSF and the camera integrating over its pixels. Since the frame is linear in I, each
angle needs only the bands ``B_dn = camera(h * (S exp(i 2 pi n k_d . r)))``; every phase frame is
then ``B_0 + sum_n m_n Re(exp(i n phi_p) B_dn)``, a cheap per-pixel sum on the camera grid.

Sampling (why it is alias-free): S is rendered on a fine grid (``oversample`` x the camera) with
a known Gaussian pre-blur that the Fourier filters divide out again; the modulated density is
transformed on the fine grid, where the shift by ``n k_d`` is exact for any sub-pixel k, and only
the detection band ``|q| < kc`` is kept. Pixel integration is the exact box (sinc) filter, and
the camera image is formed on the camera grid by an inverse FFT. The field is padded by a few
camera pixels so the periodic FFT does not wrap light across the edges.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.fft as sfft
from numpy.typing import NDArray

from livesr.config import CameraConfig, OpticsConfig, PatternConfig
from livesr.optics import ideal_otf_radial, pattern_phases, pattern_wavevectors

from ._bands import SIMBands, signal_level
from ._camera import NoiseMethod, camera_adu
from ._specimen import Specimen
from ._truth import band_limited_density

__all__ = ["SIMForwardModel"]

_WORKERS = 2


def _smooth_size(n: int, factor: int) -> int:
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


class SIMForwardModel:
    """Raw SIM frames of a specimen for one camera, pattern and channel.

    Parameters
    ----------
    pattern : PatternConfig
        Angles, phases, k0, modulation and nonlinear harmonics.
    optics : OpticsConfig
        NA, emission wavelength of `channel`, camera pixel size in the sample.
    camera : CameraConfig
        Noise model and background photons.
    shape : (Y, X)
        Camera frame size in pixels.
    channel : str, optional
        Emission channel in `optics` (the first one when None).
    oversample : int, optional
        Fine-grid factor; by default the smallest integer >= 2 whose Nyquist frequency is 1.4x
        the SIM passband ``kc + n_orders k0`` (2 for linear SIM, 3 for nonlinear SIM).
    pad_px : int
        Minimum padding, camera pixels, against FFT wrap-around (PSF radius is about 3 px).
    otf : callable, optional
        Detection OTF as a function of |k| in cycles/um (for example a measured radial OTF);
        default the ideal incoherent OTF of `optics`.
    noise : {"poisson", "fast"}
        Camera noise method of `render_frame` (see `camera_adu`).
    fluctuation : float
        Relative rms frame-to-frame intensity fluctuation (laser noise).
    phase_offsets : sequence of float, optional
        Global pattern phase of each angle in radians, added to every phase step (real
        instruments rarely start at phase 0); default zeros.
    phase_jitter : float
        Rms random error of each frame's pattern phase in radians (imprecise phase stepping),
        drawn per frame by `render_frame`.

    Attributes
    ----------
    wavevectors : ndarray, float64, shape (n_angles, 2)
        Exact first-order ``(ky, kx)`` of each angle, cycles/um (`pattern_wavevectors`).
    phases, strengths
        Nominal phase steps (radians) and the modulation of orders 1..n_orders.
    cutoff_per_um, passband_per_um : float
        Wide-field cutoff kc and SIM passband ``kc + n_orders k0``.
    sr_scale : int
        Ground-truth upsampling (2 linear, 3 nonlinear).
    fine_shape, fine_pixel_um
        Padded fine grid on which `prepare` expects the density (`fine_density`).

    Notes
    -----
    Workflow: ``bands = model.prepare(specimen, t)`` once per timepoint (FFTs, tens of ms at
    512 x 512), then ``model.render_frame(bands, frame, photons=..., rng=rng)`` per exposure
    (a few ms). Threads: `prepare` and `render_frame` keep no mutable state, so one model serves
    several threads as long as each passes its own ``numpy.random.Generator``.
    """

    def __init__(
        self,
        pattern: PatternConfig,
        optics: OpticsConfig,
        camera: CameraConfig,
        shape: tuple[int, int],
        channel: str | None = None,
        *,
        oversample: int | None = None,
        pad_px: int = 8,
        otf: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
        noise: NoiseMethod = "poisson",
        fluctuation: float = 0.03,
        phase_offsets: Sequence[float] | None = None,
        phase_jitter: float = 0.0,
    ) -> None:
        if len(shape) != 2 or min(shape) < 16:
            raise ValueError(f"shape={shape} must be (Y, X) camera pixels, each at least 16")
        if not 0 <= fluctuation < 0.5:
            raise ValueError(f"fluctuation={fluctuation} must be a small fraction in [0, 0.5)")
        if noise not in ("poisson", "fast"):
            raise ValueError(f"noise={noise!r} is unknown; use 'poisson' or 'fast'")
        self.pattern, self.optics, self.camera = pattern, optics, camera
        self.shape = (int(shape[0]), int(shape[1]))
        self.channel = channel
        self.noise: NoiseMethod = noise
        self.fluctuation = float(fluctuation)
        if phase_offsets is None:
            phase_offsets = [0.0] * pattern.n_angles
        if len(phase_offsets) != pattern.n_angles:
            raise ValueError(
                f"phase_offsets has {len(phase_offsets)} values; the pattern has "
                f"{pattern.n_angles} angles (one global phase per angle, radians)"
            )
        if not 0 <= phase_jitter < math.pi:
            raise ValueError(f"phase_jitter={phase_jitter} must be an rms error in [0, pi) rad")
        self.phase_offsets = np.asarray(phase_offsets, np.float64)
        self.phase_jitter = float(phase_jitter)
        p = self.pixel_size_um = optics.pixel_size_um
        self.cutoff_per_um = optics.cutoff_per_um(channel)
        self.wavevectors = pattern_wavevectors(pattern, optics, channel)  # (A, 2) cycles/um
        self.k0_per_um = float(np.hypot(*self.wavevectors[0]))
        self.phases = pattern_phases(pattern)
        self.n_orders = pattern.n_orders
        self.strengths = (pattern.modulation, *pattern.nonlinear_harmonics)
        self.passband_per_um = self.cutoff_per_um + self.n_orders * self.k0_per_um
        self.sr_scale = self.n_orders + 1
        nyquist = 1.0 / (2.0 * p)
        if oversample is None:
            oversample = max(2, math.ceil(1.4 * self.passband_per_um / nyquist))
        if oversample * nyquist <= self.passband_per_um:
            raise ValueError(
                f"oversample={oversample} is too small: the fine grid's Nyquist frequency "
                f"{oversample * nyquist:.2f} /um must exceed the SIM passband "
                f"{self.passband_per_um:.2f} /um"
            )
        self.oversample = os_ = int(oversample)
        # Anti-alias pre-blur: divided out later; amplifies by at most exp(2 pi^2 0.09) = 5.9.
        self.prefilter_um = 0.3 / self.passband_per_um
        radial = otf if otf is not None else (lambda k: ideal_otf_radial(k / self.cutoff_per_um))
        self._otf = radial

        ny, nx = self.shape
        self.padded_shape = (
            _smooth_size(ny + 2 * pad_px, os_),
            _smooth_size(nx + 2 * pad_px, os_),
        )
        pyy, pxx = self.padded_shape
        self._pad = ((pyy - ny) // 2, (pxx - nx) // 2)
        self.fine_shape = (os_ * pyy, os_ * pxx)
        self.fine_pixel_um = p / os_
        # Specimen coordinates: camera pixel [0, 0] covers [0, p) in y and x.
        self.fine_origin_um = (
            p / (2 * os_) - self._pad[0] * p,
            p / (2 * os_) - self._pad[1] * p,
        )
        self._build_filters()

    # ----------------------------------------------------------------- precomputation
    def _build_filters(self) -> None:
        p, os_ = self.pixel_size_um, self.oversample
        pyy, pxx = self.padded_shape
        fy, fx = self.fine_shape
        qy = np.fft.fftfreq(pyy, p)
        qx = np.fft.fftfreq(pxx, p)
        # Only the detection band |q| < kc of the fine spectrum is ever used: its row and
        # column indices on the padded camera grid (ib) and on the fine grid (fb).
        kc = self.cutoff_per_um
        self._iby = np.flatnonzero(np.abs(qy) < kc)
        self._ibx = np.flatnonzero(np.abs(qx) < kc)
        self._ibx_r = np.flatnonzero((qx >= 0) & (qx < kc))  # rfft half of the columns
        # Both index sets are two runs, (non-negative, negative) frequencies: kept as counts
        # so the band moves with slice copies instead of slow fancy indexing.
        self._band_y = (
            int(np.count_nonzero(qy[self._iby] >= 0)),
            int(np.count_nonzero(qy[self._iby] < 0)),
        )
        self._band_x = (
            int(np.count_nonzero(qx[self._ibx] >= 0)),
            int(np.count_nonzero(qx[self._ibx] < 0)),
        )
        shift = (p - p / os_) / 2  # camera centre minus fine centre of pixel [0, 0]
        sig2 = 2 * math.pi**2 * self.prefilter_um**2
        qyy, qxx = np.meshgrid(qy, qx, indexing="ij")
        base = (
            self._otf(np.hypot(qyy, qxx))
            * np.sinc(qyy * p)
            * np.sinc(qxx * p)
            * np.exp(2j * math.pi * (qyy + qxx) * shift)
            / os_**2
        )
        inside = np.hypot(qyy, qxx) < self.cutoff_per_um
        base = np.where(inside, base, 0.0)
        w0 = base * np.exp(sig2 * (qyy**2 + qxx**2))
        self._w0 = w0[np.ix_(self._iby, self._ibx_r)].astype(np.complex64)
        band = np.ix_(self._iby, self._ibx)
        n_a = len(self.wavevectors)
        w = np.empty((n_a, self.n_orders, self._iby.size, self._ibx.size), np.complex64)
        for d, (ky, kx) in enumerate(self.wavevectors):
            for n in range(1, self.n_orders + 1):
                deblur = np.exp(sig2 * ((qyy - n * ky) ** 2 + (qxx - n * kx) ** 2))
                w[d, n - 1] = (base * deblur)[band]
        self._w = w
        # Fine-grid coordinates relative to the centre of camera pixel [0, 0].
        oy, ox = self.fine_origin_um
        self._ry = (oy - p / 2 + np.arange(fy) * self.fine_pixel_um).astype(np.float64)
        self._rx = (ox - p / 2 + np.arange(fx) * self.fine_pixel_um).astype(np.float64)

    def _crop(self, image: NDArray[np.generic]) -> NDArray[np.generic]:
        (py, px), (ny, nx) = self._pad, self.shape
        return image[..., py : py + ny, px : px + nx]

    # ----------------------------------------------------------------- per timepoint
    def fine_density(self, specimen: Specimen, t: float = 0.0) -> NDArray[np.float32]:
        """The specimen on the model's padded fine grid (with the anti-alias pre-blur)."""
        return specimen.density(
            t,
            self.fine_shape,
            self.fine_pixel_um,
            origin_um=self.fine_origin_um,
            blur_um=self.prefilter_um,
        )

    def prepare(self, specimen: Specimen | NDArray[np.floating], t: float = 0.0) -> SIMBands:
        """Compute the noise-free bands of the specimen at time `t` (the per-timepoint cost).

        Parameters
        ----------
        specimen : Specimen or ndarray
            A `Specimen`, or its `fine_density` (float32, shape `fine_shape`).
        t : float
            Time in seconds (ignored for an array).
        """
        if isinstance(specimen, Specimen):
            density = self.fine_density(specimen, t)
        else:
            density = np.asarray(specimen, np.float32)
            if density.shape != self.fine_shape:
                raise ValueError(
                    f"density has shape {density.shape}; the model needs its fine grid "
                    f"{self.fine_shape} (use model.fine_density(specimen, t))"
                )
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
        n_a = len(self.wavevectors)
        re = np.empty((n_a, self.n_orders, *self.shape), np.float32)
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
                band = self._crop(sfft.ifft2(full_n, workers=_WORKERS, overwrite_x=True))
                re[d, n - 1] = band.real
                im[d, n - 1] = band.imag
        b0c = np.ascontiguousarray(self._crop(b0), dtype=np.float32)
        return SIMBands(b0=b0c, re=re, im=im, signal=signal_level(b0c), t=float(t))

    # ----------------------------------------------------------------- per frame
    def frame_index(self, angle: int, phase: int) -> int:
        """Position of (angle, phase) in an angle-major stack."""
        if not (0 <= angle < self.pattern.n_angles and 0 <= phase < self.pattern.n_phases):
            raise IndexError(
                f"frame (angle={angle}, phase={phase}) is outside the pattern's "
                f"{self.pattern.n_angles} angles x {self.pattern.n_phases} phases"
            )
        return angle * self.pattern.n_phases + phase

    def _scale(self, bands: SIMBands, photons: float | None, scale: float | None) -> float:
        if (photons is None) == (scale is None):
            raise ValueError(
                "give exactly one of photons= (mean signal photons of these bands) or scale= "
                "(photons per density unit, fixed over a time-lapse)"
            )
        if scale is not None:
            return float(scale)
        assert photons is not None
        return bands.photon_scale(photons)

    def expected_frame(
        self,
        bands: SIMBands,
        frame: int,
        *,
        photons: float | None = None,
        scale: float | None = None,
        intensity: float = 1.0,
        phase_error: float = 0.0,
    ) -> NDArray[np.float32]:
        """Noise-free photons of one raw frame, background included.

        Parameters
        ----------
        bands : SIMBands
            From `prepare`.
        frame : int
            Index in the angle-major stack (``angle * n_phases + phase``).
        photons : float, optional
            Mean signal photons per pixel over the structure of these bands.
        scale : float, optional
            Photons per density unit instead (`SIMBands.photon_scale`); a fixed scale keeps
            brightness changes (fading puncta) visible over a time-lapse.
        intensity : float
            Relative illumination intensity of this frame.
        phase_error : float
            Extra pattern phase of this frame in radians.

        Returns
        -------
        ndarray, float32, shape (Y, X)
        """
        n_frames = self.pattern.n_frames
        if not 0 <= frame < n_frames:
            raise IndexError(f"frame={frame} is outside the stack of {n_frames} frames")
        angle, phase = divmod(int(frame), self.pattern.n_phases)
        factor = self._scale(bands, photons, scale) * intensity
        out = bands.b0.copy()
        tmp = np.empty_like(out)
        for n in range(1, self.n_orders + 1):
            alpha = n * (self.phases[phase] + self.phase_offsets[angle] + phase_error)
            m = self.strengths[n - 1]
            out += np.multiply(bands.re[angle, n - 1], np.float32(m * math.cos(alpha)), out=tmp)
            out -= np.multiply(bands.im[angle, n - 1], np.float32(m * math.sin(alpha)), out=tmp)
        out *= np.float32(factor)
        np.maximum(out, np.float32(0.0), out=out)  # band-limited ringing dips below zero
        out += np.float32(self.camera.background_photons)
        return out

    def render_frame(
        self,
        bands: SIMBands,
        frame: int,
        *,
        rng: np.random.Generator,
        photons: float | None = None,
        scale: float | None = None,
    ) -> NDArray[np.uint16]:
        """One noisy raw frame with its own intensity fluctuation.

        Parameters are those of `expected_frame`; `rng` draws the fluctuation and the camera
        noise (one generator per thread).

        Returns
        -------
        ndarray, uint16, shape (Y, X)
        """
        factor = self._scale(bands, photons, scale)
        intensity = max(0.0, 1.0 + self.fluctuation * float(rng.standard_normal()))
        error = self.phase_jitter * float(rng.standard_normal()) if self.phase_jitter else 0.0
        expected = self.expected_frame(
            bands, frame, scale=factor, intensity=intensity, phase_error=error
        )
        return camera_adu(expected, self.camera, rng, self.noise)

    def render_stack(
        self,
        bands: SIMBands,
        *,
        rng: np.random.Generator,
        photons: float | None = None,
        scale: float | None = None,
    ) -> NDArray[np.uint16]:
        """All raw frames of one stack, angle-major: uint16, shape (n_angles * n_phases, Y, X)."""
        factor = self._scale(bands, photons, scale)
        out = np.empty((self.pattern.n_frames, *self.shape), np.uint16)
        for f in range(self.pattern.n_frames):
            out[f] = self.render_frame(bands, f, scale=factor, rng=rng)
        return out

    # ----------------------------------------------------------------- ground truth
    def ground_truth(self, specimen: Specimen, t: float = 0.0) -> NDArray[np.float32]:
        """What an ideal, noise-free SIM delivers: the density band-limited to the SIM passband.

        The density is filtered with the ideal incoherent OTF of cutoff
        ``kc + n_orders * k0`` (`passband_per_um`), so the GT holds frequencies up to 1 + the
        pattern fraction beyond the wide-field cutoff kc, and nothing a SIM could not see.

        Returns
        -------
        ndarray, float32, shape (sr_scale * Y, sr_scale * X)
            Density units (multiply by `SIMBands.photon_scale` for photons per camera-pixel
            area); pixel [0, 0] covers ``[0, p / sr_scale)`` of the field.
        """
        return band_limited_density(
            specimen,
            t,
            shape=self.shape,
            pixel_size_um=self.pixel_size_um,
            scale=self.sr_scale,
            pad=self._pad,
            padded_shape=self.padded_shape,
            passband_per_um=self.passband_per_um,
            prefilter_um=self.prefilter_um,
        )
