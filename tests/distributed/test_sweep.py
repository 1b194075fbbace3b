from __future__ import annotations

import pytest

from livesr import evaluate
from livesr.distributed import run_sweep


def test_sweep_on_dask_equals_the_sweep_in_one_process() -> None:
    args = (["microtubules"], [2, 5], 2, 32)
    options = {"methods": ["wf", "rl"]}
    local = evaluate.run_sweep(*args, **options)
    seen = []
    spread = run_sweep(
        *args, **options, scheduler="local", n_workers=1, progress=lambda d, n: seen.append(d)
    )
    assert seen == [1, 2, 3, 4]
    assert len(spread.rows) == len(local.rows) == 2 * 2 * 2
    for a, b in zip(spread.rows, local.rows, strict=True):
        assert (a["level"], a["field"], a["method"]) == (b["level"], b["field"], b["method"])
        assert a["nrmse"] == pytest.approx(b["nrmse"], rel=1e-6)
    assert set(spread.images) == {("microtubules", 2), ("microtubules", 5)}


def test_cli_evaluate_with_a_scheduler(tmp_path) -> None:
    from typer.testing import CliRunner

    from livesr.cli import app

    args = ["evaluate", "--structures", "ccps", "--levels", "4", "--fields", "2", "--size", "32"]
    args += ["--methods", "wf", "--scheduler", "threads", "--no-plots", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "results.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 2  # header + two fields
