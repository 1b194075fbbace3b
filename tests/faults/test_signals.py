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

from conftest import start_demo, wait_until_acquiring
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
