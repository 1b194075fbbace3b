"""The real 3-beam SIM data of Jin et al. 2020 (``shared/data/sim``) as the tests use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from livesr.config import OpticsConfig, PatternConfig

JIN = Path("sim/jin2020_dlsim_microtubule")


def raw_sampling(frames: np.ndarray, factor: int = 2) -> np.ndarray:
    """Undo the Jin data's 2x bicubic upsampling: keep only the raw camera band."""
    n = frames.shape[-1] // factor
    spectrum = np.fft.fft2(frames.astype(np.float64))
    h = n // 2
    kept = np.zeros((*frames.shape[:-2], n, n), complex)
    kept[..., :h, :h] = spectrum[..., :h, :h]
    kept[..., :h, -h:] = spectrum[..., :h, -h:]
    kept[..., -h:, :h] = spectrum[..., -h:, :h]
    kept[..., -h:, -h:] = spectrum[..., -h:, -h:]
    return np.fft.ifft2(kept).real / factor**2


# 3-beam data: orders 0, +-1, +-2; the WF cut-off is ~30 cycles per 256-px field, i.e.
# 30 cycles per 128 raw pixels. NA/wavelength are not published with the data, so the pixel
# size is chosen to put the cutoff there.
JIN_PATTERN = PatternConfig(
    n_angles=3, n_phases=5, k0_fraction=0.52, angle_offset_deg=15, nonlinear_harmonics=(0.3,)
)
JIN_OPTICS = OpticsConfig.single(na=1.49, wavelength_um=0.525, pixel_size_um=30 / 128 / 5.676)
