"""Wiener SIM reconstruction (Gustafsson 2000, fairSIM-like defaults) with cached filters.

Everything that depends only on the parameters and the frame size (band-separation matrices,
the OTF/attenuation weights, the sub-pixel phase ramps, the Wiener denominator and the
apodisation) is built once per (parameters, shape). Per stack the work is: F FFTs of the raw
frames, a small matrix apply, one inverse FFT per angle and positive order on the SR grid, one
real FFT and one inverse real FFT. Band -n is the complex conjugate of band +n for real data, so
each pair costs one FFT (``2 Re``).
"""

from __future__ import annotations

import os
from typing import Any, Literal

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from livesr._blas import single_threaded_blas
from livesr.config import Calibration, OpticsConfig, PatternConfig
from livesr.reconstruct._protocol import ReconstructorInfo

from ._bands import RadialOTF, frequency_radius
from ._calibrate import calibration_parameters
from ._checks import check_stack
from ._estimate import estimate_parameters
from ._params import SIMParameters
from ._wiener_filter import (
    WienerFilters,
    auto_wiener_parameter,
    build_filters,
    set_wiener,
    stack_wiener,
)

__all__ = ["WienerReconstructor", "auto_wiener_parameter"]


class WienerReconstructor:
    """Conventional Wiener SIM on raw counts; implements the `Reconstructor` protocol.

    Parameters
    ----------
    pattern : PatternConfig
        Angles, phases, nominal frequency/modulation and orders (linear: 0, +-1; nonlinear or
        3-beam: 0, +-1, +-2).
    optics : OpticsConfig
        NA, emission wavelength, pixel size.
    channel : str, optional
        Optics channel; the first when None.
    otf : RadialOTF, optional
        Measured OTF (`RadialOTF.from_optics(optics, measured=(radial, dk))`); ideal when None.
    params : SIMParameters, optional
        Fixed parameters; otherwise estimated on the first stack (or via `calibrate`).
    wiener : float, optional
        Wiener parameter w; chosen from the measured signal-to-noise ratio when None.
    scale : int, optional
        Output upsampling; 2 for linear SIM, 3 for nonlinear when None.
    apodization_bend : float
        Exponent of the apodisation ``A = H_ideal(|f| / (kc + n k0))^bend`` (fairSIM 0.9).
    apodization_cutoff : float
        Apodisation support relative to the theoretical ``kc + n_orders k0``.
    attenuation : float
        OTF attenuation strength s in ``1 - s exp(-|q|^2 / 2 sigma^2)`` (0 = off; fairSIM 0.99);
        suppresses out-of-focus light at each band's centre.
    attenuation_fwhm : float
        Width of the attenuation notch as a fraction of the cutoff (fairSIM 1.2/um ~ 0.2 kc).
    search : {"free", "nominal", "calibration"}, optional
        Carrier search mode passed to `estimate_parameters` (default: "calibration" with a
        calibration, else "free").
    per_frame_phases : bool
        Fit each frame's phase during calibration.
    calibration : Calibration, optional
        The instrument's pattern (`livesr calibrate`). The first stack refits phases and
        modulation with k held within 1 %; a rejected orientation uses the calibration's values
        (status "calibration", a `SIMFitWarning`) and reconstruction goes on. This is the mode
        for live acquisition.
    allow_nominal : bool
        Without a calibration, replace a rejected orientation by the nominal `pattern` instead
        of raising `SIMFitError` (only when the pattern is known to be right, e.g. simulated
        data).
    workers : int, optional
        FFT threads (scipy.fft); all cores when None.

    Notes
    -----
    Not thread-safe: one owner thread calls it. Input (N, F, Y, X) raw counts (any real
    dtype), output float32 (N, 1, scale*Y, scale*X) in counts per SR pixel (mean preserved).
    """

    def __init__(
        self,
        pattern: PatternConfig,
        optics: OpticsConfig,
        *,
        channel: str | None = None,
        otf: RadialOTF | None = None,
        params: SIMParameters | None = None,
        wiener: float | None = None,
        scale: int | None = None,
        apodization_bend: float = 0.9,
        apodization_cutoff: float = 1.0,
        attenuation: float = 0.0,
        attenuation_fwhm: float = 0.2,
        search: Literal["free", "nominal", "calibration"] | None = None,
        per_frame_phases: bool = False,
        workers: int | None = None,
        calibration: Calibration | None = None,
        allow_nominal: bool = False,
    ) -> None:
        if wiener is not None and wiener <= 0:
            raise ValueError(f"wiener={wiener} must be positive (typical 0.02-0.5)")
        if not 0.0 <= attenuation < 1.0:
            raise ValueError(f"attenuation={attenuation} must be in [0, 1)")
        self._pattern = pattern
        self._optics = optics
        self._channel = channel
        self._otf = otf or RadialOTF.from_optics(optics, channel)
        self._params = params
        self._wiener = wiener
        self._scale = scale or (3 if pattern.mode == "nonlinear" else 2)
        self._bend = apodization_bend
        self._apo_cutoff = apodization_cutoff
        self._attenuation = attenuation
        self._attenuation_fwhm = attenuation_fwhm
        self._search = search
        self._per_frame_phases = per_frame_phases
        self._calibration = calibration
        self._allow_nominal = allow_nominal
        self._last_wiener: float | None = None
        self._unit_dc = 1.0 + 0j
        self._stacks = 0
        self._workers = workers or os.cpu_count() or 1
        self._cache: WienerFilters | None = None
        self._closed = False

    # -- protocol -----------------------------------------------------------------------------
    @property
    def info(self) -> ReconstructorInfo:
        """Name "wiener", backend "wiener", in_frames F, scale 2 or 3, any frame size, CPU."""
        return ReconstructorInfo(
            name="wiener",
            backend="wiener",
            in_frames=self._pattern.n_frames,
            scale=self._scale,
            precision="fp32",
            device="cpu",
        )

    @property
    def params(self) -> SIMParameters | None:
        """The parameters in use (None until calibrated)."""
        return self._params

    @property
    def wiener(self) -> float | None:
        """The Wiener parameter of the last stack (None until the filters are built)."""
        return self._cache.wiener if self._cache is not None else self._wiener

    def calibrate(self, stack: NDArray[np.generic]) -> SIMParameters:
        """Estimate the parameters (and the Wiener parameter, if automatic) on `stack`.

        Parameters
        ----------
        stack : ndarray, shape (F, Y, X) or (N, F, Y, X)
            Raw frames; several stacks are averaged for the estimate.

        Returns
        -------
        SIMParameters
            Also kept for every later call; the filters are rebuilt.
        """
        self._check_open()
        data = check_stack(stack, self._pattern, "WienerReconstructor.calibrate")
        shape = (int(data.shape[-2]), int(data.shape[-1]))
        cal = self._calibration
        prior = None if cal is None else calibration_parameters(cal, self._channel, shape)
        self._params = estimate_parameters(
            data,
            self._pattern,
            self._optics,
            channel=self._channel,
            otf=self._otf,
            search=self._search,
            prior=prior,
            allow_nominal=self._allow_nominal,
            per_frame_phases=self._per_frame_phases,
            camera_offset=None if cal is None else cal.camera_offset_adu,
            camera_gain=None if cal is None else cal.camera_gain_e_per_adu,
        )
        self._cache = self._build(data.shape[-2:], data)
        return self._params

    def warmup(self) -> None:
        """Build the filters now when parameters and a frame size are known."""
        self._check_open()
        if self._params is not None and self._cache is None and self._wiener is not None:
            self._cache = self._build(self._params.shape, None)

    def __call__(self, stacks: NDArray[np.floating]) -> NDArray[np.float32]:
        """Reconstruct raw stacks, shape (N, F, Y, X) -> float32 (N, 1, sY, sX)."""
        self._check_open()
        data = np.asarray(stacks)
        if data.ndim == 3:
            raise ValueError(
                "WienerReconstructor expects a batch (N, F, Y, X); use stack[None] for one stack"
            )
        data = check_stack(data, self._pattern, "WienerReconstructor", np.float32)
        shape = (int(data.shape[-2]), int(data.shape[-1]))
        if self._params is None:
            self.calibrate(data)
        if self._cache is None or self._cache.shape != shape:
            self._cache = self._build(shape, data)
        self._stacks += len(data)
        with single_threaded_blas():
            return np.stack([self._one(frames) for frames in data])[:, np.newaxis]

    def close(self) -> None:
        """Drop the cached filters."""
        self._cache = None
        self._closed = True

    # -- reporting ----------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """JSON-ready parameters, fit status per orientation, calibration and filter settings.

        ``fit_status`` lists each orientation's status ("ok", "calibration", "nominal"); the
        live pipeline records it per stack in the provenance.
        """
        out: dict[str, Any] = self._params.to_dict() if self._params is not None else {}
        out.update(
            {
                "method": "wiener",
                "wiener": self.wiener,
                "wiener_auto": self._wiener is None,
                "wiener_per_stack": self._wiener is None,
                "fit_status": None if self._params is None else list(self._params.statuses),
                "calibration": None
                if self._calibration is None
                else self._calibration.model_dump(mode="json"),
                "stacks_reconstructed": self._stacks,
                "scale": self._scale,
                "apodization_bend": self._bend,
                "apodization_cutoff": self._apo_cutoff,
                "attenuation": self._attenuation,
                "attenuation_fwhm_fraction_of_cutoff": self._attenuation_fwhm,
                "otf": "ideal" if self._otf.radial is None else "measured",
                "cutoff_per_um": self._otf.cutoff_per_um,
            }
        )
        return out

    # -- internals ----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this WienerReconstructor was closed; create a new one")

    def _build(self, shape: tuple[int, int], data: NDArray[np.floating] | None) -> WienerFilters:
        params = self._params
        assert params is not None
        wiener = self._wiener
        if wiener is None:
            assert data is not None
            frames = data.reshape(-1, *shape)[: self._pattern.n_frames]
            r_small = frequency_radius(shape, params.pixel_size_um)
            wiener = auto_wiener_parameter(
                np.fft.fft2(frames), self._otf(r_small), r_small, self._otf.cutoff_per_um
            )
        cache = build_filters(
            params,
            self._otf,
            shape,
            scale=self._scale,
            wiener=wiener,
            attenuation=self._attenuation,
            attenuation_fwhm=self._attenuation_fwhm,
            apodization_cutoff=self._apo_cutoff,
            apodization_bend=self._bend,
        )
        # Response to a flat stack of ones (computed while `unit` is None, i.e. without the
        # mean removal), added back scaled by each stack's mean; it scales with the filter's
        # DC value when a later stack's own w changes the filter.
        self._cache = cache
        with single_threaded_blas():
            cache.unit = self._one(np.ones((self._pattern.n_frames, *shape), np.float32))
        self._unit_dc = complex(cache.filter[0, 0])
        return cache

    def _one(self, frames: NDArray[np.floating]) -> NDArray[np.float32]:
        cache = self._cache
        assert cache is not None
        s = self._scale
        w = self._workers
        ny, nx = cache.shape
        wy, wx = cache.tall.shape[-2:]
        # Real frames: half-plane spectra suffice; band -n on the half plane gives band +n on
        # the other half by Hermitian symmetry (b_n(-f) = conj(b_-n(f))).
        # The mean goes around the float32 FFTs (linearity: recon(x) = recon(x - m) + m
        # recon(1)): a huge DC bin would otherwise set the round-off floor of every bin,
        # which the Wiener filter amplifies near the support edge.
        level = float(frames.mean()) if cache.unit is not None else 0.0
        spectra = scipy.fft.rfft2(np.subtract(frames, level, dtype=np.float32), workers=w)
        if self._wiener is None and cache.unit is not None:
            # This stack's own noise sets w (a dimmer stack must not inherit a bright one's).
            self._last_wiener = stack_wiener(spectra, cache)
            set_wiener(cache, self._last_wiener)
        spectra *= cache.weights
        flat = spectra.reshape(spectra.shape[0], -1)
        half_x = spectra.shape[-1]
        b0 = (cache.band0 @ flat).reshape(ny, half_x)
        plus = (cache.orders @ flat).reshape(-1, ny, half_x)
        minus = (cache.orders.conj() @ flat).reshape(-1, ny, half_x)
        # Full band spectra, zero-padded along x to the work width (FFT order). Padding stays
        # zero in the cached buffers: only the data regions are written.
        wide = cache.wide
        wide[..., :half_x] = plus
        neg = nx - half_x  # columns with fx < 0 in the raw spectrum
        flip = (-np.arange(ny)) % ny
        wide[..., wx - neg :] = np.conj(minus[:, flip, neg:0:-1])
        # Inverse FFT along x on the Y non-zero rows only, then along y on the padded grid.
        rows_done = scipy.fft.ifft(wide, axis=-1, workers=w)
        tall = cache.tall
        hy = (ny + 1) // 2
        tall[:, :hy] = rows_done[:, :hy]
        tall[:, wy - (ny - hy) :] = rows_done[:, hy:]
        spatial = scipy.fft.ifft(tall, axis=-2, workers=w)
        spatial *= cache.ramps
        total = spatial.real.sum(axis=0)
        total *= 2.0
        spectrum = scipy.fft.rfft2(total, workers=w)
        # Band 0 needs no shift: add it straight into the half-plane spectrum.
        spectrum[:hy, :half_x] += b0[:hy]
        spectrum[wy - (ny - hy) :, :half_x] += b0[hy:]
        spectrum *= cache.filter
        # Zero-pad the band-limited result onto the SR grid.
        out = cache.out
        hw = (wy + 1) // 2
        cols = spectrum.shape[1]
        out[:hw, :cols] = spectrum[:hw]
        out[s * ny - (wy - hw) :, :cols] = spectrum[hw:]
        image: NDArray[np.float32] = scipy.fft.irfft2(out, s=(s * ny, s * nx), workers=w).astype(
            np.float32, copy=False
        )
        if cache.unit is not None:
            gain = (complex(cache.filter[0, 0]) / self._unit_dc).real
            image += np.float32(level * gain) * cache.unit
        return image
