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
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from livesr.config import OpticsConfig, PatternConfig
from livesr.optics import ideal_otf_radial
from livesr.reconstruct._protocol import ReconstructorInfo

from ._bands import RadialOTF, frequency_radius, separation_matrix
from ._checks import check_stack
from ._estimate import SIMParameters, estimate_parameters

__all__ = ["WienerReconstructor", "auto_wiener_parameter"]


def auto_wiener_parameter(
    spectra: NDArray[np.complexfloating],
    otf_small: NDArray[np.float64],
    radius: NDArray[np.float64],
    cutoff: float,
) -> float:
    """Wiener parameter from the measured noise-to-signal ratio of the raw spectra.

    The noise floor is the median power just beyond the OTF support (only noise lives there),
    the signal the mean power at 0.2-0.5 x cutoff minus that floor; with
    ``r = sqrt(noise / signal)``, ``w = 0.05 + 1.5 r`` clipped to [0.03, 1.5]. The rule was
    fitted on simulated linear SIM (microtubules, CCPs, ER, F-actin, signal levels 1-9) as a
    compromise between the NRMSE-optimal w (about 0.15 at high signal, 0.5 at level 1) and the
    decorrelation resolution, which prefers small w (about 0.1 at high signal).

    Parameters
    ----------
    spectra : ndarray, complex, shape (F, Y, X)
        FFTs of the raw frames.
    otf_small : ndarray, float, shape (Y, X)
        OTF on the same grid.
    radius : ndarray, float, shape (Y, X)
        |f| on the same grid, cycles per um.
    cutoff : float
        OTF cutoff, cycles per um.
    """
    power = np.mean(np.abs(spectra) ** 2, axis=0)
    # Just beyond the support: the far corners can be empty of noise too (interpolated data).
    outside = (radius > 1.05 * cutoff) & (radius < 1.5 * cutoff) & (otf_small == 0)
    if not outside.any():
        return 0.2
    noise = float(np.median(power[outside]))
    ring = (radius > 0.2 * cutoff) & (radius < 0.5 * cutoff)
    signal = float(np.mean(power[ring])) - noise
    if signal <= 0:
        return 1.5
    return float(np.clip(0.05 + 1.5 * np.sqrt(noise / signal), 0.03, 1.5))


