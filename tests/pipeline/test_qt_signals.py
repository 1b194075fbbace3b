"""A core with Qt signals (made while a QApplication runs, as in napari-micromanager).

pymmcore-plus gives such a core Qt signals; connected the default way, frames would be queued
to the GUI thread and reach the pipeline late (or after it closed). The pipeline connects
directly, so frames are handled on the acquisition thread as with psygnal. Each case runs in a
fresh interpreter: a QApplication, once made, would turn every later core in the test session
Qt-backed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("qtpy")
pytest.importorskip("pymmcore_plus")
pytest.importorskip("zarr")

# What a GUI plugin does: the QApplication exists before the core, the MDA runs on its own
# thread, and the GUI thread does not return to the event loop until the run is over.
SCRIPT = """
import json, sys, threading
from qtpy.QtWidgets import QApplication
import useq
from livesr.acquire import connect_direct, open_core, signals_backend
from livesr.pipeline import LivePipeline

app = QApplication([])
core = open_core("demo")
core.setProperty("Camera", "Size", 64)
core.setExposure(1.0)
frame_threads = set()
connect_direct(core, core.mda.events.frameReady,
               lambda *_: frame_threads.add(threading.current_thread().name))
sequence = useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": 3})
with LivePipeline(core, sequence, sys.argv[1]) as pipe:
    runner = core.run_mda(pipe.events)
    runner.join()
s = pipe.summary
print(json.dumps({
    "backend": signals_backend(core), "frame_threads": sorted(frame_threads),
    "mda_thread": runner.name, "events": len(pipe.events), "acquired": s.frames_acquired,
    "written": s.frames_written, "stacks": s.stacks_assembled, "status": s.status,
}))
core.unloadAllDevices()
"""


def test_frames_of_a_qt_backed_core_are_handled_on_the_acquisition_thread(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "run.zarr")],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "qt"
    assert result["frame_threads"] == [result["mda_thread"]]
    assert result["acquired"] == result["written"] == result["events"] == 27
    assert (result["stacks"], result["status"]) == (3, "finished")
