from __future__ import annotations

import json
from pathlib import Path

from livesr.bench._qc import bench_qc
from livesr.evaluate import run_sweep, write_report


def test_evaluate_qc_plots_how_qc_tracks_the_true_error(tmp_path: Path) -> None:
    result = run_sweep(["ccps"], [2, 8], 1, 48, ["wf", "wiener"], with_qc=True)
    assert all({"qc_rsp", "qc_chi2", "qc_out_of_band"} <= set(row) for row in result.rows)
    written = {p.name for p in write_report(result, tmp_path)}
    assert {"qc_vs_error.png", "qc_correlation.json"} <= written
    correlation = json.loads((tmp_path / "qc_correlation.json").read_text())
    assert correlation["true_error"] == "nrmse_photometric"
    assert -1.0 <= correlation["qc_rsp"]["spearman"] <= 1.0


def test_bench_qc_rows() -> None:
    rows = bench_qc(sizes=[48], repeats=2)
    assert [r["stage"] for r in rows] == ["setup", "record", "record_no_raw", "sr_map"]
    assert all(r["ms_p50"] > 0 and r["sr_size"] == 96 for r in rows)