@dataclass
class _Cache:
    shape: tuple[int, int]
    weights: NDArray[np.float32]  # (Y, X) OTF x attenuation applied to every band
    band0: NDArray[np.complex64]  # (F,) weights of frames into the sum of order-0 bands
    orders: NDArray[np.complex64]  # (A * n_orders, F) weights of frames into bands +n
    ramps: NDArray[np.complex64]  # (A * n_orders, wY, wX) on the work grid
    filter: NDArray[np.complex64]  # (wY, wX // 2 + 1) s^2 A / (den + w^2) x sub-pixel shift
    wiener: float
    wide: NDArray[np.complex64]  # (A * n_orders, Y, wX) work buffer, zero padding kept
    tall: NDArray[np.complex64]  # (A * n_orders, wY, wX) work buffer, zero padding kept
    out: NDArray[np.complex64]  # (sY, sX // 2 + 1) SR half spectrum, zero padding kept
    unit: NDArray[np.float32] | None = None  # (sY, sX) response to frames of all ones


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
    search : {"nominal", "free"}
        Carrier search mode passed to `estimate_parameters`.
    per_frame_phases : bool
        Fit each frame's phase during calibration.
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
        search: Literal["nominal", "free"] = "nominal",
        per_frame_phases: bool = False,
        workers: int | None = None,
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
        self._search: Literal["nominal", "free"] = search
        self._per_frame_phases = per_frame_phases
        self._workers = workers or os.cpu_count() or 1
        self._cache: _Cache | None = None
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
        """The Wiener parameter in use (None until the filters are built)."""
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
        self._params = estimate_parameters(
            data,
            self._pattern,
            self._optics,
            channel=self._channel,
            otf=self._otf,
            search=self._search,
            per_frame_phases=self._per_frame_phases,
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
        return np.stack([self._one(frames) for frames in data])[:, np.newaxis]

    def close(self) -> None:
        """Drop the cached filters."""
        self._cache = None
        self._closed = True

    # -- reporting ----------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """JSON-ready parameters, fit quality and filter settings."""
        out: dict[str, Any] = self._params.to_dict() if self._params is not None else {}
        out.update(
            {
                "method": "wiener",
                "wiener": self.wiener,
                "wiener_auto": self._wiener is None,
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

    def _build(self, shape: tuple[int, int], data: NDArray[np.floating] | None) -> _Cache:
        params = self._params
        assert params is not None
        s = self._scale
        px = self._optics.pixel_size_um
        big = (s * shape[0], s * shape[1])
        kc = self._otf.cutoff_per_um
        n_orders = params.n_orders
        sigma = self._attenuation_fwhm * kc / 2.355

        def weight(radius: NDArray[np.float64]) -> NDArray[np.float64]:
            h = self._otf(radius)
            if self._attenuation > 0:
                h = h * (1.0 - self._attenuation * np.exp(-(radius**2) / (2 * sigma**2)))
            return h

        r_small = frequency_radius(shape, px)
        weights = weight(r_small)
        wiener = self._wiener
        if wiener is None:
            assert data is not None
            frames = data.reshape(-1, *shape)[: self._pattern.n_frames]
            wiener = auto_wiener_parameter(np.fft.fft2(frames), self._otf(r_small), r_small, kc)

        n_frames = self._pattern.n_frames
        p = self._pattern.n_phases
        band0 = np.zeros(n_frames, dtype=np.complex128)
        orders = np.zeros((params.n_angles * n_orders, n_frames), dtype=np.complex128)
        k0 = float(np.mean(np.hypot(*params.k_per_um.T)))
        apo_radius = self._apo_cutoff * (kc + n_orders * k0)
        # Work grid: the shifted bands and the Wiener filter only need a Nyquist above the
        # apodised support (kc + n k0), usually well below the SR grid's, so they are
        # computed on a smaller FFT-friendly grid (never below the raw grid, which holds the
        # bands) and zero-padded onto the SR grid at the end.
        fmax = max(apo_radius, kc + n_orders * float(np.max(np.hypot(*params.k_per_um.T))))
        work = tuple(
            min(s * n, max(n, scipy.fft.next_fast_len(int(np.ceil(2 * n * px * fmax * 1.03)) + 2)))
            for n in shape
        )
        spacing = (shape[0] * px / work[0], shape[1] * px / work[1])
        ramps = np.empty((params.n_angles * n_orders, *work), dtype=np.complex64)
        # Half-plane of the work grid: rfft2 layout (wY, wX // 2 + 1).
        fy = np.fft.fftfreq(work[0], d=spacing[0])[:, None]
        fx = np.fft.rfftfreq(work[1], d=spacing[1])[None, :]
        denominator = np.zeros((work[0], fx.shape[1]))
        for d in range(params.n_angles):
            # Separate with the fitted phases but unit modulation, so band n carries m_n H:
            # its Wiener weight is m_n H and its denominator term m_n^2 |H|^2. A weak order
            # (low m, e.g. the second order of 3-beam data at low light) is then down-weighted
            # instead of being divided by a small, noisy m and amplifying noise.
            mods = np.abs(params.factors[d])
            sep = separation_matrix(
                params.frame_phases[d], np.exp(1j * np.angle(params.factors[d]))
            )
            band0[d * p : (d + 1) * p] = sep[0]
            k = params.k_per_um[d]
            denominator += weight(np.hypot(fy, fx)) * self._otf(np.hypot(fy, fx))
            for n in range(1, n_orders + 1):
                row = d * n_orders + n - 1
                orders[row, d * p : (d + 1) * p] = mods[n - 1] * sep[2 * n - 1]
                ry = np.exp(-2j * np.pi * n * k[0] * np.arange(work[0]) * spacing[0])
                rx = np.exp(-2j * np.pi * n * k[1] * np.arange(work[1]) * spacing[1])
                ramps[row] = np.outer(ry, rx).astype(np.complex64)
                for sign in (1, -1):
                    r = np.hypot(fy + sign * n * k[0], fx + sign * n * k[1])
                    denominator += mods[n - 1] ** 2 * weight(r) * self._otf(r)
        apodization = ideal_otf_radial(np.hypot(fy, fx) / apo_radius) ** self._bend
        # SR pixels subdivide raw pixels (as the ground truth and pixel-shuffle networks do):
        # SR pixel [0, 0] is centred (s - 1) / (2 s) raw pixels before raw pixel [0, 0]'s
        # centre, so the output is resampled by that sub-pixel shift in the same filter.
        delta = (s - 1) * px / (2 * s)
        shift = np.exp(-2j * np.pi * (fy + fx) * delta)
        filt = (s * s) * apodization / (denominator + wiener**2) * shift
        cache = _Cache(
            shape=shape,
            weights=weights[:, : shape[1] // 2 + 1].astype(np.float32),
            band0=band0.astype(np.complex64),
            orders=orders.astype(np.complex64),
            ramps=ramps,
            filter=filt.astype(np.complex64),
            wiener=float(wiener),
            wide=np.zeros((len(orders), shape[0], work[1]), dtype=np.complex64),
            tall=np.zeros((len(orders), *work), dtype=np.complex64),
            out=np.zeros((big[0], big[1] // 2 + 1), dtype=np.complex64),
        )
        # Response to a flat stack of ones (computed while `unit` is None, i.e. without the
        # mean removal), added back scaled by each stack's mean.
        self._cache = cache
        cache.unit = self._one(np.ones((self._pattern.n_frames, *shape), np.float32))
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
            image += np.float32(level) * cache.unit
        return image
