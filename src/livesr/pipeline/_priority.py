"""Give the acquisition thread the CPU first: lower the priority of livesr's own threads."""

from __future__ import annotations

import os
import sys
import threading

from livesr._logger import logger

__all__ = ["lower_current_thread_priority"]


def lower_current_thread_priority(increment: int) -> int | None:
    """Raise the nice value of the calling OS thread by `increment` (0 = leave it).

    On Linux nice values belong to threads and are inherited by the threads they start, so
    calling this first thing on the inference thread also lowers the FFT/BLAS/OpenMP helper
    threads its reconstructor starts there. When a CPU reconstructor and a camera share a few
    cores this keeps the acquisition thread (and the camera driver) on schedule: the promise
    that reconstruction never slows acquisition. Elsewhere it does nothing.

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
