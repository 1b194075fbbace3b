"""`ChannelThread`: a channel's reconstructor on a thread of its own, so calls can be abandoned.

A reconstructor call that hangs (a wedged GPU driver, a deadlocked backend) must not hang the
run: every call goes to the channel's own thread and is waited for with a timeout; past it the
channel is marked hung and gets no more calls.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from livesr._host import lower_current_thread_priority
from livesr._logger import exceptions_logged, logger

from ._channel import ChannelReconstructor

__all__ = ["CallTimeoutError", "ChannelThread"]


class CallTimeoutError(RuntimeError):
    """A reconstructor call did not return within ``PipelineConfig.reconstruct_timeout_s``."""


class _Box:
    """One call's outcome, handed from the channel's thread to the waiting caller."""

    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class ChannelThread:
    """One channel's reconstructor on a thread of its own, so that a call can be abandoned.

    The reconstructor's owner thread: warmup, every call and close run here. A call that
    does not return within its timeout marks the channel hung; its thread is left behind
    (a child process behind it is killed) and the channel gets no more calls.

    Parameters
    ----------
    rec : ChannelReconstructor
        The channel's reconstructor; from `start` on it is used only from this thread.
    channel : str
        Channel name, for the thread's name.
    nice : int
        Nice increment of the thread (and of the thread pools its backend starts) when the
        channel reconstructs in this process.
    """

    def __init__(self, rec: ChannelReconstructor, channel: str, nice: int) -> None:
        self.rec = rec
        self.hung: str | None = None
        self._nice = nice
        self._in: queue.SimpleQueue[tuple[Callable[[], Any], _Box] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name=f"livesr-inference-{channel}", daemon=True
        )

    def start(self) -> None:
        """Start the channel's thread (calls queued before wait for it)."""
        self._thread.start()

    def call(self, fn: Callable[[], Any], timeout: float) -> Any:
        """Run `fn` on this channel's thread; raise what it raised, or CallTimeoutError."""
        if self.hung is not None:
            raise CallTimeoutError(self.hung)
        box = _Box()
        self._in.put((fn, box))
        if not box.done.wait(timeout):
            self.hung = f"a reconstructor call did not return within {timeout:g} s"
            logger.error("%s: channel abandoned for the rest of the run", self.hung)
            abort = getattr(self.rec, "abort", None)
            if abort is not None:
                with exceptions_logged("stopping a hung inference process"):
                    abort()
            raise CallTimeoutError(self.hung)
        if box.error is not None:
            if not isinstance(box.error, Exception):  # SystemExit, KeyboardInterrupt ...
                raise RuntimeError(
                    f"the reconstructor raised {type(box.error).__name__}: {box.error}"
                ) from box.error
            raise box.error
        return box.value

    def stop(self, timeout: float) -> None:
        """Let the thread end after the calls queued before, waiting at most `timeout` s."""
        self._in.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        # First thing, so thread pools the backend starts here inherit the lower priority.
        # Not for a channel in a child process (niced itself): this thread only waits there.
        if self.rec.in_process:
            lower_current_thread_priority(self._nice)
        while True:
            item = self._in.get()
            if item is None:
                return
            fn, box = item
            try:
                box.value = fn()
            except BaseException as exc:  # reported to the caller, never kills this thread
                box.error = exc
            finally:
                box.done.set()
