"""Promise: Ctrl-C and SIGTERM end a run within seconds, cleanly and truthfully.

The acquisition stops (the MDA is canceled), every raw frame acquired is flushed to disk,
stacks without SR are left for ``livesr reprocess``, the store's status says
``interrupted`` with counts, and the command exits 130 (SIGINT) or 143 (SIGTERM) as a shell
expects. Before, Ctrl-C unwound pymmcore-plus's runner, which never finished: a hang.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from fault_tools import start_demo, wait_until_acquiring

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
