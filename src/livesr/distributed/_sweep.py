"""The SNR sweep of `livesr.evaluate` mapped over Dask (``livesr evaluate --scheduler``).

Each sweep task (one simulated field at one signal level, every method scored on it) is
independent, so tasks go to the workers as they are; the result is assembled in task order, so
it is the same as `livesr.evaluate.run_sweep` in one process, only sooner.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from livesr._logger import logger

from ._cluster import dask_client

if TYPE_CHECKING:
    from distributed import Client
    from livesr.evaluate import SweepResult, TaskResult

__all__ = ["run_sweep"]


def run_sweep(
    structures: Sequence[str],
    levels: Sequence[int],
    fields: int = 2,
    size: int = 128,
    methods: Sequence[str] | None = None,
    *,
    mode: str = "linear",
    with_frc: bool = False,
    backend: str = "auto",
    scheduler: str | Client = "processes",
    n_workers: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> SweepResult:
    """`livesr.evaluate.run_sweep` with its tasks run on a Dask cluster.

    Parameters
    ----------
    structures, levels, fields, size, methods, mode, with_frc, backend
        As for `livesr.evaluate.run_sweep` (`methods` None: its built-in methods).
    scheduler : str or Client
        As for `livesr.distributed.dask_client`. The default, ``"processes"``, gives every
        worker its own model cache and warning filters (the sweep keeps both per process).
    n_workers : int, optional
        Local workers (default: CPU count).
    progress : callable (done, total), optional
        Called on this thread after each task.

    Returns
    -------
    SweepResult
        Rows in task order and the images of field 0 at every (structure, level).
    """
    from livesr.evaluate import BUILTIN_METHODS, SweepResult, evaluate_task, sweep_tasks

    chosen = list(methods) if methods is not None else list(BUILTIN_METHODS)
    tasks = sweep_tasks(structures, levels, fields, size, mode)
    results: dict[int, TaskResult] = {}
    with dask_client(scheduler, n_workers=n_workers) as typed_client:
        import distributed

        # distributed is only partly typed: treat its API as Any.
        client: Any = typed_client
        as_completed: Any = distributed.as_completed
        futures = [
            client.submit(
                evaluate_task, task, chosen, with_frc=with_frc, keep_images=task.field == 0,
                backend=backend, pure=False,
            )
            for task in tasks
        ]  # fmt: skip
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in as_completed(futures):
                results[index[future.key]] = future.result()
                future.release()
                if progress is not None:
                    progress(len(results), len(tasks))
        finally:
            client.cancel(futures)
    sweep = SweepResult([])
    for i, task in enumerate(tasks):
        out = results[i]
        sweep.rows.extend(out.rows)
        if out.images is not None:
            sweep.images[(task.structure, task.level)] = out.images
    logger.info("sweep of %d tasks done on Dask", len(tasks))
    return sweep
