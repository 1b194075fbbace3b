"""The SIM forward model: specimen -> noise-free bands -> raw camera frames.

Physics: a raw frame is ``camera(h * (S I_dp)) + background`` with the illumination
``I_dp = 1 + sum_n m_n cos(n (2 pi k_d . r + phi_p))`` (livesr.optics convention), h the
detection PSF and the camera integrating over its pixels. Since the frame is linear in I, each
angle needs only the bands ``B_dn = camera(h * (S exp(i 2 pi n k_d . r)))``; every phase frame is
then ``B_0 + sum_n m_n Re(exp(i n phi_p) B_dn)``, a cheap per-pixel sum on the camera grid.

Sampling (fine grid, pre-blur, band pruning, padding) is explained in `._fourier`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from livesr.config import CameraConfig, OpticsConfig, PatternConfig
from livesr.optics import ideal_otf_radial, pattern_phases, pattern_wavevectors

from ._bands import SIMBands, signal_level
from ._camera import NoiseMethod, camera_adu
from ._fourier import BandTransform, smooth_size
from ._specimen import Specimen
from ._truth import band_limited_density

__all__ = ["SIMForwardModel"]


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
        if phase_offsets is None:
            phase_offsets = [0.0] * pattern.n_angles
        _check_arguments(shape, fluctuation, noise, phase_offsets, pattern.n_angles, phase_jitter)
        self.pattern, self.optics, self.camera = pattern, optics, camera
        self.shape = (int(shape[0]), int(shape[1]))
        self.channel = channel
        self.noise: NoiseMethod = noise
        self.fluctuation = float(fluctuation)
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
        self.oversample = int(oversample)
        # Anti-alias pre-blur: divided out later; amplifies by at most exp(2 pi^2 0.09) = 5.9.
        self.prefilter_um = 0.3 / self.passband_per_um
        radial = otf if otf is not None else (lambda k: ideal_otf_radial(k / self.cutoff_per_um))
        self._init_grid(pad_px, radial)

    def _init_grid(
        self, pad_px: int, otf: Callable[[NDArray[np.float64]], NDArray[np.float64]]
    ) -> None:
        """Lay out the padded fine grid and the band transform that works on it.

        Sets ``padded_shape`` (camera pixels, at least `pad_px` each side, FFT-friendly),
        ``fine_shape``, ``fine_pixel_um`` and ``fine_origin_um``.
        """
        p, os_ = self.pixel_size_um, self.oversample
        ny, nx = self.shape
        self.padded_shape = (
            smooth_size(ny + 2 * pad_px, os_),
            smooth_size(nx + 2 * pad_px, os_),
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
        self._bands = BandTransform(
            shape=self.shape,
            padded_shape=self.padded_shape,
            oversample=os_,
            pixel_size_um=p,
            cutoff_per_um=self.cutoff_per_um,
            wavevectors=self.wavevectors,
            n_orders=self.n_orders,
            prefilter_um=self.prefilter_um,
            otf=otf,
            fine_origin_um=self.fine_origin_um,
        )

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
        b0, re, im = self._bands(density)
        return SIMBands(b0=b0, re=re, im=im, signal=signal_level(b0), t=float(t))

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


def _check_arguments(
    shape: tuple[int, int],
    fluctuation: float,
    noise: str,
    phase_offsets: Sequence[float],
    n_angles: int,
    phase_jitter: float,
) -> None:
    """Refuse `SIMForwardModel` arguments that make no sense, with one clear line each.

    Raises
    ------
    ValueError
        For the first bad argument, checked in signature order.
    """
    if len(shape) != 2 or min(shape) < 16:
        raise ValueError(f"shape={shape} must be (Y, X) camera pixels, each at least 16")
    if not 0 <= fluctuation < 0.5:
        raise ValueError(f"fluctuation={fluctuation} must be a small fraction in [0, 0.5)")
    if noise not in ("poisson", "fast"):
        raise ValueError(f"noise={noise!r} is unknown; use 'poisson' or 'fast'")
    if len(phase_offsets) != n_angles:
        raise ValueError(
            f"phase_offsets has {len(phase_offsets)} values; the pattern has "
            f"{n_angles} angles (one global phase per angle, radians)"
        )
    if not 0 <= phase_jitter < math.pi:
        raise ValueError(f"phase_jitter={phase_jitter} must be an rms error in [0, pi) rad")
