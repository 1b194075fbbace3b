"""`QualityChecker`: every check of one SR frame from kernels built once per geometry.

Per frame the work is one real FFT of the tapered SR image (shared by the SQUIRREL blur, the
wide-field band of the re-synthesis and the out-of-band energy), one band-pruned complex FFT
per orientation and order, and small inverse FFTs on the camera grid. Pure numpy/scipy, so it
runs in any worker thread or process beside a reconstructor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.fft
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar

from livesr._blas import single_threaded_blas
from livesr.config import CameraConfig, OpticsConfig

from ._grid import SRGrid
from ._pattern import PatternState
from ._record import QualityRecord
from ._resynthesis import RawResynthesis, frame_chi2
from ._squirrel import blur_sr, fit_intensity, gaussian_transfer, squirrel_sigma_um

__all__ = ["MapGrid", "QualityChecker", "QualityResult"]

MapGrid = Literal["none", "camera", "sr"]


@dataclass(frozen=True)
class QualityResult:
    """A frame's `QualityRecord` and, when asked for, its error map.

    Attributes
    ----------
    record : QualityRecord
    error_map : ndarray, float32, or None
        ``|reference - I_RS|`` in reference units: on the SR grid (shape (sY, sX)) for
        ``map_grid="sr"``; on the camera grid (shape (Y, X), NaN in the ignored border) for
        ``"camera"``; None for ``"none"``.
    """

    record: QualityRecord
    error_map: NDArray[np.float32] | None


class QualityChecker:
    """Checks SR frames of one geometry against their wide-field reference and raw frames.

    Parameters
    ----------
    optics : OptiConfig
        NA, emission wavelength and camera pixel size.
    raw_shape : (Y, X)
        Camera frame shape; SR frames must be ``scale`` times larger.
    scale : int
        SR pixels per camera pixel (2 linear SIM, 3 nonlinear).
    channel : str, optional
        Optics channel (the first when None).
    pattern : PatternState, optional
        The illumination (`pattern_state(params)` or `PatternState.from_config`); needed for
        chi^2 and for the passband of the out-of-band energy.
    camera : CameraConfig, optional
        Offset, gain, read noise and QE of the raw frames (the simulator's camera when None).
    otf : callable, optional
        Measured |OTF| of |k| in cycles/um (e.g. `RadialOTF`); ideal when None.
    sigma_um : float, optional
        Resolution-scaling sigma; ``0.21 lambda / NA`` when None.
    fit_sigma : bool
        Fit sigma per frame (minimum RSE) instead of keeping it fixed.
    margin_px : int, optional
        Camera pixels at each border left out of every statistic; by default the taper plus
        four PSF sigmas.
    sr_band_limited : bool
        Take the SR image as the density blurred by the ideal OTF of the SIM passband (the
        ground truth's definition; what Wiener and trained networks deliver) and divide that
        blur out before re-synthesising raw frames; False takes it as the density itself.
    workers : int
        FFT threads.

    Notes
    -----
    Not thread-safe: one owner thread (for example the inference worker) calls `check`.
    """

    def __init__(
        self,
        optics: OpticsConfig,
        raw_shape: tuple[int, int],
        *,
        scale: int = 2,
        channel: str | None = None,
        pattern: PatternState | None = None,
        camera: CameraConfig | None = None,
        otf: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
        sigma_um: float | None = None,
        fit_sigma: bool = False,
        margin_px: int | None = None,
        sr_band_limited: bool = True,
        workers: int = 1,
    ) -> None:
        self.optics = optics
        self.channel = channel
        self.pattern = pattern
        self.camera = camera or CameraConfig()
        self.fit_sigma = fit_sigma
        self.workers = workers
        px = optics.pixel_size_um
        self.sigma_um = (
            float(sigma_um) if sigma_um is not None else squirrel_sigma_um(optics, channel)
        )
        if self.sigma_um <= 0:
            raise ValueError(f"sigma_um={sigma_um} must be positive")
        psf_px = squirrel_sigma_um(optics, channel) / px
        taper = max(2, math.ceil(2 * psf_px))
        if margin_px is None:
            margin_px = taper + math.ceil(4 * max(psf_px, self.sigma_um / px))
        self.grid = SRGrid(
            (int(raw_shape[0]), int(raw_shape[1])), int(scale), px, int(margin_px), taper
        )
        self._blur = gaussian_transfer(self.grid, self.sigma_um)
        self._resynthesis = (
            RawResynthesis(
                self.grid,
                pattern,
                optics.cutoff_per_um(channel),
                otf,
                optics.cutoff_per_um(channel) + pattern.n_orders * pattern.k_max_per_um
                if sr_band_limited
                else None,
                workers,
            )
            if pattern is not None
            else None
        )
        self._oob_weights: NDArray[np.float32] | None = None
        if pattern is not None:
            passband = optics.cutoff_per_um(channel) + pattern.n_orders * pattern.k_max_per_um
            sy, sx = self.grid.sr_shape
            fy = np.fft.fftfreq(sy, self.grid.sr_pixel_um)[:, np.newaxis]
            fx = np.fft.rfftfreq(sx, self.grid.sr_pixel_um)[np.newaxis, :]
            # rfft2 holds half the plane: columns other than DC (and Nyquist) count twice.
            weights = np.full((1, fx.shape[1]), 2.0)
            weights[0, 0] = 1.0
            if sx % 2 == 0:
                weights[0, -1] = 1.0
            self._oob_weights = (weights * np.where(np.hypot(fy, fx) > passband, 1.0, 0.0)).astype(
                np.float32
            )
            self._all_weights = np.broadcast_to(weights, (sy, fx.shape[1])).astype(np.float32)

    @property
    def sr_shape(self) -> tuple[int, int]:
        """Shape SR frames must have."""
        return self.grid.sr_shape

    @single_threaded_blas()
    def check(
        self,
        sr: NDArray[np.generic],
        *,
        raw: NDArray[np.generic] | None = None,
        reference: NDArray[np.generic] | None = None,
        map_grid: MapGrid = "camera",
    ) -> QualityResult:
        """All checks of one SR frame.

        Parameters
        ----------
        sr : ndarray, shape `sr_shape`
            The SR image (any real dtype, any intensity scale).
        raw : ndarray, shape (A * P, Y, X), optional
            Its raw frames in camera counts, angle-major; enables chi^2 and photons, and is
            the reference (mean minus the camera offset) when `reference` is None.
        reference : ndarray, shape (Y, X), optional
            Wide-field reference image.
        map_grid : {"none", "camera", "sr"}
            Which error map to return (the SR-grid map costs a padded blur of the SR image).

        Raises
        ------
        ValueError
            If shapes disagree, an input holds NaN/Inf, or there is no reference.
        """
        grid = self.grid
        image = self._image(sr)
        frames = None if raw is None else self._frames(raw)
        ref = self._reference(reference, frames)
        mean, tapered, spectrum = self._spectrum(image)

        # SQUIRREL on the camera grid: block_mean(G * SR) straight from the SR spectrum.
        inner = grid.interior
        cropped = grid.crop_spectrum(spectrum)
        ref_in = ref[inner]
        sigma = self.sigma_um
        if self.fit_sigma:
            sigma = self._fit_sigma(cropped, ref_in)
            transfer = gaussian_transfer(grid, sigma)
        else:
            transfer = self._blur
        blurred = grid.to_camera(cropped * transfer, self.workers)
        alpha, beta0, rse, rsp = fit_intensity(ref_in, blurred[inner])
        beta = beta0 - alpha * mean  # the fit saw SR - mean

        out_of_band = self._out_of_band(spectrum)
        chi2: tuple[float, ...] = ()
        photons = math.nan
        if frames is not None:
            photons = self._photons(frames)
            if self._resynthesis is not None:
                chi2 = self._chi2(tapered, spectrum, frames)

        record = QualityRecord(
            rse=rse,
            rsp=rsp,
            alpha=alpha,
            beta=beta,
            sigma_um=sigma,
            chi2=chi2,
            out_of_band=out_of_band,
            photons=photons,
            modulation=self.pattern.modulation if self.pattern is not None else (),
            pattern_ok=self.pattern.fit_ok if self.pattern is not None else None,
        )
        error: NDArray[np.float32] | None
        if map_grid == "camera":
            # |reference - (alpha G*SR + beta)| on the camera grid; NaN in the ignored border.
            error = np.full(grid.raw_shape, np.nan, np.float32)
            error[inner] = np.abs(
                ref_in - (np.float32(alpha) * blurred[inner] + np.float32(beta0))
            )
        elif map_grid == "sr":
            sigma_sr = sigma / grid.sr_pixel_um
            rs = np.float32(alpha) * blur_sr(image, sigma_sr, self.workers) + np.float32(beta)
            error = np.abs(grid.upsample_linear(ref) - rs)
        elif map_grid == "none":
            error = None
        else:
            raise ValueError(f"map_grid={map_grid!r}: use 'none', 'camera' or 'sr'")
        return QualityResult(record, error)

    def _reference(
        self, reference: NDArray[np.generic] | None, frames: NDArray[np.generic] | None
    ) -> NDArray[np.float32]:
        """The wide-field reference (Y, X) float32: given, or the raw mean minus the offset."""
        grid = self.grid
        if reference is None:
            if frames is None:
                raise ValueError("give a wide-field reference image or the raw frames")
            ref: NDArray[np.float32] = frames.mean(axis=0, dtype=np.float32) - np.float32(
                self.camera.offset_adu
            )
        else:
            ref = np.asarray(reference, np.float32)
            if ref.shape != grid.raw_shape:
                raise ValueError(
                    f"the wide-field reference has shape {ref.shape}; it must be the camera "
                    f"frame shape {grid.raw_shape} (SR = {grid.scale} x wide-field)"
                )
        if not np.isfinite(ref).all():
            raise ValueError("the wide-field reference holds NaN or Inf values")
        return ref

    def _out_of_band(self, spectrum: NDArray[np.complexfloating]) -> float:
        """Fraction of the SR power (DC excluded) outside the SIM passband; NaN if not set up."""
        if self._oob_weights is None:
            return math.nan
        power = spectrum.real**2 + spectrum.imag**2
        power[0, 0] = 0.0
        total = float(np.sum(power * self._all_weights, dtype=np.float64))
        if total <= 0:
            return math.nan
        return float(np.sum(power * self._oob_weights, dtype=np.float64)) / total

    @single_threaded_blas()
    def chi2(self, sr: NDArray[np.generic], raw: NDArray[np.generic]) -> tuple[float, ...]:
        """Raw re-synthesis chi^2 per orientation of one SR frame, and nothing else.

        The numbers `check` records as ``chi2``, for less work (no SQUIRREL fit, no map): what
        ``--method auto`` compares a network's output with Wiener's by.

        Parameters
        ----------
        sr : ndarray, shape `sr_shape`
            The SR image (any real dtype, any intensity scale).
        raw : ndarray, shape (A * P, Y, X)
            Its raw frames in camera counts, angle-major.

        Raises
        ------
        ValueError
            Without a pattern, or as `check` for shapes and NaN/Inf.
        """
        if self._resynthesis is None:
            raise ValueError("chi^2 needs the illumination pattern: build the checker with one")
        image = self._image(sr)
        frames = self._frames(raw)
        _, tapered, spectrum = self._spectrum(image)
        return self._chi2(tapered, spectrum, frames)

    def _image(self, sr: NDArray[np.generic]) -> NDArray[np.float32]:
        """`sr` as float32, its shape and values checked."""
        grid = self.grid
        image = np.asarray(sr, np.float32)
        if image.shape != grid.sr_shape:
            raise ValueError(
                f"the SR image has shape {image.shape}; with {grid.raw_shape} camera frames at "
                f"x{grid.scale} it must be {grid.sr_shape}"
            )
        if not np.isfinite(image).all():
            raise ValueError("the SR image holds NaN or Inf values: nothing to check")
        return image

    def _frames(self, raw: NDArray[np.generic]) -> NDArray[np.generic]:
        """`raw` as an array, its shape checked against the pattern and the camera frame."""
        grid = self.grid
        frames = np.asarray(raw)
        n = self._resynthesis.n_frames if self._resynthesis is not None else frames.shape[0]
        if frames.shape != (n, *grid.raw_shape):
            raise ValueError(
                f"raw frames have shape {frames.shape}; expected ({n}, {grid.raw_shape[0]}, "
                f"{grid.raw_shape[1]}) (angles x phases frames, angle-major)"
            )
        return frames

    def _spectrum(
        self, image: NDArray[np.float32]
    ) -> tuple[float, NDArray[np.float32], NDArray[np.complex64]]:
        """(mean, tapered mean-free image, its rfft2): what every check starts from."""
        mean = float(image.mean(dtype=np.float64))
        tapered = np.subtract(image, np.float32(mean))
        tapered *= self.grid.window
        return mean, tapered, scipy.fft.rfft2(tapered, workers=self.workers)

    def _chi2(
        self,
        tapered: NDArray[np.float32],
        spectrum: NDArray[np.complex64],
        frames: NDArray[np.generic],
    ) -> tuple[float, ...]:
        """Per-orientation mean of the frames' chi^2 (`frame_chi2`); needs the pattern."""
        assert self._resynthesis is not None and self.pattern is not None
        model = self._resynthesis.model_frames(tapered, spectrum)
        per_frame, _ = frame_chi2(
            model, self._resynthesis.unit_frames, frames, self.camera, self.grid.interior
        )
        return tuple(float(v) for v in per_frame.reshape(-1, self.pattern.n_phases).mean(axis=1))

    def _fit_sigma(self, cropped: NDArray[np.complex64], ref_in: NDArray[np.float32]) -> float:
        grid = self.grid
        inner = grid.interior

        def rse(sigma_um: float) -> float:
            blurred = grid.to_camera(cropped * gaussian_transfer(grid, sigma_um), self.workers)
            return fit_intensity(ref_in, blurred[inner])[2]

        # NanoJ's bounds: 0.5 to 10 reference pixels.
        px = grid.pixel_size_um
        result = minimize_scalar(rse, bounds=(0.5 * px, 10 * px), method="bounded")
        return float(result.x)

    def _photons(self, frames: NDArray[np.generic]) -> float:
        cam = self.camera
        wf = frames.mean(axis=0, dtype=np.float32) - np.float32(cam.offset_adu)
        top = float(np.percentile(wf, 99.9))
        if top <= 0:
            return 0.0
        structure = wf[wf >= 0.2 * top]
        return float(structure.mean()) * cam.gain_e_per_adu / cam.qe
