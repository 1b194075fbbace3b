"""Promise: after ``kill -9`` no SR frame exists without its raw stack on disk.

The SR writer writes a live SR frame only once its raw stack is written and marked
``raw_done``; everything written stays readable, and ``livesr reprocess`` can rebuild SR
from the raw data alone.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from fault_tools import start_demo, wait_until_acquiring

from livesr.io import StackKey, open_store

pytest.importorskip("pymmcore_plus")


def test_no_sr_without_raw_after_kill_9(tmp_path: Path) -> None:
    out = tmp_path / "run.zarr"
    proc = start_demo(out)
    try:
        wait_until_acquiring(out, proc, n_chunks=600)
        time.sleep(1.0)  # SR and raw both flowing
    finally:
        proc.kill()
        proc.communicate()

    store = open_store(out)
    assert store.status == "running"  # it never got to say anything else
    raw, sr = store.raw_done(), store.sr_done()
    assert sr.sum() > 10
    assert not (sr & ~raw).any(), np.argwhere(sr & ~raw)
    last = StackKey(*map(int, np.argwhere(raw)[-1]))  # (t, p, z, c)
    assert (store.read_stack(last) > 0).all(axis=(1, 2)).all()  # frames, not fill
