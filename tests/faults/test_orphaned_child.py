"""Promise: when the acquisition process dies, its inference children exit quietly.

An inference child whose parent was killed finds its socket closed: it stops without a
``BrokenPipeError`` traceback on the user's terminal (and does not linger).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("pymmcore_plus")
pytestmark = pytest.mark.skipif(os.name != "posix", reason="inference processes are POSIX-only")

SCRIPT = textwrap.dedent(
    """
    import sys, useq
    from livesr.acquire import open_core
    from livesr.config import PipelineConfig
    from livesr.pipeline import LivePipeline, build_reconstructors

    core = open_core("demo")
    core.setProperty("Camera", "Size", 64)
    core.setExposure(1.0)
    cfg = PipelineConfig(inference_mode="process")
    recs = build_reconstructors({"488": sys.argv[1]}, backend="torch", frame_shape=(64, 64),
                                config=cfg)
    seq = useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": 100000})
    with LivePipeline(core, seq, sys.argv[2], reconstructors=recs, config=cfg) as pipe:
        def started(image, info):
            print("child", pipe.inference_processes["488"], flush=True)
            pipe.signals.srFrameReady.disconnect(started)
        pipe.signals.srFrameReady.connect(started)
        pipe.run()
    """
)


@pytest.mark.slow  # two torch processes start: tens of seconds on a small machine
@pytest.mark.parametrize("when", ["starting", "serving"])
def test_an_orphaned_inference_child_exits_without_a_traceback(tmp_path: Path, when: str) -> None:
    from tiny_models import save_tiny_weights

    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(weights), str(tmp_path / "run.zarr")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        if when == "starting":  # still importing and building its reconstructor
            child = _wait_for_child(proc.pid)
        else:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("child "), proc.communicate()
            child = int(line.split()[1])
            time.sleep(0.5)  # the child is busy with the next stacks
    finally:
        proc.kill()
    # The child shares the parent's stderr: reading to its end waits for the child too.
    _, stderr = proc.communicate(timeout=120)
    for _ in range(300):  # it does not linger (a guard, not a timing)
        if _gone(child):
            break
        time.sleep(0.1)
    assert _gone(child)
    assert "BrokenPipeError" not in stderr and "Traceback" not in stderr, stderr[-3000:]


def _wait_for_child(parent: int) -> int:
    for _ in range(3000):
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == parent and b"_inference_child" in cmdline:
                return int(stat.parent.name)
        time.sleep(0.02)
    raise AssertionError("no inference child started")


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] in "ZX"  # exited
    except OSError:
        return True
