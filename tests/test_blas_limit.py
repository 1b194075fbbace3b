"""livesr holds OpenBLAS to one thread only while its own tiny products run (Wiener, QC)."""

from __future__ import annotations

import threading

import pytest
from threadpoolctl import threadpool_info

from livesr._blas import single_threaded_blas


def openblas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["internal_api"] == "openblas"]


def test_overlapping_holders_on_two_threads_leave_the_process_as_it_was() -> None:
    before = openblas_threads()
    if not before:
        pytest.skip("numpy/scipy here are not built on OpenBLAS")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, list[int]] = {}

    def first() -> None:  # in first, out first: must not restore under the second holder
        with single_threaded_blas():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second() -> None:
        first_in.wait(10)
        with single_threaded_blas():
            second_in.set()
            first_out.wait(10)
            seen["second, after first left"] = openblas_threads()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert set(seen["second, after first left"]) == {1}
    assert openblas_threads() == before
