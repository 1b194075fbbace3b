"""`single_threaded_blas`: keep OpenBLAS to one thread around the Wiener path's tiny products.

The band separation is a (bands x F) @ (F x pixels) product with F = 9 or 25: far too small for
a second BLAS thread to pay off. OpenBLAS still wakes its pool for it, and the pool then
spin-waits on the other cores after every call. On a 2-core machine that doubled the Wiener
path's CPU time (45 ms wall, 89 ms CPU per 9 x 512 x 512 stack) and, with anything else running
- the camera thread, the raw writer, a second channel - more than doubled its wall time
(48 -> 113 ms), because the spinning threads compete with real work. Limiting the pool for the
duration of the call costs about 10 us.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

__all__ = ["single_threaded_blas"]


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

    Notes
    -----
    The limit is process-wide while the block runs (OpenBLAS has no per-thread setting), so
    BLAS calls from other threads during that time run single-threaded too. The Wiener path
    holds it for one stack at a time.
    """
    with _openblas().limit(limits=1):
        yield
