from __future__ import annotations

import numpy as np
import pytest

from livesr.config import CameraConfig
from livesr.simulate import SIGNAL_LEVELS, camera_adu, level_photons


@pytest.mark.parametrize("method", ["poisson", "fast"])
@pytest.mark.parametrize("photons", [3.0, 40.0, 600.0])
def test_flat_field_mean_and_variance_follow_the_scmos_model(method: str, photons: float) -> None:
    camera = CameraConfig(qe=0.8, read_noise_e=1.5, offset_adu=100, gain_e_per_adu=0.46)
    adu = camera_adu(np.full((400, 500), photons), camera, np.random.default_rng(0), method)
    assert adu.dtype == np.uint16
    electrons = camera.qe * photons
    expected_mean = camera.offset_adu + electrons / camera.gain_e_per_adu
    # Poisson shot noise + Gaussian read noise, in ADU, plus the rounding to integers.
    expected_var = (electrons + camera.read_noise_e**2) / camera.gain_e_per_adu**2 + 1 / 12
    values = adu.astype(np.float64)
    assert values.mean() == pytest.approx(expected_mean, rel=0.005)
    assert values.var() == pytest.approx(expected_var, rel=0.03)


def test_poisson_noise_is_skewed_like_photon_counting() -> None:
    camera = CameraConfig(read_noise_e=0.0, gain_e_per_adu=1.0, offset_adu=0.0, qe=1.0)
    for method in ("poisson", "fast"):
        e = camera_adu(np.full(200_000, 4.0), camera, np.random.default_rng(1), method)
        e = e.astype(np.float64)
        skew = ((e - e.mean()) ** 3).mean() / e.std() ** 3
        assert skew == pytest.approx(1 / np.sqrt(4.0), abs=0.08), method


def test_counts_clip_at_the_bit_depth() -> None:
    camera = CameraConfig(bit_depth=12)
    adu = camera_adu(np.full((8, 8), 1e6), camera, np.random.default_rng(0))
    assert adu.max() == 4095


def test_unknown_noise_method_is_refused() -> None:
    with pytest.raises(ValueError, match="poisson"):
        camera_adu(np.ones(4), CameraConfig(), np.random.default_rng(0), "gaussian")  # type: ignore[arg-type]


def test_nine_geometric_signal_levels_from_15_to_600() -> None:
    assert len(SIGNAL_LEVELS) == 9
    assert SIGNAL_LEVELS[0] == 15.0 and SIGNAL_LEVELS[-1] == 600.0
    ratios = np.diff(np.log(SIGNAL_LEVELS))
    assert np.allclose(ratios, ratios[0], atol=0.01)
    assert level_photons(1) == 15.0
    with pytest.raises(ValueError, match=r"1 \(15 photons\) to 9"):
        level_photons(10)
