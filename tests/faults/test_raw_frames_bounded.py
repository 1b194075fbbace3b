"""Promise: every raw frame reaches disk within a bounded, measured lag, in bounded memory.

The raw writer holds at most ``WriterConfig.raw_backlog_mb`` of frames. A disk slower than the
camera makes the acquisition wait for the writer (counted, logged once, an error line in the
summary): memory never grows without limit and no frame is dropped. The lag of every frame
(queued -> on disk) is measured and reported in the summary.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import useq

from livesr.config import PipelineConfig, WriterConfig
from livesr.io import SRStore, StackKey, open_store
from livesr.pipeline import LivePipeline
from livesr.pipeline._assembler import SIMStack
from livesr.pipeline._raw_writer import RawWriter


class SlowDisk(SRStore):
    """A real store on a disk that takes 20 ms per write call."""

    def write_raw_frames(self, key: StackKey, first: int, frames: np.ndarray) -> None:
        time.sleep(0.02)
        super().write_raw_frames(key, first, frames)


def test_a_slow_disk_holds_the_camera_back_instead_of_filling_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "run.zarr"
    SRStore.create(path, channels=["488"], n_patterns=9, frame_shape=(32, 32), scale=2,
                   n_timepoints=20)  # fmt: skip
    store = SlowDisk(open_store(path, "r+").group, path)
    frame_bytes = 32 * 32 * 2
    writer = RawWriter(store, lambda wf, s: None, lambda e: None, max_bytes=10 * frame_bytes)
    writer.start()
    peak = 0
    for t in range(20):
        frames = np.full((9, 32, 32), t + 1, np.uint16)
        for pos in range(9):  # a camera far faster than this disk
            writer.put_frame(StackKey(t, 0, 0, 0), pos, frames[pos])
            peak = max(peak, writer.backlog_bytes)
        writer.put_stack(SIMStack(frames, {"t": t, "c": 0}, [None] * 9, 0.0, 0.0))
    writer.close()

    assert peak <= 10 * frame_bytes
    assert writer.stalls > 0 and "cannot keep up" in caplog.text
    assert writer.frames_written == 180 and writer.error is None
    assert open_store(path).raw_done().all()
    # raw: (t, c, pattern, z, y, x) of position 0; every frame of stack t holds t + 1
    assert (open_store(path).raw[:, 0, :, 0, 0, 0] == np.arange(1, 21)[:, None]).all()
    lag = writer.lag_ms(99)
    assert lag is not None and lag > 0


def test_the_summary_reports_the_disk_lag_and_any_stall(core: Any, tmp_path: Path) -> None:
    seq = useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": 3})
    config = PipelineConfig(writer=WriterConfig(raw_backlog_mb=0.01))  # ~1 frame in memory
    with LivePipeline(core, seq, tmp_path / "run.zarr", config=config) as pipe:
        pipe.run()

    s = pipe.summary
    assert s.frames_written == s.frames_acquired == 27 and s.stacks_on_disk == 3
    assert s.raw_lag_p50_ms is not None and s.raw_lag_p99_ms is not None
    assert s.raw_lag_max_ms is not None and s.raw_lag_max_ms >= s.raw_lag_p99_ms
