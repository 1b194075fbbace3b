"""The live run's progress bar and closing lines (``livesr demo`` and ``livesr acquire``)."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from livesr.pipeline import SRFrameInfo, StackSkipped

__all__ = ["RunProgress", "exit_code", "look_at_it"]


class RunProgress:
    """A rich progress bar over the stacks of a run: done / total, live SR fps, backlog.

    Use as a context manager around the run and pass `connect` as run_live's ``connect``.
    Slots run on pipeline threads; rich's Progress is thread-safe and redraws on its own
    thread, so a slot only updates numbers.

    Parameters
    ----------
    total : int
        Stacks the run will reconstruct (time points x positions x z x channels).
    console : rich Console, optional
        Where to draw; default stdout.
    """

    def __init__(self, total: int, console: Console | None = None) -> None:
        self.total = total
        self.console = console or Console()
        self._lock = threading.Lock()
        self._pipe: Any = None
        self._done = 0
        self._skipped = 0
        self._first: float | None = None
        self._last: float | None = None
        self._live = 0
        self._progress = Progress(
            TextColumn("[bold]SR[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("stacks | {task.fields[fps]} | backlog {task.fields[backlog]}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._task = self._progress.add_task("SR", total=total, fps="SR - fps", backlog=0)

    def __enter__(self) -> RunProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def connect(self, pipe: Any) -> None:
        """Connect to a `LivePipeline`'s signals (run_live's ``connect`` hook)."""
        self._pipe = pipe
        pipe.signals.srFrameReady.connect(self._on_sr)
        pipe.signals.stackSkipped.connect(self._on_skip)

    def sr_fps(self) -> float | None:
        """Live SR frames per second, defined as in `PipelineSummary.sr_fps`.

        Intervals between the first and the last live SR frame: (n - 1) / (last - first).
        """
        with self._lock:
            if self._live < 2 or self._first is None or self._last is None:
                return None
            return (self._live - 1) / max(self._last - self._first, 1e-9)

    def _backlog(self) -> int:
        try:
            return int(self._pipe.backlog["inference"])
        except Exception:  # the pipeline may be closing
            return 0

    def _on_sr(self, image: Any, info: SRFrameInfo) -> None:
        now = time.perf_counter()
        with self._lock:
            self._done += 1
            if not info.backfill:
                self._live += 1
                self._first = now if self._first is None else self._first
                self._last = now
        fps = self.sr_fps()
        self._progress.update(
            self._task,
            completed=self._done,
            fps="SR - fps" if fps is None else f"SR {fps:.1f} fps",
            backlog=self._backlog(),
        )

    def _on_skip(self, skip: StackSkipped) -> None:
        with self._lock:
            self._skipped += 1
        # Backlog skips are routine under load (backfilled, counted in the summary).
        if skip.reason != "backlog":
            self._progress.console.print(f"  stack {skip.key}: {skip}")
        self._progress.update(self._task, backlog=self._backlog())


def look_at_it(out: Path) -> str:
    """Where the data is and the exact command that shows it, for the closing lines."""
    if importlib.util.find_spec("qtpy") is not None:
        command = f"livesr preview {out}"
        what = "wide-field and SR side by side in a window"
    else:
        command = f"livesr preview {out} --headless --once"
        what = f"a PNG of the last time point in {out.with_suffix('.preview')}/"
    return (
        f"data: {out.resolve()}\n"
        f"look at it: {command}   ({what}; in ndv: livesr preview {out} --ndv)"
    )


def exit_code(status: str, stopped_by: str | None) -> int:
    """The command's exit code for a run's final status.

    0 only for ``"finished"``; 128 + the signal's number when a signal stopped it (130 for
    Ctrl-C, 143 for SIGTERM, as shells report them); 1 for every other outcome.
    """
    import signal

    if status == "finished":
        return 0
    if stopped_by is not None and hasattr(signal, stopped_by):
        return 128 + int(getattr(signal, stopped_by))
    return 1
