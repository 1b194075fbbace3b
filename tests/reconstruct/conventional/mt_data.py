"""MT.mrc (rDL-SIM authors, real 3x3 2D-SIM) and the instrument parameters the tests use.

Instrument (shared/reference/dfcan.md section 4, from the rDL-SIM code qc17-THU/rDL-SIM@8d370cd,
``src/sim_fitting``): 62.6 nm pixels, pattern from excitation NA 1.35 at 488 nm, so
k0 = 2 x 1.35 / 0.488 = 5.533 cycles/um; preset orientations of "setup 0" 1.48, 2.5272,
3.5744 rad = 84.8, 144.8, 204.8 deg; measured 488 nm OTF ``TIRF488_cam1_0_z30_OTF2d.mrc``.
Detection: 100x/1.49 oil objective (DFCAN paper, dfcan.md; the measured OTF reaches about
5.6/um, which only NA ~1.49 at ~525 nm emission allows), emission taken as 0.525 um.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from livesr.config import OpticsConfig, PatternConfig
from livesr.io import read_otf, read_stack
from livesr.reconstruct import RadialOTF

MT = Path("dlsr/rDL-SIM/data_test/rDL-SIM/Microtubules/MT.mrc")
MT_OTF = Path("dlsr/rDL-SIM/src/sim_fitting/OTF/TIRF488_cam1_0_z30_OTF2d.mrc")
MT_OPTICS = OpticsConfig.single(na=1.49, wavelength_um=0.525, pixel_size_um=0.0626)
MT_NOMINAL = PatternConfig(
    n_angles=3, n_phases=3, k0_per_um=2 * 1.35 / 0.488, k0_fraction=None, angle_offset_deg=84.8
)


def load_mt(shared: Path) -> tuple[np.ndarray, RadialOTF]:
    """The 9 raw frames (uint16) and the measured OTF."""
    otf = read_otf(shared / MT_OTF)
    return read_stack(shared / MT).data, RadialOTF.from_optics(
        MT_OPTICS, measured=(otf.radial, otf.dk_per_um)
    )


def stripe_score(sr: np.ndarray, k_per_um: np.ndarray, sr_pixel_um: float) -> float:
    """Worst peak of |FFT(sr)| at +-k over the median of its neighbourhood (3-8 pixels away).

    A stripe artefact is a cosine at a carrier frequency: an isolated spectral peak there.
    A clean reconstruction has no more at +-k than around it (score ~1-2).
    """
    n = sr.shape[-1]
    spectrum = np.abs(np.fft.fft2(sr - sr.mean()))
    f = np.fft.fftfreq(n, sr_pixel_um)
    df = 1.0 / (n * sr_pixel_um)
    worst = 0.0
    for k in np.asarray(k_per_um):
        for sign in (1, -1):
            d = np.hypot(f[:, None] - sign * k[0], f[None, :] - sign * k[1])
            peak = float(spectrum[d < 1.5 * df].max())
            worst = max(worst, peak / float(np.median(spectrum[(d > 3 * df) & (d < 8 * df)])))
    return worst


def wave_vectors(magnitude: float, angles_deg: tuple[float, ...]) -> np.ndarray:
    """(ky, kx) of each orientation."""
    return np.array(
        [
            (magnitude * math.sin(math.radians(a)), magnitude * math.cos(math.radians(a)))
            for a in angles_deg
        ]
    )
