from __future__ import annotations

from pathlib import Path

from livesr.bench._reprocess import reprocess_throughput


def test_throughput_rows_count_every_stack(weights: Path) -> None:
    rows = reprocess_throughput(
        model=str(weights), size=32, n_stacks=3, workers=(1, 2), scheduler="local"
    )
    assert [r["workers"] for r in rows] == [1, 2]
    for row in rows:
        assert row["stacks"] == 3
        assert row["stacks_per_s"] > 0
        assert row["frame"] == "9x32x32"
    assert rows[0]["ratio_vs_first"] == 1.0
