"""Promise: what a killed run leaves behind is found by the next writer, never skipped.

A complete raw stack whose ``raw_done`` mark was lost (killed between writing and marking)
is recognised by its frames on disk and reconstructed by ``reprocess``, with a warning;
zarr's temporary ``*.partial`` files of an interrupted write are removed when the store is
next opened for writing, so they do not warn on every later open.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import useq

from livesr.io import open_store
from livesr.pipeline import LivePipeline

pytest.importorskip("dask")
# The demo's dim stacks fall back to the calibration (a warning, then the same SR).
pytestmark = pytest.mark.filterwarnings("ignore::livesr.reconstruct.SIMFitWarning")


def _run(core: Any, out: Path) -> None:
    from livesr.config import PipelineConfig
    from livesr.pipeline import build_reconstructors
    from livesr.simulate import demo_calibration

    seq = useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": 3})
    config = PipelineConfig(calibration=demo_calibration())
    recs = build_reconstructors({"488": "wiener"}, frame_shape=(64, 64), config=config, threads=1)
    with LivePipeline(core, seq, out, reconstructors=recs, config=config) as pipe:
        pipe.run()


def test_reprocess_finds_a_complete_stack_whose_mark_was_lost(
    core: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from livesr.distributed import reprocess

    out = tmp_path / "run.zarr"
    _run(core, out)
    store = open_store(out, "r+")
    # What a kill between write and mark leaves (position 0: masks are (t, c, z)).
    store._array("0/raw_done")[1, 0, 0] = False
    store._array("0/sr_done")[1, 0, 0] = False

    reprocess(out, scheduler="threads", n_workers=1)

    again = open_store(out)
    assert again.raw_done().all() and again.sr_done().all()
    assert "had no raw_done mark" in caplog.text


def test_an_incomplete_stack_stays_unmarked(core: Any, tmp_path: Path) -> None:
    from livesr.io import unmarked_complete_stacks

    out = tmp_path / "run.zarr"
    _run(core, out)
    store = open_store(out, "r+")
    store._array("0/raw_done")[1, 0, 0] = False
    # Its last frame never came: chunk <p>/raw/c/<t>/<c>/<pattern>/<z>/0/0.
    (out / "0" / "raw" / "c" / "1" / "0" / "8" / "0" / "0" / "0").unlink()
    store._array("0/raw_done")[2, 0, 0] = False
    assert unmarked_complete_stacks(open_store(out)) == [(2, 0, 0, 0)]


def test_write_leftovers_are_removed_by_the_next_writer(core: Any, tmp_path: Path) -> None:
    import zarr

    out = tmp_path / "run.zarr"
    _run(core, out)
    leftover = out / "zarr.0123456789abcdef0123456789abcdef.partial"
    leftover.write_bytes(b"{")  # a root metadata write cut short
    data = out / "0" / "raw" / "c" / "0" / "0" / "0" / "0" / "0" / "0"
    before = data.read_bytes()

    open_store(out, "r+")

    assert not leftover.exists() and data.read_bytes() == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "0" in list(zarr.open_group(out, mode="r").keys())  # position 0's series
    assert np.asarray(open_store(out).raw[0, 0]).any()
