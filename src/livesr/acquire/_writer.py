"""The raw writer thread: every raw frame reaches the store, in arrival order."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr._logger import exceptions_logged, logger
from livesr.io import SRStore

from ._assembler import SIMStack

__all__ = ["RawWriter"]

_STOP = object()


class RawWriter:
    """Write raw frames and wide-field images on a thread of its own.

    The queue is unbounded on purpose: raw frames are never dropped, and `backlog` lets the
    pipeline (and the long-run test) watch that it does not grow. On a write error the writer
    records it, calls `on_error` (the pipeline cancels the acquisition) and discards what is
    still queued, counting it.

    Parameters
    ----------
    store : SRStore
        Target; this thread is the only writer of raw, raw_done and wf.
    on_stack : callable
        Called on this thread with (wf image, stack) once a stack is fully on disk.
    on_error : callable
        Called on this thread with the exception of a failed write.
    """

    def __init__(
        self,
        store: SRStore,
        on_stack: Callable[[NDArray[np.float32], SIMStack], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.store = store
        self._on_stack = on_stack
        self._on_error = on_error
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.frames_written = 0
        self.frames_discarded = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="livesr-raw-writer", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Items waiting to be written."""
        return self._queue.qsize()

    def put_frame(self, t: int, c: int, pos: int, frame: NDArray[np.uint16]) -> None:
        """Queue one frame (acquisition thread; O(1), never blocks)."""
        self._queue.put((t, c, pos, frame))

    def put_stack(self, stack: SIMStack) -> None:
        """Queue the end of a complete stack, after its frames (so wf follows the raw data)."""
        self._queue.put(stack)

    def close(self) -> None:
        """Write everything queued, then stop the thread (blocks)."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self.error is not None:
                if not isinstance(item, SIMStack):
                    self.frames_discarded += 1
                continue
            try:
                if isinstance(item, SIMStack):
                    t, c = item.index.get("t", 0), item.index.get("c", 0)
                    wf = item.data.mean(axis=0, dtype=np.float32)
                    self.store.write_wf(t, c, wf)
                    with exceptions_logged("stackAssembled slot"):
                        self._on_stack(wf, item)
                else:
                    t, c, pos, frame = item
                    self.store.write_raw_frame(t, c, pos, frame)
                    self.frames_written += 1
            except Exception as exc:
                logger.exception("raw writer failed; stopping the acquisition")
                self.error = exc
                if not isinstance(item, SIMStack):
                    self.frames_discarded += 1
                with exceptions_logged("raw writer error handler"):
                    self._on_error(exc)
