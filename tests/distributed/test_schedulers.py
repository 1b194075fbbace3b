from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from livesr.cli import app
from livesr.distributed import dask_client, reprocess
from livesr.io import open_store

ALL = [(t, p, 0, c) for t in range(4) for p in range(2) for c in range(2)]


def test_reprocess_on_a_running_scheduler_by_address(
    tmp_path: Path, weights: Path, write_raw_run, reconstruct_live
) -> None:
    store = write_raw_run(tmp_path / "run.zarr")
    reconstruct_live(store, weights, [(0, 0, 0, 0)])
    with dask_client("local", n_workers=1) as cluster_client:  # stands in for a real cluster
        address = cluster_client.scheduler.address
        assert address.startswith("tcp://") or address.startswith("inproc://")
        result = reprocess(store.path, weights, scheduler=address)
    assert result.n_workers == 1
    assert len(result.reconstructed) == len(ALL) - 1
    assert open_store(store.path).sr_done().all()


def test_reprocess_in_worker_processes_matches_threads(
    tmp_path: Path, weights: Path, write_raw_run, reconstruct_live
) -> None:
    store = write_raw_run(tmp_path / "run.zarr")
    reconstruct_live(store, weights, ALL)
    result = reprocess(
        store.path, weights, name="sr_processes", scheduler="processes", n_workers=2
    )
    assert result.n_workers == 2
    run = open_store(store.path)
    np.testing.assert_array_equal(run.sr_array("sr_processes")[:], run.sr[:])


def test_unknown_scheduler_names_the_choices() -> None:
    with pytest.raises(ValueError, match="'local', 'threads', 'processes' or a scheduler address"):
        with dask_client("--threads"):
            pass


def test_cli_reprocess_completes_a_run(
    tmp_path: Path, weights: Path, write_raw_run, reconstruct_live
) -> None:
    store = write_raw_run(tmp_path / "run.zarr")
    reconstruct_live(store, weights, [(0, 0, 0, 0), (2, 1, 0, 1)])
    runner = CliRunner()
    args = ["reprocess", str(store.path), "--model", str(weights), "--workers", "1"]
    result = runner.invoke(app, [*args, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "14 stacks reconstructed" in result.output
    assert open_store(store.path).sr_done().all()
    again = runner.invoke(app, [*args, "--no-progress"])
    assert again.exit_code == 0
    assert "0 stacks reconstructed" in again.output and "16 already done" in again.output


def test_cli_reprocess_reports_a_wrong_model_clearly(tmp_path: Path, write_raw_run) -> None:
    store = write_raw_run(tmp_path / "run.zarr")
    result = CliRunner().invoke(app, ["reprocess", str(store.path), "--no-progress"])
    assert result.exit_code == 2
    assert "records no live reconstructor" in result.output
