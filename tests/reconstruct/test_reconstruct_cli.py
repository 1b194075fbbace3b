from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from typer.testing import CliRunner

from livesr.cli import app
from livesr.simulate import simulate_sample

JIN = Path("sim/jin2020_dlsim_microtubule")


def test_wiener_on_a_tiff_stack_writes_image_and_parameters(tmp_path: Path) -> None:
    sample = simulate_sample("er", size=128, level=9, seed=31, timepoints=2)
    raw = tmp_path / "raw.tif"
    tifffile.imwrite(raw, sample.raw.reshape(-1, 128, 128))  # 2 stacks x 9 frames
    out, params = tmp_path / "sr.tif", tmp_path / "params.json"
    result = CliRunner().invoke(
        app,
        [
            "reconstruct", str(raw), "--method", "wiener", "--search", "nominal",
            "--out", str(out),
            "--params-out", str(params),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sr = tifffile.imread(out)
    assert sr.shape == (2, 256, 256) and sr.dtype == np.float32
    report = json.loads(params.read_text())
    assert report["ok"] and report["stacks"] == 2
    truth = np.asarray(sample.params["k_vectors_per_um"])
    fitted = np.array([a["k_per_um"] for a in report["angles"]])
    np.testing.assert_allclose(fitted, truth, atol=0.02)
    assert report["wiener"] > 0 and len(report["angles"][0]["k_cycles_per_field"]) == 2


def test_rl_and_wf_methods(tmp_path: Path) -> None:
    sample = simulate_sample("ccps", size=48, level=6, seed=32)
    raw = tmp_path / "raw.tif"
    tifffile.imwrite(raw, sample.raw[0])
    for method, size in (("rl", 96), ("wf", 48)):
        out = tmp_path / f"{method}.tif"
        result = CliRunner().invoke(
            app, ["reconstruct", str(raw), "--method", method, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert tifffile.imread(out).shape == (size, size)


def test_real_3beam_folder(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "jin.tif"
    result = CliRunner().invoke(
        app,
        [
            "reconstruct", str(shared_data / JIN / "raw_high_light"), "--method", "wiener",
            "--frames", "0:15",
            "--angles", "3", "--phases", "5", "--orders", "2", "--scale", "2",
            "--pixel-size", "0.0206", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "15.6 cycles/field" in result.output or "15.5" in result.output
    assert tifffile.imread(out).shape == (512, 512)


def test_bad_inputs_exit_with_the_fix(tmp_path: Path) -> None:
    raw = tmp_path / "raw.tif"
    tifffile.imwrite(raw, np.ones((8, 32, 32), np.uint16))
    runner = CliRunner()
    result = runner.invoke(app, ["reconstruct", str(raw)])
    assert result.exit_code == 1
    assert "not a multiple of 3 angles x 3 phases" in result.output
    result = runner.invoke(app, ["reconstruct", str(tmp_path / "nothing.tif")])
    assert result.exit_code == 1 and "does not exist" in result.output
    result = runner.invoke(
        app, ["reconstruct", str(raw), "--frames", "0:9", "--otf", str(tmp_path / "otf.mrc")]
    )
    assert result.exit_code == 1 and "OTF file" in result.output
    zeros = tmp_path / "zeros.tif"
    tifffile.imwrite(zeros, np.zeros((9, 32, 32), np.uint16))
    result = runner.invoke(app, ["reconstruct", str(zeros), "--method", "wiener"])
    assert result.exit_code == 1 and "all zeros" in result.output


def test_trained_model_as_method(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from tiny_models import save_tiny_weights

    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    sample = simulate_sample("ccps", size=32, level=6, seed=33)
    raw = tmp_path / "raw.tif"
    tifffile.imwrite(raw, sample.raw[0])
    out, params = tmp_path / "sr.tif", tmp_path / "params.json"
    result = CliRunner().invoke(
        app,
        [
            "reconstruct", str(raw), "--method", str(weights), "--backend", "torch",
            "--out", str(out), "--params-out", str(params),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert tifffile.imread(out).shape == (64, 64)
    assert json.loads(params.read_text())["provenance"]["backend"] == "torch"
    result = CliRunner().invoke(app, ["reconstruct", str(raw), "--method", "no-such-model"])
    assert result.exit_code == 1 and "bundled" in result.output


def test_auto_method_records_the_choice_per_stack(tmp_path: Path) -> None:
    dim = simulate_sample("microtubules", size=64, photons=5.0, seed=34, motion=0.0)
    bright = simulate_sample("microtubules", size=64, photons=3000.0, seed=34, motion=0.0)
    raw = tmp_path / "raw.tif"
    tifffile.imwrite(raw, np.concatenate([bright.raw[0], dim.raw[0]]))
    out, params = tmp_path / "sr.tif", tmp_path / "params.json"
    result = CliRunner().invoke(
        app,
        [
            "reconstruct", str(raw), "--method", "auto", "--search", "nominal",
            "--out", str(out), "--params-out", str(params),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert tifffile.imread(out).shape == (2, 128, 128)
    report = json.loads(params.read_text())
    assert report["auto_choices"] == ["wiener", "network"]
    assert report["signal_photons"][0] > report["signal_photons"][1]
