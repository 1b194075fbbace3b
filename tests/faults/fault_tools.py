"""Helpers of the promise tests: a live demo run in a child process, faulty reconstructors."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from livesr.reconstruct import ReconstructorInfo

LIVESR = shutil.which("livesr") or str(Path(sys.executable).with_name("livesr"))


def start_demo(out: Path, *args: str, timepoints: int = 2000) -> subprocess.Popen[str]:
    """``livesr demo`` at full rate (64 px, no interval, Wiener) in a child process."""
    cmd = [LIVESR, "demo", "--size", "64", "--interval", "0", "--backend", "wiener"]
    cmd += ["--timepoints", str(timepoints), "--out", str(out), *args]
    env = {**os.environ, "LIVESR_DEBUG": "0"}
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=deliver_sigint,
    )  # fmt: skip


def deliver_sigint() -> None:
    """In a child before exec: SIGINT back to its default, so Python installs its handler.

    A shell without job control starts background jobs with SIGINT ignored, and every child
    inherits that; Python then leaves SIGINT ignored (as a program run with ``&`` should). A
    terminal's Ctrl-C reaches livesr with the default disposition: so must the tests' signal.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until_acquiring(out: Path, proc: subprocess.Popen[str], n_chunks: int = 200) -> None:
    """Block until the run has written some raw chunks (a guard against hangs, not a timing)."""
    for _ in range(1200):
        raw = out / "0" / "raw" / "c"  # position 0's raw chunks
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
