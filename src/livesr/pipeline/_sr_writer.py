"""The SR writer thread: SR frames reach the store without holding up reconstruction."""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr._logger import logger
from livesr.io import SRStore

__all__ = ["SRWriter"]

_STOP = object()


class SRWriter:
    """Write SR frames (and their ``sr_done`` marks) on a thread of its own.

    The inference worker hands each SR frame over and goes on reconstructing, so on a fast
    backend (a GPU at some ms per stack) writing never sets the pace. The queue holds at most
    what the (bounded) inference worker produces; `flush` waits until everything is on disk.
    A write error is logged and counted, never raised into acquisition: the raw data are
    safe, and ``livesr reprocess`` completes the SR.
    """

    def __init__(self, store: SRStore) -> None:
        self.store = store
        self._queue: queue.Queue[Any] = queue.Queue()
        self.written = 0
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="livesr-sr-writer", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def put(
        self, t: int, c: int, image: NDArray[np.float32], provenance: Mapping[str, Any]
    ) -> None:
        """Queue SR frame (t, c) (inference thread; O(1))."""
        self._queue.put((t, c, image, provenance))

    def flush(self) -> None:
        """Block until every queued frame is written."""
        self._queue.join()

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                t, c, image, provenance = item
                prov = {k: v for k, v in provenance.items() if k != "raw_frames"}
                self.store.write_sr(t, c, image, provenance=prov)
                self.written += 1
            except Exception as exc:
                logger.exception("writing SR frame failed")
                self.errors.append(f"SR frame t={item[0]} c={item[1]} not written: {exc}")
            finally:
                self._queue.task_done()
