"""The raw writer thread: every raw frame reaches the store, in arrival order."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr._logger import exceptions_logged, logger
from livesr.io import SRStore, StackKey

from ._assembler import SIMStack

__all__ = ["RawWriter"]

_STOP = object()
_MAX_BATCH = 64  # queued items taken per round
_COALESCE_S = 0.05  # longest a raw frame waits in memory for the rest of its stack


class RawWriter:
    """Write raw frames and wide-field images on a thread of its own.

    The queue is unbounded on purpose: raw frames are never dropped, and `backlog` lets the
    pipeline (and the long-run test) watch that it does not grow. A stack's frames are written
    together once its last frame is in (a frame waits at most 50 ms for the rest). On a write
    error the writer records it, calls `on_error` (the pipeline cancels the acquisition) and
    discards what is still queued, counting it.

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
        self._wf: dict[int, NDArray[np.float32]] = {}
        self._thread = threading.Thread(target=self._run, name="livesr-raw-writer", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Items waiting to be written."""
        return self._queue.qsize()

    def put_frame(self, key: StackKey, pos: int, frame: NDArray[np.uint16]) -> None:
        """Queue frame `pos` of stack `key` (acquisition thread; O(1), never blocks)."""
        self._queue.put((key, pos, frame))

    def put_stack(self, stack: SIMStack) -> None:
        """Queue the end of a complete stack, after its frames (so wf follows the raw data)."""
        self._queue.put(stack)

    def close(self) -> None:
        """Write everything queued, then stop the thread (blocks)."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            # Write runs of frames of one stack in a single call: one call for 9 frames costs
            # less than half the CPU of 9 calls (measured: 3.8 vs 8.2 ms per 128 px stack),
            # CPU that a CPU reconstructor needs. So wait for the end of the stack (its marker
            # follows its last frame at once), at most _COALESCE_S, then take what is queued.
            deadline = time.monotonic() + _COALESCE_S
            while len(items) < _MAX_BATCH and not isinstance(items[-1], SIMStack):
                if items[-1] is _STOP:
                    break
                try:
                    items.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            while len(items) < _MAX_BATCH and not self._queue.empty():
                items.append(self._queue.get())  # one consumer: never blocks
            stop = any(item is _STOP for item in items)
            items = [item for item in items if item is not _STOP]
            done: list[SIMStack] = []
            for group in _runs(items):
                self._write(group, done)
            self._mark_done(done)
            if stop:
                return

    def _mark_done(self, done: list[SIMStack]) -> None:
        # One mask write per round, then announce: a stack is announced once it is on disk.
        # `done` holds only stacks written before any failure, so they are marked even if a
        # later write of this round failed.
        if not done:
            return
        try:
            self.store.mark_raw_done([s.key for s in done])
        except Exception as exc:
            self._fail(exc, 0)
            return
        for stack, wf in ((s, self._wf.pop(id(s))) for s in done):
            with exceptions_logged("stackAssembled slot"):
                self._on_stack(wf, stack)

    def _fail(self, exc: Exception, n_frames: int) -> None:
        logger.exception("raw writer failed; stopping the acquisition")
        self.error = exc
        self.frames_discarded += n_frames
        with exceptions_logged("raw writer error handler"):
            self._on_error(exc)

    def _write(self, group: list[Any], done: list[SIMStack]) -> None:
        n_frames = 0 if isinstance(group[0], SIMStack) else len(group)
        if self.error is not None:
            self.frames_discarded += n_frames
            return
        try:
            if n_frames == 0:
                stack: SIMStack = group[0]
                wf = stack.data.mean(axis=0, dtype=np.float32)
                self.store.write_wf(stack.key, wf, mark_done=False)
                self._wf[id(stack)] = wf
                done.append(stack)
            else:
                key, pos, _ = group[0]
                frames = group[0][2][None] if n_frames == 1 else np.stack([g[2] for g in group])
                self.store.write_raw_frames(key, pos, frames)
                self.frames_written += n_frames
        except Exception as exc:
            self._fail(exc, n_frames)


def _runs(items: list[Any]) -> list[list[Any]]:
    """Split queued items into runs of consecutive frames of one stack; stacks stand alone."""
    runs: list[list[Any]] = []
    for item in items:
        if isinstance(item, SIMStack):
            runs.append([item])
            continue
        last = runs[-1] if runs else None
        if (
            last is not None
            and not isinstance(last[0], SIMStack)
            and last[-1][0] == item[0]
            and last[-1][1] + 1 == item[1]
        ):
            last.append(item)
        else:
            runs.append([item])
    return runs
