"""Preview of a live run: connect a pipeline's signals to a feed, and run the viewer beside it.

``livesr demo --preview`` / ``livesr acquire --preview`` call ``with_preview(run_live)(...)``:
the acquisition (``run_live``: MDA, writer and inference threads) moves to a background
thread, and the calling (main) thread runs the Qt window, which Qt requires. SIGINT and
SIGTERM then stop the run from the main thread (`RunStopper`), as they do without a preview.
Without a display, or with ``headless=True``, nothing moves: the run stays on the calling
thread and a :class:`SnapshotWriter` writes PNGs next to the store instead.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from livesr._logger import exceptions_logged, logger

from ._feed import PreviewFeed
from ._snapshots import SnapshotWriter, snapshot_dir

if TYPE_CHECKING:
    from livesr.pipeline import SRFrameInfo, StackInfo, StackSkipped

    from ._stop import RunStopper

__all__ = ["PipelineTap", "attach", "display_available", "with_preview"]

T = TypeVar("T")


class PipelineTap:
    """Feeds a :class:`PreviewFeed` from a ``LivePipeline``'s signals.

    Parameters
    ----------
    pipeline : LivePipeline
        Any object with ``signals`` (``stackAssembled``, ``srFrameReady``, ``stackSkipped``,
        ``pipelineFinished``) and optionally ``backlog`` (dict with ``"inference"``).
    feed : PreviewFeed, optional
        A new one when None.

    Notes
    -----
    The slots run on the pipeline's writer and inference threads and only store references
    (O(1)). psygnal holds bound methods weakly: keep the tap referenced while the run goes on.
    """

    def __init__(self, pipeline: Any, feed: PreviewFeed | None = None) -> None:
        self.pipeline = pipeline
        self.feed = feed if feed is not None else PreviewFeed()
        signals = pipeline.signals
        signals.stackAssembled.connect(self._on_wf)
        signals.srFrameReady.connect(self._on_sr)
        signals.stackSkipped.connect(self._on_skipped)
        signals.pipelineFinished.connect(self._on_finished)
        self._quality = getattr(signals, "qualityReady", None)
        if self._quality is not None:
            self._quality.connect(self._on_quality)
        if hasattr(pipeline, "backlog"):
            self.feed.backlog_source = self._backlog

    def _backlog(self) -> int:
        return int(self.pipeline.backlog.get("inference", 0))

    def _on_wf(self, image: Any, info: StackInfo) -> None:
        self.feed.push_wf(image, channel=info.c, t=info.t)

    def _on_sr(self, image: Any, info: SRFrameInfo) -> None:
        self.feed.push_sr(image, channel=info.c, t=info.t, latency_ms=info.latency_ms)

    def _on_skipped(self, skip: StackSkipped) -> None:
        self.feed.push_skipped()

    def _on_quality(self, info: Any) -> None:
        self.feed.push_quality(info.channel, info.level, t=info.t, reasons=info.reasons)
        error_map = getattr(info, "error_map", None)
        if error_map is not None:
            self.feed.push_error_map(error_map, channel=info.c, t=info.t)

    def _on_finished(self, summary: Any) -> None:
        self.feed.mark_finished()

    def detach(self) -> None:
        """Disconnect from the pipeline's signals."""
        signals = self.pipeline.signals
        signals.stackAssembled.disconnect(self._on_wf)
        signals.srFrameReady.disconnect(self._on_sr)
        signals.stackSkipped.disconnect(self._on_skipped)
        signals.pipelineFinished.disconnect(self._on_finished)
        if self._quality is not None:
            self._quality.disconnect(self._on_quality)


def attach(pipeline: Any, feed: PreviewFeed | None = None) -> PipelineTap:
    """Connect `pipeline`'s signals to a (new) feed; returns the tap (keep it referenced)."""
    return PipelineTap(pipeline, feed)


