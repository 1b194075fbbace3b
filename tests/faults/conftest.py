"""The promises livesr keeps when things go wrong, one module each (its docstring says it).

test_overwrite              nothing is deleted that livesr did not create
test_raw_frames_bounded     raw frames reach disk within a bounded lag, in bounded memory
test_kill9                  after kill -9 no SR exists without its raw data
test_signals                Ctrl-C / SIGTERM end a run in seconds, truthfully (130 / 143)
test_clean_exit             a good run exits 0 every time, never through an abort
test_status_truth           finished only when all raw and SR are done; failures never hang
test_fairness               every channel gets live SR when inference falls behind
test_disk_full              a full or read-only disk is one line; nothing written is lost
test_crash_leftovers        what a killed run leaves is found by the next writer
test_orphaned_child         inference children of a dead parent exit quietly
test_cli_errors             bad input is one clear line, before the microscope starts
test_no_code_from_files     no file a user hands livesr is unpickled
test_non_finite_input       NaN / Inf input is refused, never a NaN image
test_memory_bounds          a small file cannot make livesr allocate gigabytes
test_damaged_cache          a damaged cached file is rebuilt

This conftest holds their shared parts: the demo microscope, a live demo run in a child
process, and reconstructors that misbehave on purpose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from livesr.reconstruct import ReconstructorInfo

LIVESR = shutil.which("livesr") or str(Path(sys.executable).with_name("livesr"))


def start_demo(out: Path, *args: str, timepoints: int = 2000) -> subprocess.Popen[str]:
    """``livesr demo`` at full rate (64 px, no interval, Wiener) in a child process."""
    cmd = [LIVESR, "demo", "--size", "64", "--interval", "0", "--backend", "wiener"]
    cmd += ["--timepoints", str(timepoints), "--out", str(out), *args]
    env = {**os.environ, "LIVESR_DEBUG": "0"}
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def wait_until_acquiring(out: Path, proc: subprocess.Popen[str], n_chunks: int = 200) -> None:
    """Block until the run has written some raw chunks (a guard against hangs, not a timing)."""
    for _ in range(1200):
        raw = out / "raw" / "c"
        if raw.is_dir() and sum(1 for _ in raw.rglob("*") if _.is_file()) >= n_chunks:
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.communicate()}")
        time.sleep(0.1)
    raise AssertionError("the run wrote no raw frames")


class Faulty:
    """A Reconstructor (mean of the stack, x2) that misbehaves on purpose.

    `mode`: ``"ok"``; ``"shape"`` returns the wrong shape; ``"raise"`` always raises;
    ``"exit"`` raises SystemExit on its first call; ``"hang"`` never returns after `hang_after`
    calls; `delay_s` makes it slower than the camera.
    """

    def __init__(self, mode: str = "ok", delay_s: float = 0.0, hang_after: int = 0) -> None:
        self.mode = mode
        self.delay_s = delay_s
        self.hang_after = hang_after
        self.calls = 0
        self.release = threading.Event()

    @property
    def info(self) -> ReconstructorInfo:
        return ReconstructorInfo(name=f"faulty-{self.mode}", backend="numpy", in_frames=9, scale=2)

    def warmup(self) -> None:
        pass

    def __call__(self, stacks: NDArray[np.float32]) -> NDArray[np.float32]:
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.mode == "raise":
            raise RuntimeError("deliberate failure")
        if self.mode == "exit" and self.calls == 1:
            raise SystemExit(3)
        if self.mode == "hang" and self.calls > self.hang_after:
            self.release.wait()  # released by the test at its end
        mean = stacks.mean(axis=1, keepdims=True)
        out = np.repeat(np.repeat(mean, 2, axis=2), 2, axis=3).astype(np.float32)
        return out[..., :-1] if self.mode == "shape" else out

    def close(self) -> None:
        self.release.set()


@pytest.fixture
def core() -> Iterator[Any]:
    """The demo microscope at 64x64 px, 1 ms exposure."""
    pytest.importorskip("pymmcore_plus")
    from livesr.acquire import close_core, open_core

    mmc = open_core("demo")
    mmc.setProperty("Camera", "Size", 64)
    mmc.setExposure(1.0)
    yield mmc
    close_core(mmc)


@pytest.fixture
def faulty() -> Callable[..., Faulty]:
    return Faulty
