"""Promise: Ctrl-C and SIGTERM end a run within seconds, cleanly and truthfully.

The acquisition stops (the MDA is canceled), every raw frame acquired is flushed to disk,
stacks without SR are left for ``livesr reprocess``, the store's status says
``interrupted`` with counts, and the command exits 130 (SIGINT) or 143 (SIGTERM) as a shell
expects. Before, Ctrl-C unwound pymmcore-plus's runner, which never finished: a hang.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest
import useq
from fault_tools import deliver_sigint, start_demo, wait_until_acquiring

from livesr.io import open_store

pytest.importorskip("pymmcore_plus")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_the_run_cleanly(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    out = tmp_path / "run.zarr"
    proc = start_demo(out)
    try:
        wait_until_acquiring(out, proc)
        proc.send_signal(sig)
        # A guard against the old hang, not a timing: the run has 2000 time points to go.
        stdout, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert f"status: interrupted by {sig.name}" in stdout

    store = open_store(out)
    summary = store.info["summary"]
    assert store.status == "interrupted" and summary["stopped_by"] == sig.name
    assert summary["frames_written"] == summary["frames_acquired"] > 0
    assert summary["stacks_on_disk"] == summary["stacks_assembled"] > 0
    raw, sr = store.raw_done(), store.sr_done()
    assert not (sr & ~raw).any()
    assert summary["sr_missing"] == int((raw & ~sr).sum())  # what reprocess will do
    assert summary["stacks_assembled"] < 4000  # it did stop early


def test_a_keyboard_interrupt_through_the_runner_does_not_hang_the_run(
    core: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A script that runs the MDA itself, outside the pipeline's signal handling: Ctrl-C
    # unwinds pymmcore-plus's runner, which then never reports finished.
    import useq

    from livesr.pipeline import LivePipeline, _pipeline

    monkeypatch.setattr(_pipeline, "_MDA_STOP_TIMEOUT_S", 0.5)
    seq = useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": 50})
    frames = 0

    def interrupt(*_: object) -> None:
        nonlocal frames
        frames += 1
        if frames == 40:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with LivePipeline(core, seq, tmp_path / "run.zarr") as pipe:  # type: ignore[arg-type]
            core.mda.events.frameReady.connect(interrupt)  # type: ignore[attr-defined]
            core.mda.run(pipe.events)  # type: ignore[attr-defined]

    store = open_store(tmp_path / "run.zarr")
    assert store.status == "interrupted" and store.raw_done()[:4, ..., 0].all()
    assert pipe.summary.frames_written == pipe.summary.frames_acquired >= 36


def _wait_for_first_sr(out: Path, proc: subprocess.Popen[str]) -> None:
    """Block until the run has written an SR frame (a guard against hangs, not a timing)."""
    for _ in range(1800):
        done = out / "0" / "sr_done" / "c"  # position 0's SR-done chunks: one once SR exists
        if done.is_dir() and any(p.is_file() for p in done.rglob("*")):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.communicate()}")
        time.sleep(0.1)
    raise AssertionError("the run wrote no SR frame")


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_ends_a_run_with_the_live_preview_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sig: signal.Signals, code: int
) -> None:
    # With --preview Qt's loop owns the main thread and the run goes on a background thread,
    # where the pipeline cannot install its own handlers: the preview must stop it instead.
    pytest.importorskip("qtpy")
    pytest.importorskip("ndv")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    out = tmp_path / "run.zarr"
    proc = start_demo(out, "--preview")
    try:
        _wait_for_first_sr(out, proc)
        proc.send_signal(sig)
        # Without the preview's handling the run would go on for its 2000 time points and the
        # window would then stay open: a hang, which this bound turns into a failure.
        stdout, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr[-3000:]
    assert "Traceback" not in stderr
    assert f"status: interrupted by {sig.name}" in stdout

    store = open_store(out)
    summary = store.info["summary"]
    assert store.status == "interrupted" and summary["stopped_by"] == sig.name
    assert summary["frames_written"] == summary["frames_acquired"] > 0
    raw, sr = store.raw_done(), store.sr_done()
    # Every stack acquired is on disk, and what has no SR is counted for reprocess.
    assert int(raw.sum()) == summary["stacks_on_disk"] == summary["stacks_assembled"] > 0
    assert summary["sr_live"] > 0 and not (sr & ~raw).any()
    assert summary["sr_missing"] == int((raw & ~sr).sum())
    assert summary["stacks_assembled"] < 4000  # it did stop early


_QT_LOOP_WITH_STOPPER = """
from qtpy import QtCore, QtWidgets
from livesr.preview._stop import RunStopper

app = QtWidgets.QApplication([])
stopper = RunStopper()
stopper.install()
seen = []

def tick():
    if stopper.signame and not seen:
        seen.append(stopper.signame)
        print("stop asked", flush=True)

timer = QtCore.QTimer()
timer.timeout.connect(tick)
timer.start(100)
print("ready", flush=True)
app.exec()
"""


class _Lines:
    """The lines of a child's pipe as a reader thread gets them, so a wait can time out."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.stream:
            self._queue.put(line)

    def wait_for(self, text: str) -> None:
        """Skip lines until one holds `text`; fail after 60 s without one (a hang guard)."""
        while True:
            self.seen.append(self._queue.get(timeout=60))
            if text in self.seen[-1]:
                return

    def close(self) -> str:
        """Read to the end (the child has exited), close the pipe; everything read."""
        self._thread.join(60)
        while not self._queue.empty():
            self.seen.append(self._queue.get())
        self.stream.close()
        return "".join(self.seen)


def test_a_third_ctrl_c_ends_a_preview_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # In a Qt loop, Python's own SIGINT handler raises KeyboardInterrupt inside whatever slot
    # runs, where PySide6 prints and swallows it: Ctrl-C could never end the process.
    pytest.importorskip("qtpy")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    proc = subprocess.Popen(
        [sys.executable, "-c", _QT_LOOP_WITH_STOPPER],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=deliver_sigint,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    out, err = _Lines(proc.stdout), _Lines(proc.stderr)
    try:
        out.wait_for("ready")
        proc.send_signal(signal.SIGINT)
        out.wait_for("stop asked")
        proc.send_signal(signal.SIGINT)
        err.wait_for("signal once more to abort at once")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()
        stderr = err.close()
    assert proc.returncode == -signal.SIGINT, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("who_runs", ["pipeline", "application"])
def test_a_stop_asked_before_the_mda_starts_acquires_nothing(
    core: Any, tmp_path: Path, who_runs: str
) -> None:
    # The window between entering the pipeline (children loading) and the MDA's start, where
    # mda.cancel() is a no-op: the stop is kept and the MDA canceled as it starts.
    from livesr.config import OpticsConfig, PatternConfig
    from livesr.pipeline import LivePipeline
    from livesr.reconstruct import WienerReconstructor

    seq = useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": 50})
    rec = WienerReconstructor(PatternConfig(), OpticsConfig())
    with LivePipeline(core, seq, tmp_path / "run.zarr", reconstructors={"488": rec}) as pipe:
        pipe.request_stop("SIGTERM")
        if who_runs == "pipeline":
            pipe.run()
        else:  # e.g. a GUI that runs the MDA itself
            core.mda.run(pipe.events)
    summary = pipe.summary
    assert summary.status == "interrupted" and summary.stopped_by == "SIGTERM"
    assert summary.frames_acquired == 0 and summary.stacks_assembled == 0
    assert open_store(tmp_path / "run.zarr").status == "interrupted"
