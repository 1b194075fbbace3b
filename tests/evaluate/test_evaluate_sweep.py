from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from livesr.evaluate import (
    METRICS,
    evaluate_task,
    run_sweep,
    summarize,
    sweep_tasks,
    write_report,
)


def test_tasks_use_held_out_seeds() -> None:
    tasks = sweep_tasks(["microtubules", "er"], [1, 9], fields=3, size=64)
    assert len(tasks) == 2 * 2 * 3
    assert all(t.seed < 1000 for t in tasks)
    # The same specimens at every level; different structures never share seeds.
    by_level = {t.level: [t.seed for t in tasks if t.structure == "er"] for t in tasks}
    assert by_level[1] == by_level[9]
    assert {t.seed for t in tasks if t.structure == "er"}.isdisjoint(
        {t.seed for t in tasks if t.structure == "microtubules"}
    )
    with pytest.raises(ValueError, match="training"):
        sweep_tasks(["microtubules"], [1], fields=2, seed_base=999)
    with pytest.raises(ValueError, match="unknown structure"):
        sweep_tasks(["mitochondria"], [1], fields=1)
    with pytest.raises(ValueError, match="level 10"):
        sweep_tasks(["er"], [10], fields=1)


def test_one_task_scores_every_method() -> None:
    task = sweep_tasks(["er"], [8], fields=1, size=64)[0]
    result = evaluate_task(task, ["wf", "rl", "wiener"], with_frc=True, keep_images=True)
    rows = {r["method"]: r for r in result.rows}
    assert set(rows) == {"wf", "rl", "wiener"}
    for row in rows.values():
        assert all(metric in row for metric in METRICS)
        assert math.isfinite(row["nrmse_photometric"]) and math.isfinite(row["ms_ssim"])
    # At a high signal level, SIM beats wide-field on fidelity and resolution.
    assert rows["wiener"]["nrmse_photometric"] < rows["wf"]["nrmse_photometric"]
    assert rows["wiener"]["resolution_nm"] < rows["wf"]["resolution_nm"]
    assert rows["wiener"]["frc_half_bit_nm"] < rows["wf"]["frc_half_bit_nm"]
    assert rows["wiener"]["fit_ok"] is True and rows["wiener"]["wiener"] > 0
    assert result.images is not None
    assert result.images["gt"].shape == result.images["wiener"].shape == (128, 128)


def test_sweep_report_files(tmp_path: Path) -> None:
    seen: list[int] = []
    result = run_sweep(
        ["microtubules"], [2, 8], fields=2, size=48, methods=["wf", "wiener"],
        progress=lambda done, total: seen.append(done),
    )  # fmt: skip
    assert seen == [1, 2, 3, 4]
    assert len(result.rows) == 2 * 2 * 2
    assert set(result.images) == {("microtubules", 2), ("microtubules", 8)}
    summary = summarize(result.rows)
    assert {s["n_fields"] for s in summary} == {2}
    written = write_report(result, tmp_path)
    names = {p.name for p in written}
    assert {"results.csv", "results.md", "nrmse.png", "resolution_nm.png"} <= names
    assert "panels_microtubules.png" in names
    with (tmp_path / "results.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 8
    table = (tmp_path / "results.md").read_text()
    assert "## microtubules: nrmse_photometric" in table and "| wf | wiener |" in table


def test_a_trained_model_is_scored_like_the_builtin_methods(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from tiny_models import save_tiny_weights

    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    task = sweep_tasks(["ccps"], [5], fields=1, size=32)[0]
    result = evaluate_task(task, ["wf", str(weights)], backend="torch")
    model_row = result.rows[1]
    assert model_row["method"] == str(weights)
    assert math.isfinite(model_row["nrmse_photometric"]) and model_row["seconds"] > 0
