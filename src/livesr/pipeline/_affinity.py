"""Separate cores for inference children and for acquisition during a live run (Linux).

With inference in a child process, the scheduler still puts the acquisition process's threads
(camera, MDA, writers, a viewer) on the child's core from time to time, and each such slice
stalls the network. Measured on the 2-core demo (dfcan-sim, 128 px, ONNX Runtime, one
inference thread, 200 fps camera): live SR at 0.88 of standalone with shared cores, 0.94 with
the child on core 1 and the acquisition process on core 0, while the camera kept 99.7 % of its
rate. So, as real-time imaging rigs do, a run gives the children their own cores: the last
ones of the cores this process may use, as many as the children have threads, at least one
core staying with acquisition.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from livesr._logger import logger

__all__ = ["ThreadAffinity", "split_cpus"]


def split_cpus(inference_threads: int | None) -> tuple[set[int], set[int]] | None:
    """(acquisition cores, inference cores) for children with `inference_threads` threads.

    None threads means all usable cores but one. Returns None where thread affinity is not
    available (not Linux) or fewer than two cores are usable: then nothing is pinned.
    """
    if not sys.platform.startswith("linux"):
        return None
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        return None
    n = max(1, min(inference_threads or len(usable) - 1, len(usable) - 1))
    return set(usable[:-n]), set(usable[-n:])


class ThreadAffinity:
    """Confine every thread of this process to `cpus` until `restore` (Linux).

    Threads started meanwhile inherit the confinement from the thread that starts them;
    `restore` gives every thread then alive the mask the process had before.

    Threads
    -------
    Any thread may call `restore`; it changes every thread of the process.
    """

    def __init__(self, cpus: Iterable[int]) -> None:
        self.cpus = set(cpus)
        self._before = os.sched_getaffinity(0)
        self._set_all(self.cpus)

    def restore(self) -> None:
        """Give every thread of the process its former cores back."""
        self._set_all(self._before)

    @staticmethod
    def _set_all(cpus: set[int]) -> None:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError as exc:  # noqa: PERF203 - a thread ended meanwhile, or a sandbox
                logger.debug("could not set the cores of thread %s: %s", tid, exc)
