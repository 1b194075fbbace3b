"""The preview on a real live run: demo microscope (pymmcore-plus Python devices), LivePipeline,
a tiny DFCAN on torch, and the window offscreen or headless snapshots."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
torch = pytest.importorskip("torch")
useq = pytest.importorskip("useq")
pytest.importorskip("pymmcore_plus")


from livesr.acquire import connect_direct, open_core, signals_backend  # noqa: E402
from livesr.io import open_store  # noqa: E402
from livesr.pipeline import run_live  # noqa: E402
from livesr.preview import ensure_app, error_map_overlays, with_preview  # noqa: E402
from tiny_models import save_tiny_weights  # noqa: E402
from viewer_helpers import same_images, settle  # noqa: E402

TIMEPOINTS = 4


@pytest.fixture
def weights(tmp_path: Path) -> str:
    return str(save_tiny_weights(tmp_path / "tiny-dfcan.safetensors"))


@pytest.fixture
def core():
    # As in a GUI session: a QApplication exists before the microscope is opened.
    ensure_app()
    core = open_core("demo")
    core.setProperty("Camera", "Size", 64)
    core.setExposure(2.0)
    yield core
    core.unloadAllDevices()


def _sequence() -> useq.MDASequence:
    return useq.MDASequence(
        channels=["488", "561"], time_plan={"interval": 0, "loops": TIMEPOINTS}
    )


def test_window_shows_the_live_sr_of_a_demo_run(core, weights: str, tmp_path: Path) -> None:
    windows = []
    frame_threads = set()
    # A QApplication ran before the core was made: its signals are Qt's, and livesr connects
    # its frameReady slot directly (a plain connect would be queued to this GUI thread).
    assert signals_backend(core) == "qt"
    connect_direct(
        core, core.mda.events.frameReady, lambda *_: frame_threads.add(threading.get_ident())
    )
    run = with_preview(
        run_live, headless=False, keep_open=False, qc_overlay=True, on_window=windows.append
    )
    out = tmp_path / "run.zarr"
    summary = run(core, _sequence(), out, models={"488": weights, "561": weights}, backend="torch")
    assert summary.status == "finished"
    # Every frame reached its stack although Qt runs: frameReady stays on the acquisition
    # thread instead of being queued to the GUI thread.
    assert frame_threads and threading.main_thread().ident not in frame_threads
    assert summary.frames_written == TIMEPOINTS * 2 * 9
    assert summary.stacks_incomplete == 0
    (window,) = windows
    assert window.redraws > 0
    status = window.status_text
    assert status.startswith(f"t {TIMEPOINTS - 1} |") and status.endswith("finished")
    assert f"skipped {summary.stacks_skipped}" in status

    # What ndv shows is the newest SR (and its wide-field) as written to the store, in a
    # two-colour composite.
    store = open_store(out)
    t = TIMEPOINTS - 1
    wf = [np.asarray(store.wf[t, c, 0]) for c in (0, 1)]
    sr = [np.asarray(store.sr[t, c, 0]) for c in (0, 1)]
    shown_wf, shown_sr = settle(window, wf, sr)
    for shown, expected in ((shown_wf, wf), (shown_sr, sr)):
        assert len(shown) == 2
        for a, b in zip(shown, expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert str(window.sr_panel.viewer.display_model.channel_mode) == "composite"

    # The quality error maps came with qualityReady and are drawn in red over the SR: each
    # channel's stored map of the newest time point, upsampled to the SR grid.
    assert summary.qc_checked == TIMEPOINTS * 2
    maps = [store.error_map((t, 0, 0, c)) for c in (0, 1)]
    assert all(np.isfinite(m).any() for m in maps)
    expected = error_map_overlays(maps, sr[0].shape)
    shown = _settle_error_maps(window, expected)
    assert len(shown) == 2
    for overlay, exp in zip(shown, expected, strict=True):
        assert overlay is not None and "red" in overlay[1]
        np.testing.assert_allclose(overlay[0], exp, rtol=1e-5, atol=1e-5)


def _settle_error_maps(window, expected: list) -> list:
    """Run the event loop until ndv draws the `expected` error maps (its data requests are
    asynchronous) or a bounded number of rounds passed; returns what it draws."""
    app = ensure_app()
    shown: list = []
    for _ in range(300):
        app.processEvents()
        shown = window.displayed_error_maps()
        if same_images([None if o is None else o[0] for o in shown], expected):
            break
        time.sleep(0.01)
    return shown


def test_headless_preview_writes_snapshots_beside_the_store(
    core, weights: str, tmp_path: Path
) -> None:
    run = with_preview(run_live, headless=True, snapshot_interval_s=0.05)
    out = tmp_path / "run.zarr"
    summary = run(core, _sequence(), out, models={"488": weights}, backend="torch")
    assert summary.status == "finished"
    folder = tmp_path / "run.preview"
    status = json.loads((folder / "status.json").read_text())
    assert status["finished"] and status["t"] == TIMEPOINTS - 1
    assert status["frames"] == summary.sr_live + summary.sr_backfilled
    latest = (folder / "latest.png").read_bytes()
    assert latest.startswith(b"\x89PNG")
    assert (folder / f"t{TIMEPOINTS - 1:06d}.png").is_file()


def test_a_run_that_fails_early_closes_the_window_and_raises(core, tmp_path: Path) -> None:
    out = tmp_path / "taken.zarr"
    out.mkdir()
    windows = []
    run = with_preview(run_live, headless=False, keep_open=True, on_window=windows.append)
    with pytest.raises(FileExistsError, match="already exists"):
        run(core, _sequence(), out, models={"488": "wiener"})
    assert not windows[0].isVisible()
