"""What livesr may change about the process it runs in, only when the application opts in.

A library is a good guest: `LivePipeline`, `create_reconstructor` and the reconstructors leave
the allocator, thread cores, priorities and torch's thread count of the host process alone.
The ``livesr`` commands own their process and opt in with
``host_tuning(HostTuning.application())``; a script can do the same. Everything `host_tuning`
changes is restored when it exits, except the allocator settings, which glibc cannot take back
(see `tune_malloc`).

While a tuning is applied (`active_tuning`), a live run also pins its inference children and
its own threads to separate cores (restored at the end of the run, `ThreadAffinity`) and
lowers the priority of its inference thread and children (they end with the run, and their
priority with them).

``usable_cores`` works on every platform; affinity and thread priorities are Linux's and are
no-ops elsewhere.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from livesr._logger import logger

if TYPE_CHECKING:
    from livesr.config import HostTuning

__all__ = [
    "MALLOC_TUNING_ENV",
    "ThreadAffinity",
    "active_tuning",
    "affinity_supported",
    "host_tuning",
    "lower_current_thread_priority",
    "malloc_tuned",
    "tune_malloc",
    "usable_cores",
]

#: Set to ``0`` (or ``false``/``no``/``off``) to keep glibc's allocator defaults even when a
#: tuning with ``malloc=True`` is applied (the inference children inherit it).
MALLOC_TUNING_ENV = "LIVESR_MALLOC_TUNING"

_lock = threading.Lock()
_active: list[HostTuning] = []


def usable_cores() -> int:
    """Cores this process may run on: its affinity mask on Linux, ``os.cpu_count()`` elsewhere.

    macOS and Windows have no ``os.sched_getaffinity``; there every core counts.
    """
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is not None:
        return len(getaffinity(0))
    return os.cpu_count() or 1


def affinity_supported() -> bool:
    """Whether threads can be pinned to cores here (Linux: ``sched_setaffinity`` per thread)."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "sched_getaffinity")
        and hasattr(os, "sched_setaffinity")
    )


def active_tuning() -> HostTuning:
    """The tuning applied by the innermost `host_tuning` of any thread, else all off."""
    from livesr.config import HostTuning

    with _lock:
        return _active[-1] if _active else HostTuning.off()


@contextlib.contextmanager
def host_tuning(tuning: HostTuning) -> Iterator[HostTuning]:
    """Apply `tuning` to this process until the block exits; restore what it changed.

    Parameters
    ----------
    tuning : HostTuning
        What to change. ``malloc`` is applied at once and for the life of the process;
        ``torch_threads`` is set now and restored on exit; ``pin_threads`` and ``nice`` are
        applied by each live run inside the block (and undone at its end).

    Threads
    -------
    Process-wide: enter it on the application's main thread before starting other threads
    (glibc's one-arena setting holds fully only for threads started afterwards).
    """
    if tuning.malloc:
        tune_malloc()
    restore_threads: int | None = None
    if tuning.torch_threads is not None:
        import torch

        restore_threads = torch.get_num_threads()
        torch.set_num_threads(tuning.torch_threads)
    with _lock:
        _active.append(tuning)
    try:
        yield tuning
    finally:
        with _lock:
            _active.remove(tuning)
        if restore_threads is not None:
            import torch

            torch.set_num_threads(restore_threads)


# ---------------------------------------------------------------------------- glibc malloc
# torch's CPU allocator is plain posix_memalign/free. Full-size DFCAN at 9x256x256 makes
# activations of 17 MB (batch 1) to 67 MB (the upsampling conv) per op. With glibc's defaults,
# blocks above the dynamic mmap threshold (at most 32 MB) are a fresh mmap each time, and freed
# heap above the trim threshold goes back to the kernel: every op page-faults and the kernel
# zeroes its output again (0.28 M minor faults per batch-1 call; batch 2 ran 2.8x slower than
# batch 1 instead of 2x, docs/benchmarks.md; `livesr bench --part malloc` measures it).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_INT_MAX = 2**31 - 1
_malloc_state: dict[str, bool | None] = {"tuned": None}


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


