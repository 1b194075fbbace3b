from __future__ import annotations

from livesr.bench._simulate import bench_simulate


def test_bench_simulate_times_every_stage_against_the_camera_budget() -> None:
    rows = bench_simulate(sizes=[32], repeats=2, noise=("fast",))
    stages = {row["stage"]: row for row in rows}
    assert set(stages) == {"specimen", "prepare", "frames/fast", "stack/fast"}
    for row in rows:
        assert row["shape"] == "9x32x32"
        assert 0 < row["min_ms"] <= row["p50_ms"] <= row["p95_ms"]
    stack, frames = stages["stack/fast"], stages["frames/fast"]
    assert stack["budget_ms"] == 90.0
    assert stack["p50_ms"] >= frames["p50_ms"]  # a stack from scratch includes the frames


def test_bench_tables_round_floats_and_keep_other_cells() -> None:
    from livesr.cli._bench import _cell

    assert _cell(225.93456789012345) == "225.9"
    assert _cell(0.0123456789) == "0.01235"
    assert _cell(1234567.891) == "1234568"
    assert _cell(3) == "3" and _cell(0.0) == "0.0" and _cell("onnxruntime") == "onnxruntime"
