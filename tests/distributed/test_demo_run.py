"""Reprocessing a real live run: demo microscope -> LivePipeline (tiny DFCAN, torch) -> Dask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

useq = pytest.importorskip("useq")
pytest.importorskip("pymmcore_plus")

from livesr.acquire import open_core  # noqa: E402
from livesr.distributed import reprocess  # noqa: E402
from livesr.io import open_store  # noqa: E402
from livesr.pipeline import run_live  # noqa: E402


@pytest.fixture
def demo_run(tmp_path: Path, weights: Path) -> Path:
    core = open_core("demo")
    try:
        core.setProperty("Camera", "Size", 64)
        core.setExposure(2.0)
        sequence = useq.MDASequence(channels=["488", "561"], time_plan={"interval": 0, "loops": 3})
        out = tmp_path / "demo.zarr"
        models = {"488": str(weights), "561": str(weights)}
        summary = run_live(core, sequence, out, models=models, backend="torch")
    finally:
        core.unloadAllDevices()
    assert summary.status == "finished"
    return out


def test_reprocessing_a_demo_run_reproduces_its_live_sr(demo_run: Path, weights: Path) -> None:
    result = reprocess(demo_run, weights, name="sr_check", n_workers=2)

    assert len(result.reconstructed) == 6 and not result.failed
    store = open_store(demo_run)
    assert store.sr_done().all() and store.sr_done("sr_check").all()
    np.testing.assert_array_equal(store.sr_array("sr_check")[:], store.sr[:])


def test_the_runs_own_model_completes_sr_and_needs_weights_it_can_find(
    demo_run: Path, weights: Path
) -> None:
    # The live run recorded "tiny-dfcan" (a file stem, not a bundled name): say what to pass.
    with pytest.raises(ValueError, match="pass --model with the path"):
        reprocess(demo_run)
    # With the path, the same weights complete `sr` itself (here: nothing is missing).
    result = reprocess(demo_run, weights)
    assert result.name == "sr" and result.reconstructed == () and result.already_done == 6


def test_a_run_with_a_bundled_model_completes_itself(
    tmp_path: Path, weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import livesr.models._bundled as bundled

    monkeypatch.setattr(bundled, "WEIGHTS_DIR", weights.parent)  # "tiny-dfcan" is bundled now
    core = open_core("demo")
    try:
        core.setProperty("Camera", "Size", 64)
        sequence = useq.MDASequence(channels=["488", "561"], time_plan={"interval": 0, "loops": 3})
        out = tmp_path / "bundled.zarr"
        run_live(core, sequence, out, models={"488": "tiny-dfcan", "561": "tiny-dfcan"})
    finally:
        core.unloadAllDevices()
    live = np.asarray(open_store(out).sr[:]).copy()
    # The process died before SR of t=1 and t=2 was written (what a crash leaves).
    crashed = open_store(out, mode="r+")
    crashed.group["sr_done"][1:] = False
    crashed.sr[1:] = 0.0

    result = reprocess(out)  # no model: the run's own, from the store's attributes

    assert result.name == "sr"
    assert sorted(result.reconstructed) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    store = open_store(out)
    assert store.sr_done().all()
    np.testing.assert_array_equal(store.sr[:], live)


def test_reprocessing_a_wiener_run_reuses_its_live_sim_parameters(tmp_path: Path) -> None:
    # Wiener SIM estimates its parameters on the first stack it sees; a reprocess worker starts
    # on another stack, so only the recorded live estimate reproduces the live SR exactly.
    core = open_core("demo")
    try:
        core.setProperty("Camera", "Size", 128)
        sequence = useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": 3})
        out = tmp_path / "wiener.zarr"
        run_live(core, sequence, out, models={"488": "wiener"})
    finally:
        core.unloadAllDevices()
    store = open_store(out)
    recorded = store.info["sr_images"]["sr"]["provenance"]["488"]["sim_parameters"]
    assert recorded["n_angles"] == 3 and recorded["wiener"] > 0
    # A crash lost the SR of the last time point; the live run calibrated on the first.
    crashed = open_store(out, mode="r+")
    live = np.asarray(crashed.sr[:]).copy()
    crashed.group["sr_done"][2] = False
    crashed.sr[2] = 0.0

    result = reprocess(out, n_workers=1)

    assert sorted(result.reconstructed) == [(2, 0)]
    np.testing.assert_array_equal(open_store(out).sr[:], live)
