"""The GUI integration offscreen: pymmcore-widgets' MDA panel with livesr's Live SR switch, on
the demo microscope, as a user clicks it (Run, Cancel) inside a Qt application."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
useq = pytest.importorskip("useq")
pytest.importorskip("ndv")
_backend = os.environ.get("PYMM_SIGNALS_BACKEND")
pytest.importorskip("pymmcore_widgets")
# Importing pymmcore-widgets sets PYMM_SIGNALS_BACKEND=qt for the process: keep it to this file
# (the cores here are made while a QApplication runs, so they get Qt signals anyway).
if _backend is None:
    os.environ.pop("PYMM_SIGNALS_BACKEND", None)

from livesr.acquire import open_core, signals_backend  # noqa: E402
from livesr.gui import LiveSRWidget  # noqa: E402
from livesr.io import open_store  # noqa: E402
from livesr.preview import ensure_app  # noqa: E402
from viewer_helpers import settle  # noqa: E402

TIMEPOINTS = 3


@pytest.fixture
def core():
    ensure_app()  # as in pymmcore-gui / napari-micromanager: the app runs before the core
    core = open_core("demo")
    core.setProperty("Camera", "Size", 64)
    core.setExposure(2.0)
    yield core
    core.unloadAllDevices()


def _wait_for(results: list, widget: LiveSRWidget) -> None:
    app = ensure_app()
    for _ in range(6000):  # bounded: the run itself takes a few seconds here
        app.processEvents()
        if results:
            break
        time.sleep(0.01)
    assert results, f"the live SR run did not finish; status: {widget.status_text}"


@pytest.fixture
def weights(tmp_path: Path) -> str:
    pytest.importorskip("torch")
    from tiny_models import save_tiny_weights

    return str(save_tiny_weights(tmp_path / "tiny-dfcan.safetensors"))


def test_run_acquires_the_users_sequence_as_sim_with_live_sr(
    core, weights: str, tmp_path: Path
) -> None:
    assert signals_backend(core) == "qt"
    widget = LiveSRWidget(mmcore=core, store=tmp_path / "run.zarr", model=weights, backend="torch")
    widget.show()
    # The user's sequence, as set up in the MDA panel: two colours, a time-lapse, no SIM axis.
    widget.mda.setValue(
        useq.MDASequence(channels=["488", "561"], time_plan={"interval": 0, "loops": TIMEPOINTS})
    )
    results: list = []
    widget.runFinished.connect(results.append)
    widget.mda.control_btns.run_btn.click()
    _wait_for(results, widget)

    (summary,) = results
    assert summary.status == "finished", summary
    # Nine pattern frames per (t, c) of the plain sequence: sim_events expanded it.
    assert summary.frames_written == TIMEPOINTS * 2 * 9
    assert summary.sr_live + summary.sr_backfilled == TIMEPOINTS * 2
    assert widget.last_store == tmp_path / "run.zarr"
    assert "finished" in widget.status_text and "livesr preview" in widget.status_text

    # The ndv view shows the newest SR and wide-field of both channels, as stored.
    store = open_store(widget.last_store)
    t = TIMEPOINTS - 1
    wf = [np.asarray(store.wf[t, c, 0]) for c in (0, 1)]
    sr = [np.asarray(store.sr[t, c, 0]) for c in (0, 1)]
    shown_wf, shown_sr = settle(widget.preview, wf, sr)
    for shown, expected in ((shown_wf, wf), (shown_sr, sr)):
        assert len(shown) == 2
        for a, b in zip(shown, expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert widget.preview.status_text.endswith("finished")

    widget.close()


def test_cancel_stops_the_live_run_and_the_store_says_so(core, tmp_path: Path) -> None:
    widget = LiveSRWidget(mmcore=core, store=tmp_path / "run.zarr", model="wiener")
    widget.mda.setValue(
        useq.MDASequence(channels=["488"], time_plan={"interval": 0.2, "loops": 200})
    )
    results: list = []
    widget.runFinished.connect(results.append)
    frames: list = []
    core.mda.events.frameReady.connect(lambda *_: frames.append(1))
    widget.mda.control_btns.run_btn.click()
    app = ensure_app()
    for _ in range(3000):
        app.processEvents()
        if len(frames) >= 9:
            break
        time.sleep(0.01)
    widget.mda.control_btns.cancel_btn.click()  # the MDA panel's own Cancel
    _wait_for(results, widget)
    assert results[0].status == "interrupted"
    assert open_store(widget.last_store).status == "interrupted"


def test_with_live_sr_off_run_is_the_plain_mda(core, tmp_path: Path) -> None:
    widget = LiveSRWidget(mmcore=core, store=tmp_path / "run.zarr")
    widget.live_sr = False
    assert widget.mda.save_info.isVisibleTo(widget)
    widget.mda.setValue(useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": 2}))
    events: list = []
    core.mda.events.frameReady.connect(lambda img, event: events.append(dict(event.index)))
    widget.mda.control_btns.run_btn.click()
    app = ensure_app()
    for _ in range(3000):
        app.processEvents()
        if not core.mda.is_running() and len(events) == 2:
            break
        time.sleep(0.01)
    assert [e.get("t") for e in events] == [0, 1]
    assert not any("a" in e for e in events)  # no pattern frames
    assert not (tmp_path / "run.zarr").exists()


def test_a_new_run_never_overwrites_a_store(tmp_path: Path) -> None:
    from livesr.gui._widget import _next_free

    taken = tmp_path / "run.zarr"
    assert _next_free(taken) == taken
    taken.mkdir()
    (tmp_path / "run_001.zarr").mkdir()
    assert _next_free(taken) == tmp_path / "run_002.zarr"
