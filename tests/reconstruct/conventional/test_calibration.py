"""Calibration file, refit against it, no silent fallback, and the simulated-microscope sweep."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sweep_cases import STRUCTURES, random_microscope, run_case
from typer.testing import CliRunner

from livesr.cli import app
from livesr.config import Calibration, PatternConfig
from livesr.reconstruct import SIMFitWarning, WienerReconstructor
from livesr.reconstruct.conventional import calibrate
from livesr.simulate import simulate_sample


@pytest.fixture(scope="module")
def microscope() -> tuple:
    optics, pattern, offsets = random_microscope(424242)
    sample = simulate_sample(
        "f-actin",
        size=128,
        level=8,
        seed=77,
        timepoints=3,
        optics=optics,
        pattern=pattern,
        phase_offsets=list(offsets),
    )
    return optics, pattern, sample


def test_calibration_pools_stacks_and_round_trips_yaml(microscope: tuple, tmp_path: Path) -> None:
    optics, _, sample = microscope
    cal, params = calibrate(sample.raw, PatternConfig.linear(), optics, channel="default")
    truth = np.asarray(sample.params["k_vectors_per_um"])
    err = np.abs(np.hypot(*params.k_per_um.T) / np.hypot(*truth.T) - 1)
    assert params.ok and err.max() < 0.01
    path = tmp_path / "cal.yaml"
    cal.to_yaml(path)
    again = Calibration.from_file(path)
    assert again == cal
    assert (
        again.channel("default").orientations[0].k_per_um
        == cal.channels["default"].orientations[0].k_per_um
    )


def test_rejected_refit_falls_back_to_the_calibration_and_is_reported(microscope: tuple) -> None:
    optics, _, sample = microscope
    cal, _ = calibrate(sample.raw, PatternConfig.linear(), optics)
    rng = np.random.default_rng(3)
    noise = rng.poisson(50, size=(1, 9, 128, 128)).astype(np.float32)
    rec = WienerReconstructor(PatternConfig.linear(), optics, calibration=cal)
    with pytest.warns(SIMFitWarning, match="using the calibration"):
        out = rec(noise)
    assert out.shape == (1, 1, 256, 256)
    report = rec.report()
    assert report["fit_status"] == ["calibration"] * 3
    assert report["calibration"]["channels"]
    # A good stack refits phases/modulation, k held near the calibration.
    good = WienerReconstructor(PatternConfig.linear(), optics, calibration=cal)
    good(sample.raw[1:2].astype(np.float32))
    assert good.report()["fit_status"] == ["ok"] * 3


def test_per_stack_wiener_parameter_follows_the_noise(microscope: tuple) -> None:
    optics, pattern, sample = microscope
    dim = simulate_sample("f-actin", size=128, level=1, seed=77, optics=optics, pattern=pattern)
    rec = WienerReconstructor(pattern, optics, search="nominal")
    rec(sample.raw[:1].astype(np.float32))
    bright = rec.wiener
    rec(dim.raw[:1].astype(np.float32))
    assert bright is not None and rec.wiener is not None and rec.wiener > 1.5 * bright


def test_cli_exits_nonzero_with_one_line_when_a_fit_is_rejected(tmp_path: Path) -> None:
    import tifffile

    noise = np.random.default_rng(0).poisson(100, size=(9, 96, 96)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "noise.tif", noise)
    result = CliRunner().invoke(
        app, ["reconstruct", str(tmp_path / "noise.tif"), "--method", "wiener"]
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "orientation" in lines[0] and "--calibration" in lines[0]


@pytest.mark.parametrize("structure", STRUCTURES)
def test_blind_estimation_on_unseen_microscopes_is_never_wrong(structure: str) -> None:
    # Quick version: two levels per structure; the full sweep is `slow`.
    for level in (2, 7):
        outcome = run_case(structure, level, seed=900 + level + 10 * STRUCTURES.index(structure))
        assert outcome.wrong == 0, outcome


@pytest.mark.slow
def test_blind_estimation_sweep_levels_1_to_9() -> None:
    accepted = rejected = wrong = 0
    for structure in STRUCTURES:
        for level in range(1, 10):
            for seed in (11, 12):
                o = run_case(
                    structure, level, seed=20_000 + 97 * level + seed + 7 * len(structure)
                )
                accepted, rejected, wrong = (
                    accepted + o.accepted,
                    rejected + o.rejected,
                    wrong + o.wrong,
                )
    print(f"accepted {accepted}, rejected {rejected}, wrong {wrong}")
    assert wrong == 0
    assert wrong <= rejected or rejected == 0


def test_the_demo_microscope_ships_its_calibration() -> None:
    from livesr.config import OpticsConfig
    from livesr.optics import pattern_wavevectors
    from livesr.simulate import DEMO_CALIBRATION

    path = DEMO_CALIBRATION
    cal = Calibration.from_file(path)
    optics = OpticsConfig()
    from livesr.simulate.devices import DEMO_PATTERN

    # The demo's pattern is its own, not the nominal default a silent fallback would use.
    assert DEMO_PATTERN.angle_offset_deg != PatternConfig().angle_offset_deg
    for channel in optics.channels:
        truth = pattern_wavevectors(DEMO_PATTERN, optics, channel)
        k = np.array([o.k_per_um for o in cal.channel(channel).orientations])
        np.testing.assert_allclose(np.hypot(*k.T), np.hypot(*truth.T), rtol=0.005)
        angles = np.degrees(np.arctan2(k[:, 0], k[:, 1])) % 180
        expected = np.degrees(np.arctan2(truth[:, 0], truth[:, 1])) % 180
        np.testing.assert_allclose(angles, expected, atol=0.5)