def malloc_tuned() -> bool:
    """Whether `tune_malloc` changed this process's allocator settings."""
    return bool(_malloc_state["tuned"])


def tune_malloc() -> bool:
    """Keep inference activations mapped between ops: glibc ``mallopt``, once per process.

    Sets ``M_MMAP_MAX = 0`` (large blocks from the heap, where freed blocks are reused),
    ``M_TRIM_THRESHOLD = INT_MAX`` (freed heap stays mapped) and ``M_ARENA_MAX = 1`` (no new
    per-thread arenas: a thread arena's 64 MB sub-heaps map larger blocks whatever
    ``M_MMAP_MAX`` says). Arenas made before the call stay in use and are handed round-robin
    to new threads, so the full effect is certain on the main thread and threads started
    later. The process then keeps its peak heap (about 1 GB for full-size DFCAN at batch 2).

    There is no portable way back (glibc's defaults are dynamic thresholds), so this lasts for
    the life of the process: call it only where the application opted in
    (``HostTuning.malloc``). Off glibc it does nothing; ``LIVESR_MALLOC_TUNING=0`` opts out.

    Returns
    -------
    bool
        True if the settings are in effect. The first call decides; later calls repeat it.

    Threads
    -------
    Thread-safe.
    """
    with _lock:
        if _malloc_state["tuned"] is not None:
            return bool(_malloc_state["tuned"])
        opted_out = os.environ.get(MALLOC_TUNING_ENV, "1").strip().lower() in (
            "0", "false", "no", "off",
        )  # fmt: skip
        libc = None if opted_out else _glibc()
        if libc is None:
            _malloc_state["tuned"] = False
            logger.debug("malloc tuning skipped (opted out, or the C library is not glibc)")
            return False
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        settings = ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, _INT_MAX), (_M_ARENA_MAX, 1))
        ok = all(libc.mallopt(param, value) == 1 for param, value in settings)
        _malloc_state["tuned"] = ok
        if ok:
            logger.debug("glibc malloc tuned for inference (no mmap, no trim, one arena)")
        else:
            logger.warning("glibc mallopt refused a setting; inference may page-fault per op")
        return ok


# ---------------------------------------------------------------------------- cores, priority
class ThreadAffinity:
    """Confine every thread of this process to `cpus` until `restore` (Linux; else no-op).

    Threads started meanwhile inherit the confinement from the thread that starts them;
    `restore` gives every thread then alive the mask the process had before.

    Threads
    -------
    Any thread may call `restore`; it changes every thread of the process.
    """

    def __init__(self, cpus: Iterable[int]) -> None:
        self.cpus = set(cpus)
        self._before: set[int] | None = None
        if affinity_supported():
            self._before = os.sched_getaffinity(0)
            self._set_all(self.cpus)

    def restore(self) -> None:
        """Give every thread of the process its former cores back."""
        if self._before is not None:
            self._set_all(self._before)

    @staticmethod
    def _set_all(cpus: set[int]) -> None:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError as exc:  # noqa: PERF203 - a thread ended meanwhile, or a sandbox
                logger.debug("could not set the cores of thread %s: %s", tid, exc)


def lower_current_thread_priority(increment: int) -> int | None:
    """Raise the nice value of the calling OS thread by `increment` (0 = leave it).

    On Linux nice values belong to threads and are inherited by the threads they start, so
    calling this first thing on a livesr thread also lowers the FFT/BLAS/OpenMP helpers its
    reconstructor starts there; they end with it. An unprivileged thread cannot raise its
    priority again, so call it only on threads that end with the run. Elsewhere a no-op.

    Returns
    -------
    int or None
        The new nice value, or None where thread priorities are not supported.

    Threads
    -------
    Affects only the thread that calls it.
    """
    if increment <= 0 or not sys.platform.startswith("linux"):
        return None
    tid = threading.get_native_id()
    try:
        nice = min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment)
        os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError as exc:  # e.g. a seccomp sandbox; the pipeline works without it
        logger.debug("could not lower the priority of %s: %s", threading.current_thread(), exc)
        return None
    return nice
