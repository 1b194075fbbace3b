"""Promise: when reconstruction is slower than the camera, every channel still gets live SR.

Each channel has its own latest-wins queue and the inference worker takes from the channels
in turn, so a two-colour preview shows both colours; what is skipped live is backfilled.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from livesr.io import SRStore
from livesr.pipeline import SRFrameInfo
from livesr.pipeline._assembler import SIMStack
from livesr.pipeline._channel import ChannelReconstructor
from livesr.pipeline._worker import InferenceWorker


class Gated:
    """Mean x2 reconstructor whose every call waits for the test to open the gate once."""

    def __init__(self, faulty: Any) -> None:
        self.inner = faulty()
        self.info = self.inner.info
        self.gate = threading.Semaphore(0)
        self.started = 0

    def warmup(self) -> None:
        pass

    def __call__(self, stacks: np.ndarray) -> np.ndarray:
        self.started += 1
        self.gate.acquire()
        return self.inner(stacks)  # type: ignore[no-any-return]

    def close(self) -> None:
        pass


def _stack(t: int, c: int) -> SIMStack:
    data = np.full((9, 16, 16), 100 + t, np.uint16)
    return SIMStack(data, {"t": t, "c": c}, [None] * 9, 0.0, time.perf_counter())


def _wait(predicate: Any) -> None:
    for _ in range(2000):
        if predicate():
            return
        time.sleep(0.005)
    raise AssertionError("the worker did not move on")


def test_both_channels_get_live_sr_when_inference_falls_behind(
    tmp_path: Path, faulty: Any
) -> None:
    store = SRStore.create(
        tmp_path / "run.zarr", channels=["488", "561"], n_patterns=9, frame_shape=(16, 16),
        scale=2, n_timepoints=40,
    )  # fmt: skip
    gated = Gated(faulty)
    live = {"488": 0, "561": 0}

    def count(image: np.ndarray, info: SRFrameInfo) -> None:
        if not info.backfill:
            live[info.channel] += 1

    rec = ChannelReconstructor(gated)
    worker = InferenceWorker(store, {0: rec, 1: rec}, ("488", "561"), 4, count, lambda skip: None)
    worker.start()
    # Two stacks (one per channel) arrive per reconstruction: the camera is twice as fast.
    # One queue for the pipeline skipped the same channel's stack every time from t=4 on.
    for t in range(30):
        worker.submit(_stack(t, 0))
        worker.submit(_stack(t, 1))
        started = gated.started
        gated.gate.release()
        _wait(lambda started=started: gated.started > started)
    for _ in range(200):
        gated.gate.release()
    worker.finish(backfill=False)

    assert min(live.values()) >= 0.4 * sum(live.values()), live
