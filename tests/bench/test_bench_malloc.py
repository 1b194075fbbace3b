"""`livesr bench --part malloc`: the allocator tuning is opt-in and keeps large blocks on the heap.

Page-fault counts and kept memory are reported by the bench, not asserted: they depend on the
machine. What is asserted is the setting itself (a 64 MB block is its own mapping by default
and comes from the heap when tuned) in a fresh interpreter per case.
"""

from __future__ import annotations

import os
import sys

import pytest

from livesr.bench._malloc import bench_malloc

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="malloc tuning applies to glibc only",
)
pytest.importorskip("torch")


def test_a_cpu_reconstructor_tunes_malloc_only_when_the_application_opts_in() -> None:
    default, tuned = bench_malloc(sizes=[64], batch=[1], repeats=1)
    assert (default["malloc"], tuned["malloc"]) == ("default", "tuned")
    # A library reconstructor leaves glibc's defaults: a 64 MB block is its own mapping.
    assert default["mmapped_64mb_blocks"] == 1
    assert tuned["mmapped_64mb_blocks"] == 0
    for row in (default, tuned):
        assert (row["size"], row["batch"]) == (64, 1)
        assert row["faults_per_call"] >= 0 and row["worker_faults_per_call"] >= 0
        assert row["ms_per_call"] > 0


def test_the_environment_still_opts_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVESR_MALLOC_TUNING", "0")
    rows = bench_malloc(sizes=[64], batch=[1], repeats=1)
    assert [row["mmapped_64mb_blocks"] for row in rows] == [1, 1]
