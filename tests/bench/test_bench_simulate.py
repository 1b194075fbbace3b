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
