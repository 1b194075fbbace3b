"""livesr inside the real pymmcore-gui, offscreen: its main window lists "Live SIM SR" in the
Window menu, docks a `LiveSRWidget` on the window's own core, and a live SR run from that dock
writes SR frames.

pymmcore-gui is not in livesr's extras: its only release (0.0.1rc0) pins ``zarr<3``,
``pymmcore==11.10.0.74.0`` and ``pyqt6==6.9.1``, so it is installed beside livesr with
``--no-deps`` in a side venv without PySide6; ``.ci/pymmcore_gui_check`` builds that venv and
runs this file. Elsewhere (the main venv, CI) the file is skipped.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
useq = pytest.importorskip("useq")
_backend = os.environ.get("PYMM_SIGNALS_BACKEND")
# Imported before qtpy so that qtpy picks pymmcore-gui's binding (PyQt6) for livesr's widgets.
pymmcore_gui = pytest.importorskip(
    "pymmcore_gui",
    reason="pymmcore-gui is not installed (its rc pins zarr<3: install it beside livesr with "
    "--no-deps, as .ci/pymmcore_gui_check does)",
)
# pymmcore-gui imports pymmcore-widgets, which sets PYMM_SIGNALS_BACKEND=qt for the process:
# keep that to this file, as tests/gui/test_live_sr_widget.py does.
if _backend is None:
    os.environ.pop("PYMM_SIGNALS_BACKEND", None)

from livesr.acquire import open_core, signals_backend  # noqa: E402
from livesr.gui import PYMMCORE_GUI_KEY, LiveSRWidget, register_pymmcore_gui  # noqa: E402
from livesr.gui._pymmcore_gui import _binding_mismatch  # noqa: E402
from livesr.io import open_store  # noqa: E402
from livesr.preview import ensure_app  # noqa: E402

TIMEPOINTS = 2


@pytest.fixture
def gui(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """pymmcore-gui's main window on the demo SIM microscope, made as a user script makes it:
    register livesr, then ``create_mmgui(mmcore=...)``, without entering the event loop."""
    # As in a script that imported pymmcore_gui before making its core: Qt signals, delivered to
    # pymmcore-gui's viewers on the GUI thread.
    monkeypatch.setenv("PYMM_SIGNALS_BACKEND", "qt")
    # An exception in a Qt slot (pymmcore-gui's viewers follow every MDA) goes to
    # sys.excepthook; PyQt6 aborts the process when that is Python's own. Collect them instead.
    # ndv and pymmcore-gui install their own hook (which only prints) unless one is marked
    # installed, as `_original_excepthook_` does.
    slot_errors: list[BaseException] = []
    monkeypatch.setattr(sys, "_original_excepthook_", sys.excepthook, raising=False)
    monkeypatch.setattr(sys, "excepthook", lambda _t, exc, _tb: slot_errors.append(exc))
    # Under pytest, create_mmgui points SIGINT/SIGTERM at app.quit: give them back afterwards.
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    register_pymmcore_gui(store=tmp_path / "run.zarr", model="wiener")
    core = open_core("demo")
    # 128 px, not 64: at 64 px Wiener's blind pattern fit rejects an orientation and the run
    # ends "finished with errors" (no SR for those stacks).
    core.setProperty("Camera", "Size", 128)
    core.setExposure(2.0)
    assert signals_backend(core) == "qt"
    win = pymmcore_gui.create_mmgui(
        mmcore=core, mm_config=False, install_sys_excepthook=False, install_sentry=False,
        exec_app=False,
    )  # fmt: skip
    # The window restores its saved layout and shows itself once the event loop runs (a
    # zero-delay timer): let that happen first, as it has before a user can open a menu.
    app = ensure_app()
    for _ in range(500):
        app.processEvents()
        if win.isVisible():
            break
        time.sleep(0.01)
    assert win.isVisible()
    yield win, slot_errors
    win.close()
    win.deleteLater()
    ensure_app().processEvents()
    core.unloadAllDevices()
    for s, handler in handlers.items():
        signal.signal(s, handler)


def _window_menu_keys(win) -> list[str]:
    (menu,) = (a.menu() for a in win.menuBar().actions() if a.text() == "Window")
    return [getattr(a, "key", None) for a in menu.actions()]


def _wait_for(results: list, widget: LiveSRWidget) -> None:
    app = ensure_app()
    for _ in range(6000):  # bounded: the run itself takes a few seconds here
        app.processEvents()
        if results:
            break
        time.sleep(0.01)
    assert results, f"the live SR run did not finish; status: {widget.status_text}"


# pymmcore-gui's QApplication subclass only adds its icon, name and an exception signal; when
# an earlier test in this process made a plain QApplication, the window runs on that one.
@pytest.mark.filterwarnings("ignore:A QApplication instance already exists:RuntimeWarning")
# pymmcore-gui 0.0.1rc0 asks the MDA runner for its output handlers at every sequence start,
# which pymmcore-plus 0.18 deprecates (a warning only; the viewer falls back to its own store).
@pytest.mark.filterwarnings("ignore:`get_output_handlers` is deprecated:DeprecationWarning")
def test_live_sim_sr_docks_in_pymmcore_gui_and_runs_on_its_core(gui, tmp_path: Path) -> None:
    win, slot_errors = gui
    assert PYMMCORE_GUI_KEY in _window_menu_keys(win)
    action = win.get_action(PYMMCORE_GUI_KEY)
    assert action.text() == "Live SIM SR"

    action.trigger()  # Window > Live SIM SR
    ensure_app().processEvents()
    widget = win.get_widget(PYMMCORE_GUI_KEY, create=False)
    assert isinstance(widget, LiveSRWidget)
    assert widget.mmcore is win.mmcore  # the window's core, not CMMCorePlus.instance()
    assert win.get_dock_widget(PYMMCORE_GUI_KEY).widget() is widget
    assert action.isChecked() and widget.isVisible()

    widget.mda.setValue(
        useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": TIMEPOINTS})
    )
    results: list = []
    widget.runFinished.connect(results.append)
    widget.mda.control_btns.run_btn.click()
    _wait_for(results, widget)

    (summary,) = results
    assert not isinstance(summary, BaseException), repr(summary)
    assert summary.status == "finished", summary
    assert summary.frames_written == TIMEPOINTS * 9  # the demo's nine pattern frames per event
    assert widget.last_store == tmp_path / "run.zarr"
    store = open_store(widget.last_store)
    assert store.status == "finished" and store.sr_done().all()
    assert store.sr.shape == (TIMEPOINTS, 1, 1, 256, 256)
    sr, wf = np.asarray(store.sr[TIMEPOINTS - 1, 0, 0]), np.asarray(store.wf[TIMEPOINTS - 1, 0, 0])
    # Wiener SIM keeps the mean intensity of the wide-field image.
    assert np.isfinite(sr).all() and sr.mean() == pytest.approx(wf.mean(), rel=0.2)
    assert store.reconstructor_specs()["488"].backend == "wiener"

    action.trigger()  # and the same menu entry hides the dock again
    ensure_app().processEvents()
    assert not action.isChecked() and not widget.isVisible()
    assert not slot_errors, slot_errors  # pymmcore-gui's own slots took the SIM run in stride


def test_the_widget_and_the_gui_share_one_qt_binding() -> None:
    from qtpy import API_NAME

    assert API_NAME == "PyQt6"
    assert _binding_mismatch(pymmcore_gui.MicroManagerGUI) is None
    # A window class of no qtpy binding is refused with the fix, not docked into a crash.
    foreign = type("QMainWindow", (), {"__module__": "PySide6.QtWidgets"})
    why = _binding_mismatch(type("Window", (foreign,), {}))
    assert why == (
        "pymmcore-gui runs on PySide6 but livesr's widgets on PyQt6 (qtpy): set QT_API=pyside6 "
        "before importing livesr.gui"
    )


def test_register_refuses_a_core_of_its_own() -> None:
    with pytest.raises(TypeError, match="takes no mmcore: the widget gets the pymmcore-gui"):
        register_pymmcore_gui(mmcore=object())


def test_a_core_with_psygnal_signals_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from qtpy import QtWidgets

    ensure_app()
    monkeypatch.setenv("PYMM_SIGNALS_BACKEND", "psygnal")  # a core made before the GUI import
    core = open_core("demo")
    try:
        info = register_pymmcore_gui()
        window = QtWidgets.QMainWindow()
        window.mmcore = core  # what create_widget looks for on pymmcore-gui's main window
        with pytest.raises(RuntimeError, match=r"psygnal signals.*after `import pymmcore_gui`"):
            info.create_widget(window)
        window.deleteLater()
    finally:
        core.unloadAllDevices()
