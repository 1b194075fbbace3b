"""`single_threaded_blas`: keep OpenBLAS to one thread around livesr's tiny matrix products.

Wiener SIM's band separation is a (bands x F) @ (F x pixels) product with F = 9 or 25, and the
quality checks' re-synthesis is of the same kind: far too small for a second BLAS thread to
pay off. OpenBLAS still wakes its pool for them, and the pool then spin-waits on the other
cores after every call. On a 2-core machine that doubled the Wiener path's CPU time (45 ms
wall, 89 ms CPU per 9 x 512 x 512 stack) and, with anything else running - the camera thread,
the raw writer, a second channel - more than doubled its wall time (48 -> 113 ms), because
the spinning threads compete with real work. Limiting the pool costs about 10 us.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["single_threaded_blas"]

_lock = threading.Lock()
_holders = 0
_restore: Any = None  # the limit context of the first holder, exited by the last


@functools.cache
def _openblas() -> Any:
    """The threadpoolctl controller over the loaded OpenBLAS libraries (numpy's, scipy's).

    Built once, on first use, when numpy and scipy have loaded theirs. Only OpenBLAS is
    selected: other BLAS libraries in the process (e.g. a deep-learning runtime's) are not
    touched.
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(internal_api="openblas")


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with OpenBLAS limited to one thread; the previous limits come back after.

    Threads
    -------
    Any. OpenBLAS has no per-thread setting, so the limit is process-wide while any block
    runs: the first block in sets it, the last one out restores what was there before (a
    count under a lock, so overlapping blocks on two threads - a Wiener channel and the
    quality checks - never leave the process limited). BLAS calls from other threads
    meanwhile run single-threaded too.
    """
    global _holders, _restore
    with _lock:
        if _holders == 0:
            _restore = _openblas().limit(limits=1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                _restore.restore_original_limits()
                _restore = None
