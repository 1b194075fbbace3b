"""The SR grid against the camera grid: band crops, sub-pixel shift, taper, interior.

Convention (that of the simulator's ground truth and of `WienerReconstructor`): SR pixels
subdivide camera pixels, ``scale x scale`` SR pixels per camera pixel, so SR pixel [0, 0] is
centred ``(scale - 1) / (2 scale)`` camera pixels before camera pixel [0, 0]'s centre. SR
samples are treated as point samples of a band-limited density; a camera pixel integrates it
over its area (the box filter ``sinc(f p)``).

Everything that depends only on the shapes is built once, so the per-frame work is FFTs and
element-wise products (no allocation-heavy resampling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
from numpy.typing import NDArray

__all__ = ["SRGrid"]


def _raw_bins(n: int) -> tuple[int, int]:
    """(non-negative, negative) FFT bin counts of an n-point grid, numpy order."""
    pos = (n + 1) // 2
    return pos, n - pos


@dataclass(frozen=True)
class SRGrid:
    """Geometry of one SR frame over its camera frame.

    Attributes
    ----------
    raw_shape : (Y, X)
        Camera frame shape.
    scale : int
        SR pixels per camera pixel along each axis.
    pixel_size_um : float
        Camera pixel size in the sample, um.
    margin_px : int
        Camera pixels at each border that the statistics ignore (taper plus PSF reach).
    taper_px : int
        Camera pixels of the cosine taper that makes the SR image periodic for its FFT.
    """

    raw_shape: tuple[int, int]
    scale: int
    pixel_size_um: float
    margin_px: int
    taper_px: int
    _window: NDArray[np.float32] = field(init=False, repr=False, compare=False)
    _raw_fy: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _raw_fx: NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ny, nx = self.raw_shape
        if self.scale < 1:
            raise ValueError(f"scale={self.scale} must be a positive integer")
        if 2 * self.margin_px >= min(ny, nx) - 4:
            raise ValueError(
                f"a {ny} x {nx} frame is too small for the {self.margin_px}-pixel border the "
                "checks ignore; use frames of at least "
                f"{2 * self.margin_px + 8} pixels"
            )
        s = self.scale
        window = np.outer(_tukey(s * ny, s * self.taper_px), _tukey(s * nx, s * self.taper_px))
        object.__setattr__(self, "_window", window.astype(np.float32))
        object.__setattr__(
            self, "_raw_fy", np.fft.fftfreq(ny, d=self.pixel_size_um)[:, np.newaxis]
        )
        object.__setattr__(
            self, "_raw_fx", np.fft.rfftfreq(nx, d=self.pixel_size_um)[np.newaxis, :]
        )

    # -- shapes -------------------------------------------------------------------------------
    @property
    def sr_shape(self) -> tuple[int, int]:
        """(scale * Y, scale * X)."""
        return (self.scale * self.raw_shape[0], self.scale * self.raw_shape[1])

    @property
    def sr_pixel_um(self) -> float:
        """SR pixel size, um."""
        return self.pixel_size_um / self.scale

    @property
    def delta_um(self) -> float:
        """How far SR pixel [0, 0]'s centre lies before camera pixel [0, 0]'s centre, um."""
        return (self.scale - 1) * self.pixel_size_um / (2 * self.scale)

    @property
    def window(self) -> NDArray[np.float32]:
        """Separable cosine taper on the SR grid (1 inside, 0 at the edge), shape `sr_shape`."""
        return self._window

    @property
    def interior(self) -> tuple[slice, slice]:
        """Camera-grid slices of the pixels the statistics use."""
        m = self.margin_px
        return (slice(m, self.raw_shape[0] - m), slice(m, self.raw_shape[1] - m))

    # -- camera-grid filters ------------------------------------------------------------------
    def raw_frequencies(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(fy (Y, 1), fx (1, X//2+1)) of the camera grid's rfft2 layout, cycles/um."""
        return self._raw_fy, self._raw_fx

    def camera_transfer(self, radial: NDArray[np.float64]) -> NDArray[np.complex64]:
        """`radial` (on the camera rfft grid) x pixel box x the SR-to-camera sub-pixel shift.

        Multiplying a cropped SR spectrum by it and calling `to_camera` gives the camera image
        of the SR density blurred by `radial`. Bins at the camera Nyquist frequency are zeroed
        (the real inverse FFT would fold them).
        """
        fy, fx = self._raw_fy, self._raw_fx
        p = self.pixel_size_um
        shift = np.exp(2j * math.pi * (fy + fx) * self.delta_um)
        out = radial * np.sinc(fy * p) * np.sinc(fx * p) * shift
        ny, nx = self.raw_shape
        if ny % 2 == 0:
            out[ny // 2, :] = 0
        if nx % 2 == 0:
            out[:, -1] = 0
        transfer: NDArray[np.complex64] = out.astype(np.complex64)
        return transfer

    def crop_spectrum(self, spectrum: NDArray[np.complexfloating]) -> NDArray[np.complex64]:
        """The camera grid's bins of an SR-grid rfft2 spectrum, shape (Y, X//2+1)."""
        ny, nx = self.raw_shape
        sy = spectrum.shape[0]
        pos, neg = _raw_bins(ny)
        out = np.empty((ny, nx // 2 + 1), np.complex64)
        out[:pos] = spectrum[:pos, : nx // 2 + 1]
        out[pos:] = spectrum[sy - neg :, : nx // 2 + 1]
        return out

    def to_camera(
        self, cropped: NDArray[np.complexfloating], workers: int = 1
    ) -> NDArray[np.float32]:
        """Inverse FFT of a filtered, cropped SR spectrum onto the camera grid (mean kept)."""
        image = scipy.fft.irfft2(cropped, s=self.raw_shape, workers=workers)
        image *= np.float32(1.0 / self.scale**2)
        out: NDArray[np.float32] = image.astype(np.float32, copy=False)
        return out

    # -- resampling ---------------------------------------------------------------------------
    def block_mean(self, sr: NDArray[np.floating]) -> NDArray[np.float32]:
        """Mean of each camera pixel's ``scale x scale`` SR pixels, shape (Y, X)."""
        ny, nx = self.raw_shape
        s = self.scale
        out: NDArray[np.float32] = (
            np.asarray(sr, np.float32).reshape(ny, s, nx, s).mean(axis=(1, 3), dtype=np.float32)
        )
        return out

    def upsample_linear(self, raw: NDArray[np.floating]) -> NDArray[np.float32]:
        """Bilinear interpolation of a camera image at the SR pixel centres, shape `sr_shape`."""
        image = np.asarray(raw, np.float32)
        for axis in (0, 1):
            n = image.shape[axis]
            pos = (np.arange(self.scale * n) + 0.5) / self.scale - 0.5
            lo = np.clip(np.floor(pos).astype(np.intp), 0, n - 1)
            hi = np.clip(lo + 1, 0, n - 1)
            w = np.clip(pos - lo, 0.0, 1.0).astype(np.float32)
            shape = [1, 1]
            shape[axis] = -1
            w = w.reshape(shape)
            image = np.take(image, lo, axis=axis) * (1 - w) + np.take(image, hi, axis=axis) * w
        return image


def _tukey(n: int, taper: int) -> NDArray[np.float64]:
    """1 in the middle, a raised-cosine ramp over `taper` samples at each end (0 outside)."""
    w = np.ones(n)
    if taper > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(taper) + 0.5) / taper)
        w[:taper] = ramp
        w[n - taper :] = ramp[::-1]
    return w
