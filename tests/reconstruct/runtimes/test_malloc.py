"""A CPU TorchReconstructor tunes glibc malloc: no per-call page faults, bounded memory, opt-out.

The settings are process-wide and permanent, so each case runs in a fresh interpreter.
Page-fault counts (``ru_minflt``) measure the effect without timing anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="malloc tuning applies to glibc only",
)

# What a user's script does: build a CPU reconstructor, then call it repeatedly, also from a
# worker thread started afterwards (the live pipeline's inference thread).
PROBE = """
import ctypes, json, resource, threading
import numpy as np
from livesr.config import ModelConfig
from livesr.models import build_model
from livesr.reconstruct import TorchReconstructor
from livesr.reconstruct.runtimes._malloc import malloc_tuned


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2


def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


config = ModelConfig(in_frames=9, scale=2, options={
    "groups": 1, "blocks": 1, "width": 8, "reduction": 4, "size_psc": 16})
rec = TorchReconstructor(build_model(config), threads=1)
out = {"tuned": malloc_tuned()}
before = libc.mallinfo2().hblks
big = np.ones(64 << 20, dtype=np.uint8)  # above glibc's largest mmap threshold (32 MB)
out["new_mmapped_blocks"] = libc.mallinfo2().hblks - before
del big
# The tiny network's upsampling conv still makes 38 MB outputs at 2x9x384x384.
x = np.random.default_rng(0).random((2, 9, 384, 384), dtype=np.float32)
rec(x)
rec(x)
out["rss_after_2"] = rss()
start = faults()
rec(x)
out["faults_per_call"] = faults() - start
for _ in range(10):
    rec(x)
out["rss_after_13"] = rss()


def worker():
    rec(x)  # the thread's first call touches its own stack and thread state
    start = faults()
    for _ in range(4):
        rec(x)
    out["worker_faults_per_call"] = (faults() - start) / 4


thread = threading.Thread(target=worker)
thread.start()
thread.join()
print(json.dumps(out))
"""


def _probe(**env: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def tuned() -> dict[str, Any]:
    return _probe(LIVESR_MALLOC_TUNING="1")


@pytest.fixture(scope="module")
def opted_out() -> dict[str, Any]:
    return _probe(LIVESR_MALLOC_TUNING="0")


def test_cpu_reconstructor_moves_large_blocks_onto_the_heap(
    tuned: dict[str, Any], opted_out: dict[str, Any]
) -> None:
    assert tuned["tuned"] is True
    assert tuned["new_mmapped_blocks"] == 0
    # The opt-out keeps glibc's default: a 64 MB block is its own mapping.
    assert opted_out["tuned"] is False
    assert opted_out["new_mmapped_blocks"] == 1


def test_repeated_calls_reuse_memory_instead_of_faulting_it_in(
    tuned: dict[str, Any], opted_out: dict[str, Any]
) -> None:
    # Default glibc: each call maps and zeroes its large outputs afresh.
    assert opted_out["faults_per_call"] > 10_000
    assert tuned["faults_per_call"] < opted_out["faults_per_call"] / 20
    # Also from a thread started after the reconstructor was built (one shared arena).
    assert opted_out["worker_faults_per_call"] > 10_000
    assert tuned["worker_faults_per_call"] < opted_out["worker_faults_per_call"] / 20


def test_kept_memory_does_not_grow_over_repeated_calls(tuned: dict[str, Any]) -> None:
    # Freed blocks are reused: at most a fragmentation step (one ~38 MB block was seen), far
    # from the 11 x 38 MB that leaking one output per call would add.
    assert tuned["rss_after_13"] <= 1.15 * tuned["rss_after_2"]
