from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from jin_data import JIN, JIN_OPTICS, JIN_PATTERN, raw_sampling

from livesr.config import OpticsConfig, PatternConfig
from livesr.io import read_stack
from livesr.reconstruct import SIMFitError, SIMFitWarning, SIMParameters, estimate_parameters
from livesr.simulate import simulate_sample


@pytest.fixture(scope="module")
def linear_sample() -> tuple[np.ndarray, dict]:
    sample = simulate_sample("microtubules", size=128, level=9, seed=11)
    return sample.raw[0], sample.params


@pytest.mark.parametrize("light", ["high", "low"])
def test_finds_the_three_carriers_of_real_3beam_data(shared_data: Path, light: str) -> None:
    folder = shared_data / JIN / f"raw_{light}_light"
    frames = raw_sampling(read_stack(folder).data[:15])
    params = estimate_parameters(frames, JIN_PATTERN, JIN_OPTICS, search="free")
    field_um = 128 * JIN_OPTICS.pixel_size_um
    magnitudes = np.hypot(*params.k_per_um.T) * field_um
    # README: (ky, kx) = (4, 15), (-11, 11), (15, 4); |k1| = 15.5 cycles per field.
    np.testing.assert_allclose(magnitudes, 15.5, atol=0.3)
    angles = np.degrees(np.arctan2(*params.k_per_um.T)) % 180
    gaps = np.diff(np.sort(angles))
    np.testing.assert_allclose(gaps, 60, atol=1.5)
    assert params.modulation[:, 0].min() > 0.3
    report = params.to_dict()
    assert len(report["angles"]) == 3
    assert report["angles"][0]["k_cycles_per_field"][1] == pytest.approx(15.1, abs=0.5)


def test_subpixel_k_phase_and_modulation_on_simulated_sim(
    linear_sample: tuple[np.ndarray, dict],
) -> None:
    raw, truth = linear_sample
    optics = OpticsConfig.model_validate(truth["optics"])
    pattern = PatternConfig.model_validate(truth["pattern"])
    params = estimate_parameters(raw, pattern, optics)
    assert params.ok
    frequency_pixel = 1.0 / (128 * optics.pixel_size_um)
    error = np.abs(params.k_per_um - np.asarray(truth["k_vectors_per_um"])) / frequency_pixel
    assert error.max() < 0.05
    # The simulator uses the nominal phases, so the fitted global phase is ~0.
    wrapped = np.angle(np.exp(1j * params.phase_offsets))
    assert np.abs(wrapped).max() < 0.25
    assert np.all((params.modulation > 0.6) & (params.modulation < 0.9))


def test_per_frame_phases_match_the_equidistant_steps(
    linear_sample: tuple[np.ndarray, dict],
) -> None:
    raw, truth = linear_sample
    optics = OpticsConfig.model_validate(truth["optics"])
    pattern = PatternConfig.model_validate(truth["pattern"])
    params = estimate_parameters(raw, pattern, optics, per_frame_phases=True)
    steps = np.angle(np.exp(1j * np.diff(params.frame_phases, axis=1)))
    np.testing.assert_allclose(steps, 2 * math.pi / 3, atol=0.2)


def test_noise_is_rejected_with_one_line_naming_orientation_score_and_fix() -> None:
    rng = np.random.default_rng(0)
    noise = rng.poisson(100, size=(9, 96, 96)).astype(np.uint16)
    pattern, optics = PatternConfig.linear(), OpticsConfig()
    with pytest.raises(SIMFitError, match=r"orientation \d.*confidence.*--calibration") as err:
        estimate_parameters(noise, pattern, optics)
    assert "\n" not in str(err.value)


def test_nominal_fallback_only_when_allowed_and_recorded() -> None:
    rng = np.random.default_rng(1)
    noise = rng.poisson(100, size=(9, 96, 96)).astype(np.uint16)
    pattern, optics = PatternConfig.linear(), OpticsConfig()
    with pytest.warns(SIMFitWarning, match="nominal pattern"):
        params = estimate_parameters(noise, pattern, optics, allow_nominal=True)
    nominal = SIMParameters.nominal(pattern, optics, (96, 96))
    np.testing.assert_array_equal(params.k_per_um, nominal.k_per_um)
    assert not params.ok
    assert set(params.statuses) == {"nominal"}


def test_k_far_from_nominal_is_rejected(linear_sample: tuple[np.ndarray, dict]) -> None:
    raw, truth = linear_sample
    optics = OpticsConfig.model_validate(truth["optics"])
    # 10 % too low: the nominal window (5 %) does not hold the carrier.
    wrong = PatternConfig.model_validate({**truth["pattern"], "k0_fraction": 0.81})
    with pytest.raises(SIMFitError, match="orientation 0"):
        estimate_parameters(raw, wrong, optics, search="nominal")


def test_bad_stacks_are_rejected_with_the_fix() -> None:
    pattern, optics = PatternConfig.linear(), OpticsConfig()
    good = np.ones((9, 32, 32), np.float32)
    with pytest.raises(ValueError, match=r"3 angles x 3 phases = 9.*--angles/--phases"):
        estimate_parameters(good[:8], pattern, optics)
    nan = good.copy()
    nan[3, 4, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        estimate_parameters(nan, pattern, optics)
    empty = good.copy()
    empty[5] = 0
    with pytest.raises(ValueError, match="frame 5 is all zeros"):
        estimate_parameters(empty, pattern, optics)


def test_parameters_round_trip_through_their_json_record() -> None:
    sample = simulate_sample("er", size=128, photons=300, seed=3)
    params = estimate_parameters(
        sample.raw[0], PatternConfig(), OpticsConfig(), allow_nominal=True
    )
    again = SIMParameters.from_dict(json.loads(json.dumps(params.to_dict())))
    np.testing.assert_array_equal(again.k_per_um, params.k_per_um)
    np.testing.assert_array_equal(again.frame_phases, params.frame_phases)
    np.testing.assert_array_equal(again.factors, params.factors)
    assert again.shape == params.shape and [f.status for f in again.fits] == [
        f.status for f in params.fits
    ]
    with pytest.raises(ValueError, match="not a complete SIM parameter record"):
        SIMParameters.from_dict({"angles": [{"k_per_um": [1.0, 0.0]}]})
