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
from tiny_models import file_tensors_sha256, save_tiny_weights  # noqa: E402


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
    # The live QC thread's records of a network's frames, reproduced (no fitted pattern:
    # both checked against the run's nominal one).
    live, again = store.quality(), store.quality("sr_check")
    assert np.isfinite(again["rsp"]).all() and np.isfinite(again["chi2"]).all()
    for field in ("rsp", "rse", "chi2", "out_of_band", "photons", "level", "pattern_source"):
        np.testing.assert_array_equal(again[field], live[field], err_msg=field)


def test_the_store_records_one_spec_per_channel_and_every_stacks_normalisation(
    demo_run: Path, weights: Path
) -> None:
    from livesr.reconstruct import StackReconstructor

    store = open_store(demo_run)
    specs = store.reconstructor_specs()
    assert set(specs) == {"488", "561"}
    for spec in specs.values():
        assert spec.model == str(weights.resolve()) and spec.backend == "torch"
        assert spec.weights_sha256 == file_tensors_sha256(weights)
        assert spec.frame_shape == (64, 64)
    assert store.info["versions"]["livesr"] and store.info["config"]["max_backlog"] == 4
    # Per-stack values are kept for every stack, not only the last one of each channel.
    values = store.stack_values()
    here = StackReconstructor.from_spec(specs["488"])
    for t in range(3):
        norm = here(store.read_stack((t, 0, 0, 0)))[1]["normalization"]
        stats = (values["norm_low"][t, 0, 0, 0], values["norm_high"][t, 0, 0, 0])
        assert stats == (norm["low"], norm["high"])
    assert len(set(values["norm_high"][:, 0, 0, 0])) == 3  # three stacks, three mappings
    assert (values["backend"] == "torch-cpu").all() and np.isfinite(values["reconstruct_ms"]).all()


def test_the_runs_own_custom_weights_complete_sr_and_are_verified(
    demo_run: Path, weights: Path
) -> None:
    from typer.testing import CliRunner

    from livesr.cli import app
    from livesr.models import WeightsUnavailableError

    live = np.asarray(open_store(demo_run).sr[:]).copy()
    crashed = open_store(demo_run, mode="r+")
    crashed.group["0/sr_done"][2] = False  # the process died before SR of t=2 was written
    crashed.sr[2] = 0.0

    # No model given: the weights file the run recorded, verified by its tensors hash.
    result = reprocess(demo_run, n_workers=1)

    assert result.name == "sr" and sorted(result.reconstructed) == [(2, 0, 0, 0), (2, 0, 0, 1)]
    assert result.models == {0: str(weights.resolve()), 1: str(weights.resolve())}
    np.testing.assert_array_equal(open_store(demo_run).sr[:], live)
    assert open_store(demo_run).stack_values()["backfill"][2].all()

    crashed.group["0/sr_done"][2] = False
    save_tiny_weights(weights, seed=1)  # other weights under the recorded name
    with pytest.raises(WeightsUnavailableError, match="now hold other tensors"):
        reprocess(demo_run, n_workers=1)
    weights.unlink()
    with pytest.raises(WeightsUnavailableError, match=f"{weights.resolve()}.*missing"):
        reprocess(demo_run, n_workers=1)
    cli = CliRunner().invoke(app, ["reprocess", str(demo_run), "--no-progress"])
    assert cli.exit_code == 2
    (line,) = cli.output.strip().splitlines()  # one line, naming the file it needs
    assert line.startswith("error: the weights") and f"{weights.resolve()} (tensors" in line


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
    crashed.group["0/sr_done"][1:] = False
    crashed.sr[1:] = 0.0

    result = reprocess(out)  # no model: the run's own, from the store's attributes

    assert result.name == "sr"
    assert sorted(result.reconstructed) == [(t, 0, 0, c) for t in (1, 2) for c in (0, 1)]
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
    sim = store.reconstructor_specs()["488"].sim
    assert sim is not None and sim.parameters is not None
    assert sim.parameters["n_angles"] == 3 and sim.wiener is not None and sim.wiener > 0
    # A crash lost the SR of the last time point; the live run calibrated on the first.
    crashed = open_store(out, mode="r+")
    live = np.asarray(crashed.sr[:]).copy()
    crashed.group["0/sr_done"][2] = False
    crashed.sr[2] = 0.0

    result = reprocess(out, n_workers=1)

    assert sorted(result.reconstructed) == [(2, 0, 0, 0)]
    np.testing.assert_array_equal(open_store(out).sr[:], live)
