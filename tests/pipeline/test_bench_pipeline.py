from __future__ import annotations

from pathlib import Path

import pytest

from livesr.bench._pipeline import bench_pipeline


def test_pipeline_benchmark_rows(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from livesr.models import DFCAN, save_weights

    weights = tmp_path / "tiny.safetensors"
    save_weights(DFCAN(in_frames=9, scale=2, groups=1, blocks=1, width=16), weights)
    rows = bench_pipeline(
        models=[str(weights)],
        sizes=[64],
        timepoints=2,
        exposure_ms=2.0,
        backends=["torch"],
        inference_modes=["thread", "process"],
    )
    assert [row["inference"] for row in rows] == ["thread", "process"]
    row = rows[1]
    # The default run: 2 positions x 3 z planes x 2 colours per time point.
    assert (row["positions"], row["z_planes"]) == (2, 3)
    assert row["size"] == 64 and row["frames"] == 2 * 2 * 3 * 2 * 9 and row["backend"] == "torch"
    assert row["camera_fps_off"] > 0 and row["camera_fps_on"] > 0
    assert row["camera_ratio"] == pytest.approx(row["camera_fps_on"] / row["camera_fps_off"], 0.01)
    assert row["sr_fps_standalone"] > 0
    assert row["sr_live"] + row["sr_backfilled"] == 2 * 2 * 3 * 2
    assert row["latency_p95_ms"] >= row["latency_p50_ms"] > 0


@pytest.mark.filterwarnings("ignore::UserWarning")  # a nominal-pattern fallback is fine here
def test_pipeline_benchmark_with_quality_checks_off_and_on() -> None:
    rows = bench_pipeline(
        models=["wiener"], sizes=[128], timepoints=2, exposure_ms=2.0, positions=1, z_planes=1,
        inference_modes=["thread"], qc_every=[0, 1],
    )  # fmt: skip
    assert [row["qc_every"] for row in rows] == [0, 1]
    assert rows[0]["qc_checked"] == 0 and rows[1]["qc_checked"] == 2 * 2
    assert rows[1]["qc_ms_mean"] > 0 and rows[1]["camera_ratio"] > 0
