"""Promise: the status tells the truth.

``finished`` only when every raw stack is on disk and every SR frame is done; a run whose
reconstructor fails in any way (raises, returns the wrong shape, raises SystemExit, never
returns) ends ``finished with errors`` with the counts, never ``finished`` and never a hang.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import useq

from livesr.config import PipelineConfig
from livesr.io import open_store
from livesr.pipeline import LivePipeline

SEQ = useq.MDASequence(channels=["488", "561"], time_plan={"interval": 0, "loops": 4})


def _run(core: Any, out: Path, recs: dict[str, Any], **config: Any) -> Any:
    with LivePipeline(
        core, SEQ, out, reconstructors=recs, config=PipelineConfig(**config)
    ) as pipe:
        pipe.run()
    return pipe.summary


@pytest.mark.parametrize("mode", ["shape", "raise"])
def test_a_failing_reconstructor_is_not_a_finished_run(
    core: Any, tmp_path: Path, faulty: Any, mode: str
) -> None:
    s = _run(core, tmp_path / "run.zarr", {"488": faulty(mode), "561": faulty()})

    store = open_store(tmp_path / "run.zarr")
    assert s.status == store.status == "finished with errors"
    assert s.sr_failed == 4 and s.sr_missing == 4 and s.sr_live == 4  # 561 is fine
    assert store.sr_done()[..., 1].all() and not store.sr_done()[..., 0].any()
    assert store.raw_done().all()


def test_system_exit_in_a_reconstructor_does_not_kill_inference(
    core: Any, tmp_path: Path, faulty: Any
) -> None:
    rec = faulty("exit")
    s = _run(core, tmp_path / "run.zarr", {"488": rec, "561": faulty()})

    assert rec.calls > 1  # the thread lived on after SystemExit
    assert s.status == "finished" and open_store(tmp_path / "run.zarr").sr_done().all()
    assert s.stacks_skipped == 1 and s.sr_backfilled == 1


def test_a_reconstructor_that_never_returns_is_abandoned(
    core: Any, tmp_path: Path, faulty: Any
) -> None:
    hung = faulty("hang", hang_after=1)
    try:
        s = _run(
            core, tmp_path / "run.zarr", {"488": hung, "561": faulty()},
            reconstruct_timeout_s=0.5,
        )  # fmt: skip
    finally:
        hung.release.set()

    assert s.status == "finished with errors"
    assert any("did not return within 0.5 s" in e for e in s.errors)
    store = open_store(tmp_path / "run.zarr")
    assert store.sr_done()[..., 1].all()  # the other channel is unaffected
    assert s.sr_missing == 3 and store.raw_done().all()
