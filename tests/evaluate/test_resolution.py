from __future__ import annotations

import numpy as np
import pytest

from livesr.evaluate import decorrelation_analysis, decorrelation_resolution, frc
from livesr.optics import ideal_otf


def band_limited_scene(
    cutoff_fraction: float, noise: float, seed: int, size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Random point scene blurred by an ideal OTF with cutoff `cutoff_fraction` x Nyquist."""
    rng = np.random.default_rng(seed)
    points = (rng.random((size, size)) > 0.995).astype(float) * 100
    # pixel 1, NA/lambda chosen so that 2 NA / lambda = cutoff_fraction * 0.5 cycles/px
    otf = ideal_otf((size, size), 1.0, na=cutoff_fraction * 0.5 / 2, wavelength_um=1.0)
    clean = np.real(np.fft.ifft2(np.fft.fft2(points) * otf)) + 10
    noise_rng = np.random.default_rng(seed + 1000)
    return clean + noise_rng.normal(0, noise, clean.shape), clean


def test_decorrelation_tracks_the_band_limit() -> None:
    sharp, _ = band_limited_scene(0.8, 0.05, seed=1)
    blurred, _ = band_limited_scene(0.4, 0.05, seed=1)
    res_sharp = decorrelation_analysis(sharp, pixel_size=100.0)
    res_blurred = decorrelation_resolution(blurred, pixel_size=100.0)
    # Theory: 2 px / cutoff -> 250 nm and 500 nm at 100 nm pixels; decorrelation reads a bit
    # lower than the hard cutoff because the OTF falls to zero gradually.
    assert 250 <= res_sharp.resolution <= 400
    assert 500 <= res_blurred <= 800
    assert res_blurred / res_sharp.resolution == pytest.approx(2.0, rel=0.25)
    assert res_sharp.curve.shape == res_sharp.radii.shape


def test_decorrelation_gets_worse_with_noise() -> None:
    clean, _ = band_limited_scene(0.8, 0.01, seed=2)
    noisy, _ = band_limited_scene(0.8, 1.0, seed=2)
    assert decorrelation_resolution(noisy) > decorrelation_resolution(clean)
    # Noise that buries the signal leaves no peak at all.
    buried, _ = band_limited_scene(0.8, 4.0, seed=2)
    assert decorrelation_resolution(buried) == float("inf")


def test_frc_of_two_noise_realisations() -> None:
    a, clean = band_limited_scene(0.6, 0.2, seed=3)
    b = clean + np.random.default_rng(99).normal(0, 0.2, clean.shape)
    result = frc(a, b, pixel_size=100.0)
    # Band limit 0.3 cycles/px -> 333 nm; noise makes FRC cross a little earlier.
    assert 333 <= result.resolution_half_bit <= 600
    assert result.resolution_one_seventh <= result.resolution_half_bit * 1.05
    assert result.curve[1] > 0.9
    # Independent pure noise does not correlate.
    rng = np.random.default_rng(5)
    noise = frc(rng.normal(size=(128, 128)), rng.normal(size=(128, 128)))
    assert noise.resolution_half_bit > 10


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="2D image"):
        decorrelation_analysis(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="one shape"):
        frc(np.zeros((16, 16)), np.zeros((16, 17)))
