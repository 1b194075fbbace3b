"""Page faults and kept memory of CPU inference with and without ``HostTuning(malloc=True)``.

The allocator settings last for the life of a process, so each case runs in a fresh
interpreter: what a user's script does (build a CPU reconstructor, call it repeatedly, also
from a thread started afterwards, like the live pipeline's inference thread). Minor page faults
(``ru_minflt``) show the effect without timing anything; docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

__all__ = ["bench_malloc"]

# Run with ``python -c PROBE MALLOC SIZE BATCH REPEATS``; prints one JSON row.
PROBE = """
import contextlib, ctypes, json, resource, sys, threading, time
import numpy as np
import livesr
from livesr.config import ModelConfig
from livesr.models import build_model
from livesr.reconstruct import TorchReconstructor

malloc, size, batch, repeats = sys.argv[1] == "1", *map(int, sys.argv[2:5])
tuning = livesr.host_tuning(livesr.HostTuning(malloc=True)) if malloc else contextlib.nullcontext()


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


with tuning:
    config = ModelConfig(in_frames=9, scale=2, options={
        "groups": 1, "blocks": 1, "width": 8, "reduction": 4, "size_psc": 16})
    rec = TorchReconstructor(build_model(config), threads=1)
    row = {"malloc": "tuned" if malloc else "default"}
    before = libc.mallinfo2().hblks
    big = np.ones(64 << 20, dtype=np.uint8)  # above glibc's largest mmap threshold (32 MB)
    row["mmapped_64mb_blocks"] = libc.mallinfo2().hblks - before
    del big
    x = np.random.default_rng(0).random((batch, 9, size, size), dtype=np.float32)
    rec(x)
    rec(x)
    rss_2 = rss()
    start, t0 = faults(), time.perf_counter()
    for _ in range(repeats):
        rec(x)
    row["faults_per_call"] = (faults() - start) / repeats
    row["ms_per_call"] = round((time.perf_counter() - t0) * 1e3 / repeats, 1)
    for _ in range(10):
        rec(x)
    row["rss_growth_mb"] = round((rss() - rss_2) / 2**20, 1)

    def worker():
        rec(x)  # the thread's first call touches its own stack and thread state
        start = faults()
        for _ in range(repeats):
            rec(x)
        row["worker_faults_per_call"] = (faults() - start) / repeats

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
print(json.dumps(row))
"""


def bench_malloc(
    sizes: list[int] | None = None, batch: list[int] | None = None, repeats: int | None = None
) -> list[dict[str, Any]]:
    """Run the probe with glibc's defaults and with the malloc tuning; one row per case.

    Parameters
    ----------
    sizes : list of int, optional
        Square frame sizes (default ``[384]``: the tiny network's upsampling conv then makes
        38 MB outputs at batch 2, above glibc's mmap threshold).
    batch : list of int, optional
        Stacks per call (default ``[2]``).
    repeats : int, optional
        Calls counted per case (default 4).

    Returns
    -------
    list of dict
        ``malloc`` (``"default"``/``"tuned"``), ``size``, ``batch``,
        ``mmapped_64mb_blocks`` (1 with glibc's defaults, 0 tuned), ``faults_per_call`` on
        the main thread, ``worker_faults_per_call`` on a thread started later,
        ``rss_growth_mb`` over 10 more calls, ``ms_per_call``; or an ``error`` off glibc.
    """
    if not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None:
        return [{"malloc": "tuned", "error": "malloc tuning applies to glibc only"}]
    rows: list[dict[str, Any]] = []
    for size in sizes or [384]:
        for n in batch or [2]:
            for malloc in ("0", "1"):
                done = subprocess.run(
                    [sys.executable, "-c", PROBE, malloc, str(size), str(n), str(repeats or 4)],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=600,
                )
                row = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append({"malloc": row.pop("malloc"), "size": size, "batch": n, **row})
    return rows
