from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livesr.bench._backends import bench_backends
from livesr.cli import app
from tiny_models import save_tiny_weights


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return save_tiny_weights(tmp_path / "tiny.safetensors")


def test_backends_side_by_side(weights: Path) -> None:
    rows = bench_backends(
        [str(weights)], ["torch", "onnxruntime", "tensorrt"], sizes=[32], batch=[1, 2], repeats=2
    )
    timed = [r for r in rows if "error" not in r]
    assert {(r["backend"], r["batch"]) for r in timed} == {
        ("torch", 1),
        ("torch", 2),
        ("onnxruntime", 1),
        ("onnxruntime", 2),
    }
    for row in timed:
        assert row["input"] == "9x32x32"
        assert row["p50_ms"] <= row["p95_ms"]
        assert row["sr_fps"] > 0
        assert row["gflop_frame"] > 0
        assert 0 < row["peak_pct"] < 100
    assert [r["vs_first"] for r in timed if r["backend"] == "torch"] == [1.0, 1.0]
    # Batch sizes are compared per backend, interleaved like the backends.
    by_batch = {(r["backend"], r["batch"]): r for r in timed}
    for backend in ("torch", "onnxruntime"):
        one, two = by_batch[backend, 1], by_batch[backend, 2]
        assert one["vs_first_batch"] == 1.0
        assert two["vs_first_batch"] == pytest.approx(two["sr_fps"] / one["sr_fps"], rel=0.02)
        assert one["parts"] == 1
        assert two["parts"] >= 1
    if importlib.util.find_spec("tensorrt") is None:
        (failed,) = [r for r in rows if "error" in r and r["batch"] == 1]
        assert failed["backend"] == "tensorrt"
        assert "tensorrt" in failed["error"]


def test_cli_writes_json_and_a_table(weights: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        app,
        ["bench", "--models", str(weights), "--backends", "torch,onnxruntime-cpu",
         "--sizes", "32", "--batch", "1", "--repeats", "1", "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "livesr bench: backends" in result.output
    report = json.loads(out.read_text())
    assert report["machine"]["cpus_usable"] >= 1
    rows = report["parts"]["backends"]
    assert [r["backend"] for r in rows] == ["torch", "onnxruntime"]


def test_cli_names_missing_parts() -> None:
    result = CliRunner().invoke(app, ["bench", "--part", "nonexistent"])
    assert result.exit_code == 2
    assert "nonexistent" in result.output


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="needs no TensorRT")
def test_export_tensorrt_without_tensorrt_says_what_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["export", "--model", "dfcan", "--shape", "9x32x32", "--format", "tensorrt",
         "--out", str(tmp_path / "x.engine")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "tensorrt" in result.output
    assert not (tmp_path / "x.engine").exists()


def test_models_alone_compares_the_networks(tmp_path: Path) -> None:
    out = tmp_path / "models.json"
    result = CliRunner().invoke(
        app, ["bench", "--models", "dfcan", "--sizes", "64", "--repeats", "1", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["parts"]["models"]
    timed = [r for r in rows if r["latency_ms_median"] is not None]
    assert {r["spectrum"] for r in timed} == {"fft", "dft", "tiled"}
    assert {r["params"] for r in rows} == {1_935_361}
