from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from numpy.typing import NDArray

pytest.importorskip("pymmcore_plus")
pytest.importorskip("zarr")

from livesr.acquire import open_core
from livesr.reconstruct import ReconstructorInfo


@pytest.fixture
def core() -> Iterator[object]:
    """The demo microscope at 64x64 px, 1 ms exposure."""
    mmc = open_core("demo")
    mmc.setProperty("Camera", "Size", 64)
    mmc.setExposure(1.0)
    yield mmc
    if mmc.mda.is_running():
        mmc.mda.cancel()
    mmc.unloadAllDevices()


class UpsampleMean:
    """A small Reconstructor: mean of the stack, nearest-neighbour x2.

    `delay_s` makes it slower than the camera; `fail_on` makes the n-th call (0-based) raise.
    Records the thread it was called from.
    """

    def __init__(self, delay_s: float = 0.0, fail_on: set[int] | None = None) -> None:
        self.delay_s = delay_s
        self.fail_on = fail_on or set()
        self.calls = 0
        self.threads: set[str] = set()
        self.nice_values: set[int] = set()
        self.closed = False

    @property
    def info(self) -> ReconstructorInfo:
        return ReconstructorInfo(name="upsample-mean", backend="numpy", in_frames=9, scale=2)

    def warmup(self) -> None:
        pass

    def __call__(self, stacks: NDArray[np.float32]) -> NDArray[np.float32]:
        n = self.calls
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        if hasattr(os, "getpriority"):
            self.nice_values.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        if self.delay_s:
            time.sleep(self.delay_s)
        if n in self.fail_on:
            raise RuntimeError(f"deliberate failure on call {n}")
        mean = stacks.mean(axis=1, keepdims=True)
        return np.repeat(np.repeat(mean, 2, axis=2), 2, axis=3).astype(np.float32)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def upsample_mean() -> type[UpsampleMean]:
    return UpsampleMean
