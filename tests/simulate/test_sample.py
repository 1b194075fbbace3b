from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from pydantic import ValidationError
from typer.testing import CliRunner

from livesr.cli import app
from livesr.config import CameraConfig, OpticsConfig, PatternConfig
from livesr.optics import pattern_wavevectors
from livesr.simulate import STRUCTURES, SIMForwardModel, simulate_sample


def test_simulate_sample_shapes_and_dtypes() -> None:
    raw, gt, wf, params = simulate_sample("ccps", size=48, level=2, timepoints=2, seed=1)
    assert raw.shape == (2, 9, 48, 48) and raw.dtype == np.uint16
    assert gt.shape == (2, 96, 96) and gt.dtype == np.float32
    assert wf.shape == (2, 48, 48) and wf.dtype == np.float32
    np.testing.assert_allclose(wf, raw.mean(axis=1), rtol=1e-6)
    assert params["photons"] == 23.8 and params["sr_scale"] == 2
    json.dumps(params)  # JSON-ready
    nl = simulate_sample("f-actin", size=32, mode="nonlinear", photons=200.0, seed=1)
    assert nl.raw.shape == (1, 25, 32, 32) and nl.gt.shape == (1, 96, 96)


def test_bad_configs_give_errors_that_name_the_problem() -> None:
    with pytest.raises(ValidationError, match="n_phases=3 is too few"):
        PatternConfig(n_phases=3, nonlinear_harmonics=(0.3,))
    with pytest.raises(ValidationError, match="Nyquist"):
        OpticsConfig(pixel_size_um=0.12)
    with pytest.raises(ValueError, match="choose one of"):
        simulate_sample("nuclei", size=32)
    with pytest.raises(ValueError, match="level=0 is out of range"):
        simulate_sample("er", size=32, level=0)
    with pytest.raises(ValueError, match="mode='3d'"):
        simulate_sample("er", size=32, mode="3d")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="oversample=1 is too small"):
        SIMForwardModel(PatternConfig(), OpticsConfig(), CameraConfig(), (64, 64), oversample=1)
    model = SIMForwardModel(PatternConfig(), OpticsConfig(), CameraConfig(), (32, 32))
    with pytest.raises(ValueError, match="fine grid"):
        model.prepare(np.ones((32, 32), np.float32))
    bands = model.prepare(np.ones(model.fine_shape, np.float32))
    with pytest.raises(ValueError, match="exactly one of photons"):
        model.render_frame(bands, 0, rng=np.random.default_rng(0))
    with pytest.raises(IndexError, match="9 frames"):
        model.render_frame(bands, 9, photons=10.0, rng=np.random.default_rng(0))


@pytest.mark.parametrize("mode", ["linear", "nonlinear"])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_cli_writes_every_file(tmp_path: Path, structure: str, mode: str) -> None:
    out = tmp_path / "sample"
    args = ["simulate", "--structure", structure, "--mode", mode, "--size", "32", "--out"]
    result = CliRunner().invoke(app, [*args, str(out), "--level", "4", "--seed", "2"])
    assert result.exit_code == 0, result.output
    frames, scale = (9, 2) if mode == "linear" else (25, 3)
    assert tifffile.imread(out / "raw.tif").shape == (frames, 32, 32)
    assert tifffile.imread(out / "gt.tif").shape == (32 * scale, 32 * scale)
    assert tifffile.imread(out / "wf.tif").shape == (32, 32)
    params = json.loads((out / "params.json").read_text())
    pattern = PatternConfig.linear() if mode == "linear" else PatternConfig.nonlinear()
    np.testing.assert_allclose(
        params["k_vectors_per_um"], pattern_wavevectors(pattern, OpticsConfig())
    )
    assert params["seed"] == 2 and params["structure"] == structure
    assert (out / "preview.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_time_lapse_writes_one_stack_per_timepoint(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", "--size", "32", "--timepoints", "3", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    raw = tifffile.imread(tmp_path / "raw.tif")
    assert raw.shape == (3, 9, 32, 32)
    assert not np.array_equal(raw[0], raw[2])


def test_static_specimen_gives_independent_noise_realisations_of_one_scene() -> None:
    raw, gt, _, _ = simulate_sample("er", size=48, level=5, timepoints=2, motion=0.0, seed=3)
    np.testing.assert_array_equal(gt[0], gt[1])
    # Same expected image, independent noise: the frame difference is pure noise (mean ~0).
    diff = raw[0].astype(np.float64) - raw[1]
    assert abs(diff.mean()) < 0.1 * diff.std()
    assert np.corrcoef(raw[0].ravel(), raw[1].ravel())[0, 1] > 0.5
