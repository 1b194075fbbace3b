from __future__ import annotations

import numpy as np
import pytest

from livesr import OpticsConfig, PatternConfig
from livesr.optics import ideal_otf, pattern_phases, pattern_wavevectors, psf_from_otf


def test_ideal_otf_is_one_at_dc_and_zero_beyond_cutoff() -> None:
    otf = ideal_otf((128, 128), 0.0626, na=1.49, wavelength_um=0.525)
    assert otf[0, 0] == pytest.approx(1.0)
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(128, 0.0626), np.fft.fftfreq(128, 0.0626)))
    assert np.all(otf[k > 2 * 1.49 / 0.525] == 0)
    assert np.all(otf[k < 2 * 1.49 / 0.525 * 0.99] > 0)


def test_psf_fwhm_matches_abbe() -> None:
    psf = psf_from_otf(ideal_otf((256, 256), 0.02, na=1.4, wavelength_um=0.5))
    row = psf[128]
    above = np.flatnonzero(row >= row.max() / 2)
    fwhm_um = (above[-1] - above[0] + 1) * 0.02
    # Airy FWHM = 0.51 lambda / NA = 0.182 um
    assert fwhm_um == pytest.approx(0.51 * 0.5 / 1.4, abs=0.03)


def test_wavevectors_are_evenly_spaced_at_k0() -> None:
    pattern = PatternConfig(angle_offset_deg=10.0)
    optics = OpticsConfig()
    k = pattern_wavevectors(pattern, optics, "488")
    assert np.hypot(k[:, 0], k[:, 1]) == pytest.approx([0.9 * optics.cutoff_per_um("488")] * 3)
    angles = np.degrees(np.arctan2(k[:, 0], k[:, 1]))
    assert angles == pytest.approx([10.0, 70.0, 130.0])
    assert pattern_phases(pattern) == pytest.approx([0, 2 * np.pi / 3, 4 * np.pi / 3])
