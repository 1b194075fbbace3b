"""Ground truth: what an ideal, noise-free SIM delivers.

The specimen density band-limited by the ideal incoherent OTF whose cutoff is the SIM passband
``kc + n_orders k0``, on the SR grid. Rendered directly from the analytic specimen at the SR
pixel size, so it is exact at any scale.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft as sfft
from numpy.typing import NDArray

from livesr.optics import ideal_otf_radial

from ._specimen import Specimen

__all__ = ["band_limited_density"]


def band_limited_density(
    specimen: Specimen,
    t: float,
    *,
    shape: tuple[int, int],
    pixel_size_um: float,
    scale: int,
    pad: tuple[int, int],
    padded_shape: tuple[int, int],
    passband_per_um: float,
    prefilter_um: float,
) -> NDArray[np.float32]:
    """The specimen band-limited to `passband_per_um`, sampled at ``pixel_size_um / scale``.

    Parameters
    ----------
    specimen : Specimen
        The specimen.
    t : float
        Specimen time in seconds.
    shape : (Y, X)
        Camera frame size; the output is ``(scale * Y, scale * X)``.
    pixel_size_um : float
        Camera pixel size in the sample; camera pixel [0, 0] covers ``[0, p)``.
    scale : int
        SR factor.
    pad, padded_shape
        Camera pixels of padding on each side (y, x) and the padded camera size: the filter is
        applied on the padded field so the periodic FFT does not wrap light across the edges.
    passband_per_um : float
        Cutoff of the ideal incoherent OTF that defines the SIM passband.
    prefilter_um : float
        Gaussian pre-blur of the rendering (anti-alias), divided out inside the passband.

    Returns
    -------
    ndarray, float32, shape (scale * Y, scale * X)
        Density units; SR pixel [0, 0] covers ``[0, p / scale)`` of the field.
    """
    s, p = scale, pixel_size_um
    grid = (s * padded_shape[0], s * padded_shape[1])
    ps = p / s
    origin = (ps / 2 - pad[0] * p, ps / 2 - pad[1] * p)
    density = specimen.density(t, grid, ps, origin_um=origin, blur_um=prefilter_um)
    qy = np.fft.fftfreq(grid[0], ps)[:, None]
    qx = np.fft.rfftfreq(grid[1], ps)[None, :]
    q2 = qy**2 + qx**2
    filt = ideal_otf_radial(np.sqrt(q2) / passband_per_um) * np.exp(
        2 * math.pi**2 * prefilter_um**2 * q2
    )
    filt[q2 >= passband_per_um**2] = 0.0
    gt = sfft.irfft2(sfft.rfft2(density, workers=2) * filt, s=grid, workers=2)
    (py, px), (ny, nx) = pad, shape
    return np.ascontiguousarray(gt[s * py : s * (py + ny), s * px : s * (px + nx)], np.float32)