def display_available() -> bool:
    """Whether a Qt window can be shown here (a Qt binding and a display, or offscreen)."""
    import importlib.util

    if importlib.util.find_spec("qtpy") is None:
        return False
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def with_preview(
    run: Callable[..., T],
    *,
    headless: bool | None = None,
    snapshots: bool | str | Path = False,
    snapshot_interval_s: float = 10.0,
    keep_open: bool = True,
    max_fps: float = 30.0,
    qc_overlay: bool = False,
    on_window: Callable[[Any], Any] | None = None,
) -> Callable[..., T]:
    """Wrap a ``run_live``-like function so the run shows a live preview.

    Parameters
    ----------
    run : callable
        Takes a ``connect`` keyword (called with the entered pipeline before the first
        frame), e.g. `livesr.acquire.run_live`. The user's own ``connect`` is kept.
    headless : bool, optional
        No window, PNG snapshots only; None picks headless when no display is available.
    snapshots : bool or path
        Also write snapshots while the window is open: True for ``<run>.preview/`` beside
        the store, or a folder.
    snapshot_interval_s : float
        Seconds between snapshots.
    keep_open : bool
        Keep the window open after the run finished, until the user closes it.
    max_fps : float
        Window redraw cap.
    qc_overlay : bool
        Start with the quality error maps drawn in red over the SR (window and snapshots).
    on_window : callable, optional
        Called with the window once it is shown (tests and benchmarks use it).

    Returns
    -------
    callable
        Same arguments and return value as `run`.
    """
    if headless is None:
        headless = not display_available()
        if headless:
            logger.warning(
                "no display or Qt binding here: writing preview snapshots instead of a window "
                "(pip install 'livesr[viewer]' and run with a display for the window)"
            )

    def wrapped(*args: Any, **kwargs: Any) -> T:
        feed = PreviewFeed()
        taps: list[PipelineTap] = []
        writers: list[SnapshotWriter] = []
        user_connect = kwargs.pop("connect", None)

        def connect(pipeline: Any) -> None:
            if user_connect is not None:
                user_connect(pipeline)
            taps.append(attach(pipeline, feed))
            if headless or snapshots:
                out = getattr(pipeline, "out", None)
                folder = (
                    Path(snapshots)
                    if isinstance(snapshots, (str, Path))
                    else snapshot_dir(out if out is not None else "run.zarr")
                )
                writers.append(
                    SnapshotWriter(
                        feed, folder, interval_s=snapshot_interval_s, qc_overlay=qc_overlay
                    )
                )
                writers[-1].start()

        stopper: RunStopper | None = None
        try:
            if headless:
                # The run keeps the main thread: LivePipeline handles SIGINT/SIGTERM itself.
                return run(*args, connect=connect, **kwargs)
            from ._stop import RunStopper

            stopper = RunStopper()
            watch = stopper.watch

            def connect_and_watch(pipeline: Any) -> None:
                connect(pipeline)
                watch(pipeline)

            return _run_beside_window(
                lambda: run(*args, connect=connect_and_watch, **kwargs),
                feed,
                stopper,
                keep_open=keep_open,
                max_fps=max_fps,
                qc_overlay=qc_overlay,
                on_window=on_window,
            )
        finally:
            if stopper is not None:
                stopper.unwatch()
            for writer in writers:
                writer.stop()
            for tap in taps:
                with exceptions_logged("detaching the preview"):
                    tap.detach()

    return wrapped


def _run_beside_window(
    job: Callable[[], T],
    feed: PreviewFeed,
    stopper: RunStopper,
    *,
    keep_open: bool,
    max_fps: float,
    qc_overlay: bool,
    on_window: Callable[[Any], Any] | None,
) -> T:
    """Run `job` on a thread while this (main) thread runs the Qt window; return its result.

    `stopper` holds SIGINT/SIGTERM from before the window shows until the run has ended, so a
    signal stops the run (it then closes the window) however far it got.
    """
    from qtpy import QtCore

    from ._window import PreviewWindow, ensure_app

    app = ensure_app()
    window = PreviewWindow(feed, max_fps=max_fps, qc_overlay=qc_overlay)
    window.show()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = job()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="livesr-acquisition", daemon=True)
    app.setQuitOnLastWindowClosed(False)  # closing the preview must not stop the run

    def check() -> None:
        if worker.is_alive():
            return
        window.refresh()  # the last frames and the "finished" status
        # A run that failed (e.g. bad input before the first frame) must not leave its error
        # behind an open, empty window; nor one a signal stopped (the user asked to quit).
        stopped = stopper.signame is not None
        if "error" in outcome or stopped or not keep_open or not window.isVisible():
            timer.stop()
            app.quit()

    # This timer also keeps the interpreter ticking: Python runs a signal handler only when
    # the main thread runs Python code, which a Qt loop that waits for events does not.
    timer = QtCore.QTimer()
    timer.setInterval(100)
    timer.timeout.connect(check)
    stopper.install()
    try:
        worker.start()
        timer.start()
        if on_window is not None:
            on_window(window)
        app.exec()
        worker.join()
    finally:
        stopper.restore()
    if window.isVisible():
        window.close()
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result
