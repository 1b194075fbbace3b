"""Keep glibc's allocator from returning inference activations to the kernel after every op.

torch's CPU allocator is plain ``posix_memalign``/``free``. Full-size DFCAN at 9x256x256 makes
activations of 17 MB (batch 1) to 67 MB (the upsampling conv) per op. With glibc's defaults,
blocks above the dynamic mmap threshold (at most 32 MB) are a fresh ``mmap`` each time, and
freed heap memory above the trim threshold goes back to the kernel. Every op then page-faults
and the kernel zeroes its whole output again: 0.28 M minor faults per batch-1 call, 1.6 M at
batch 2, and batch 2 ran 2.8x slower than batch 1 instead of 2x (docs/benchmarks.md).

`tune_malloc` sets, through ``mallopt``:

- ``M_MMAP_MAX = 0``: large blocks come from the heap, where freed blocks are reused;
- ``M_TRIM_THRESHOLD = INT_MAX``: freed heap memory stays mapped for the next call;
- ``M_ARENA_MAX = 1``: no new per-thread arenas. A thread's arena is made of 64 MB
  sub-heaps, serves blocks larger than a sub-heap with ``mmap`` whatever ``M_MMAP_MAX`` says
  and unmaps sub-heaps that fall empty (82 k faults per call remained in a worker thread).
  Arenas that threads created *before* the tuning stay in use and are handed round-robin to
  new threads, so the full effect is only guaranteed on the main thread (where the inference
  child process runs the model) or when the tuning precedes other threads' first malloc.

The settings are process-wide and kept for the life of the process: the process holds on to
its peak heap (about 1 GB for full-size DFCAN at batch 2) instead of returning it between
calls. Repeated calls reuse that memory; they do not grow it. Off glibc (musl, macOS, Windows)
`tune_malloc` does nothing. ``LIVESR_MALLOC_TUNING=0`` in the environment opts out; an
environment variable rather than a `BackendConfig` field because the setting belongs to the
process, not to one reconstructor, and is inherited by the inference child process.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

from livesr._logger import logger

__all__ = ["MALLOC_TUNING_ENV", "malloc_tuned", "tune_malloc"]

#: Set to ``0`` (or ``false``/``no``/``off``) to keep glibc's default allocator behaviour.
MALLOC_TUNING_ENV = "LIVESR_MALLOC_TUNING"

# glibc <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_INT_MAX = 2**31 - 1

_lock = threading.Lock()
_state: dict[str, bool | None] = {"tuned": None}


def _glibc() -> ctypes.CDLL | None:
    """The running glibc, or None on other C libraries (musl stubs ``mallopt`` out)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        version = libc.gnu_get_libc_version
    except (OSError, AttributeError):
        return None
    version.restype = ctypes.c_char_p
    return libc


def _opted_out() -> bool:
    return os.environ.get(MALLOC_TUNING_ENV, "1").strip().lower() in ("0", "false", "no", "off")


def malloc_tuned() -> bool:
    """Whether `tune_malloc` changed this process's allocator settings."""
    return bool(_state["tuned"])


def tune_malloc() -> bool:
    """Apply the allocator settings of this module once per process (thread-safe).

    Returns
    -------
    bool
        True if the settings are in effect, False when opted out (``LIVESR_MALLOC_TUNING=0``)
        or not on glibc. The first call decides; later calls return the same answer.
    """
    with _lock:
        if _state["tuned"] is not None:
            return bool(_state["tuned"])
        libc = None if _opted_out() else _glibc()
        if libc is None:
            _state["tuned"] = False
            logger.debug("malloc tuning skipped (opted out, or the C library is not glibc)")
            return False
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        ok = all(
            libc.mallopt(param, value) == 1
            for param, value in (
                (_M_MMAP_MAX, 0),
                (_M_TRIM_THRESHOLD, _INT_MAX),
                (_M_ARENA_MAX, 1),
            )
        )
        _state["tuned"] = ok
        if ok:
            logger.debug("glibc malloc tuned for inference (no mmap, no trim, one arena)")
        else:
            logger.warning("glibc mallopt refused a setting; inference may page-fault per op")
        return ok
