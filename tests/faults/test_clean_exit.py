"""Promise: a run that went well exits 0, every time; never through an abort.

Before, about 1 run in 12 of ``livesr demo --timepoints 2 --size 64 --backend wiener`` ended
with "FATAL: exception not rethrown" (SIGABRT, exit 134): MMCore's native callback thread
was still calling into Python while the interpreter finalised. `livesr.acquire.close_core`
stops it first; every command closes its core with it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from fault_tools import LIVESR

pytest.importorskip("pymmcore_plus")


@pytest.mark.slow
def test_short_runs_exit_0_every_time(tmp_path: Path) -> None:
    env = {**os.environ, "LIVESR_DEBUG": "0"}
    cmd = [LIVESR, "demo", "--timepoints", "2", "--size", "64", "--backend", "wiener"]
    codes = []
    for i in range(24):
        done = subprocess.run(
            [*cmd, "--out", str(tmp_path / f"run{i}.zarr")],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        codes.append(done.returncode)
        assert "FATAL" not in done.stderr, done.stderr[-2000:]
    assert codes == [0] * len(codes)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_closing_a_core_stops_its_native_callback_thread() -> None:
    from livesr.acquire import close_core, open_core

    core = open_core("demo")
    core.unloadAllDevices()  # what the commands did before: the thread lives on
    before = _threads()
    close_core(core)
    assert len(_threads()) == len(before) - 1  # MMCore's callback thread ended


def _threads() -> list[str]:
    return os.listdir(f"/proc/{os.getpid()}/task")
