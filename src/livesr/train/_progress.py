"""The rich progress bar of a training run: step, loss, validation NRMSE, speed."""

from __future__ import annotations

from types import TracebackType

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["TrainProgress"]


class TrainProgress:
    """A context manager around `rich.progress.Progress`; a no-op when disabled.

    Parameters
    ----------
    total : int
        Iterations of the run.
    start : int
        Iterations already done (after a resume).
    enabled : bool
        False on non-zero DDP ranks and when the config turns progress off.
    """

    def __init__(self, total: int, start: int = 0, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  val NRMSE {task.fields[val]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            disable=not enabled,
        )
        self._task = self._progress.add_task(
            "train", total=total, completed=start, loss="-", val="-"
        )

    def __enter__(self) -> TrainProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def advance(self, step: int, *, loss: float) -> None:
        """Show step `step` and its training loss."""
        self._progress.update(self._task, completed=step, loss=f"{loss:.4f}")

    def validated(self, val: float, best: float) -> None:
        """Show the latest and best validation NRMSE."""
        self._progress.update(self._task, val=f"{val:.4f} (best {best:.4f})")
