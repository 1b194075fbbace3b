"""Ctrl-C and SIGTERM while the preview window owns the main thread.

Python runs signal handlers only on the main thread, between two bytecodes. With a preview
window that thread sits in Qt's event loop and the pipeline runs on a background thread, where
``LivePipeline`` cannot install its own `~livesr.pipeline._stop_signal.StopOnSignal`. So the
preview installs one on the main thread before the loop starts and hands the stop to the
pipeline once it exists: the run then ends exactly as without a preview (MDA canceled, raw
frames flushed, no backfill, status ``interrupted``, ``stopped_by`` set, exit 130 / 143). The
window's Qt timers run Python every 100 ms or less, which is what lets the handler run while
the loop waits.
"""

from __future__ import annotations

import threading
from typing import Any

from livesr.pipeline._stop_signal import StopOnSignal

__all__ = ["RunStopper"]


class RunStopper:
    """SIGINT/SIGTERM on the main thread stop the pipeline(s) running on another thread.

    Threads
    -------
    `install` and `restore` on the main thread; `watch` and `unwatch` on the run's thread
    (``run_live``'s ``connect`` hook, before the MDA starts); the stop itself on
    ``livesr-stop``; the start guard on the MDA runner's thread.

    Notes
    -----
    A signal can arrive before the pipeline exists (models still loading) or between its
    ``connect`` and the MDA's start, when ``core.mda.cancel()`` is a no-op (pymmcore-plus
    resets the cancel flag as a run starts). Both are covered: `watch` forwards a stop that
    came early, and the pipeline cancels the MDA as it starts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watched: list[Any] = []
        #: The first signal's name (``"SIGINT"``, ``"SIGTERM"``), None before one came.
        self.signame: str | None = None
        self._signals = StopOnSignal(self._on_signal, abort_by_default=True)

    def install(self) -> None:
        """Take over SIGINT/SIGTERM (main thread; only over Python's default handlers)."""
        self._signals.install()

    def restore(self) -> None:
        """Give the previous handlers back (main thread)."""
        self._signals.restore()

    def watch(self, pipeline: Any) -> None:
        """Stop `pipeline` (an entered ``LivePipeline``) on a signal, also one that came early.

        A stop asked for before the MDA starts is kept by the pipeline, which cancels the
        MDA as it starts (`LivePipeline.request_stop`).
        """
        with self._lock:
            self._watched.append(pipeline)
            signame = self.signame
        if signame is not None:
            _ask_to_stop(pipeline, signame)

    def unwatch(self) -> None:
        """Forget the watched pipelines (after the run)."""
        with self._lock:
            self._watched = []

    def _on_signal(self, signame: str) -> None:
        with self._lock:
            self.signame = signame
            pipelines = list(self._watched)
        for pipeline in pipelines:
            _ask_to_stop(pipeline, signame)


def _ask_to_stop(pipeline: Any, signame: str) -> None:
    # The stop path LivePipeline's own StopOnSignal calls on the main thread without a
    # preview: records stopped_by, cancels the MDA and skips backfill, so the summary, the
    # store's status and the exit code are those of a run without a preview.
    pipeline.request_stop(signame)
