"""Which cores inference children and acquisition get during a live run (Linux, opt-in).

With inference in a child process, the scheduler still puts the acquisition process's threads
(camera, MDA, writers, a viewer) on the child's core from time to time, and each such slice
stalls the network. Measured on the 2-core demo (dfcan-sim, 128 px, ONNX Runtime, one
inference thread, 200 fps camera): live SR at 0.88 of standalone with shared cores, 0.94 with
the child on core 1 and the acquisition process on core 0, while the camera kept 99.7 % of its
rate. So, as real-time imaging rigs do, a run gives the children their own cores: the last
ones of the cores this process may use, as many as the children have threads, at least one
core staying with acquisition. Only with ``HostTuning.pin_threads`` (the ``livesr``
commands); the mechanism is `livesr._host.ThreadAffinity`.
"""

from __future__ import annotations

import os

from livesr._host import affinity_supported

__all__ = ["split_cpus"]


def split_cpus(inference_threads: int | None) -> tuple[set[int], set[int]] | None:
    """(acquisition cores, inference cores) for children with `inference_threads` threads.

    None threads means all usable cores but one. Returns None where thread affinity is not
    available (`livesr._host.affinity_supported`: Linux only) or fewer than two cores are
    usable: then nothing is pinned.
    """
    if not affinity_supported():
        return None
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        return None
    n = max(1, min(inference_threads or len(usable) - 1, len(usable) - 1))
    return set(usable[:-n]), set(usable[-n:])
