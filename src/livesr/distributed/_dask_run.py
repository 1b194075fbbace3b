"""Reprocessing on a Dask cluster: one task per stack, finished stacks marked done in batches.

The client submits a `reconstruct_stack` task per stack over the dask array of the raw chunks,
then collects results as they complete: every flush records the quality records and per-stack
values the tasks returned and marks those stacks done (always on the way out too, so an
interrupted call leaves every finished frame marked, and a rerun computes only the rest).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from livesr._logger import logger
from livesr.io import StackKey

from ._cluster import dask_client
from ._quality import QualityTally
from ._specs import set_torch_threads
from ._stack_task import QCSetup, StackOutcome, reconstruct_stack, warm

if TYPE_CHECKING:
    from distributed import Client
    from livesr.config import ReconstructorSpec
    from livesr.io import SRStore

__all__ = ["DaskRun", "ProgressCallback", "run_on_dask"]

ProgressCallback = Callable[[int, int], Any]


@dataclass(frozen=True)
class DaskRun:
    """What `run_on_dask` did: stacks finished and failed, timing, workers, quality."""

    finished: tuple[StackKey, ...]
    failed: tuple[tuple[StackKey, str], ...]
    seconds: float
    t_started: float
    n_workers: int
    tally: QualityTally | None


def _torch_threads() -> int | None:
    """Torch's intra-op thread count in this process, if torch is already imported."""
    torch = sys.modules.get("torch")
    return None if torch is None else int(torch.get_num_threads())


def _progress_reporter(progress: bool | ProgressCallback, total: int) -> tuple[Any, Any]:
    """(callback, closer) for `progress`: a rich bar on stderr, a user callback, or nothing."""
    if callable(progress):
        return progress, None
    if not progress:
        return None, None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("reprocess"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task("stacks", total=total, rate="")
    start = time.perf_counter()
    bar.start()

    def update(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - start, 1e-9)
        bar.update(task, completed=done, rate=f"{rate:.2f} stacks/s")

    return update, bar.stop


def run_on_dask(
    sr_store: SRStore,
    name: str,
    specs: dict[int, ReconstructorSpec],
    todo: list[StackKey],
    qc: QCSetup | None,
    *,
    scheduler: str | Client,
    n_workers: int | None,
    progress: bool | ProgressCallback,
    flush_interval_s: float,
) -> DaskRun:
    """Reconstruct (and check, with `qc`) `todo` on a Dask cluster; mark them done."""
    from livesr.io import raw_stacks

    local_threads = isinstance(scheduler, str) and scheduler in ("local", "threads")
    workers = n_workers or os.cpu_count() or 1
    torch_threads = _torch_threads()
    if local_threads:
        # Worker threads share this process: split the cores between them instead of every
        # worker's backend using all of them (restored afterwards).
        per = max(1, (os.cpu_count() or 1) // workers)
        specs = {c: s.model_copy(update={"threads": per}) for c, s in specs.items()}
    tally = QualityTally(tuple(sr_store.channels)) if qc is not None else None

    with dask_client(scheduler, n_workers=n_workers) as typed_client:
        import dask

        # dask is only partly typed: treat its API as Any.
        client: Any = typed_client
        delayed: Any = getattr(dask, "delayed")  # noqa: B009 (not re-exported for mypy)

        n_active = len(client.nthreads())
        path = str(sr_store.path)
        blocks = [
            cast("Any", raw_stacks(path, p)).to_delayed() for p in range(sr_store.n_positions)
        ]
        token = uuid.uuid4().hex[:8]
        task = delayed(reconstruct_stack, pure=False)
        tasks = [
            task(blocks[k.p][k.t, k.c, 0, k.z, 0, 0], specs[k.c], path, name, k, qc,
                 dask_key_name=f"livesr-reprocess-{token}-{k.t}-{k.p}-{k.z}-{k.c}")
            for k in todo
        ]  # fmt: skip
        # Build every worker's reconstructors first (imports, weights, compiled graphs), so the
        # rate measures reconstruction; with one thread per worker the task thread keeps them.
        unique = {s.model_dump_json(): s for s in specs.values()}
        client.gather([
            client.submit(warm, s, workers=[w], allow_other_workers=False, pure=False)
            for w in client.nthreads()
            for s in unique.values()
        ])  # fmt: skip
        t0 = time.perf_counter()
        futures = client.compute(tasks)
        try:
            finished, failed = _collect(
                sr_store, name, client, futures, todo, progress, flush_interval_s, tally
            )
        finally:
            if local_threads and torch_threads is not None:
                set_torch_threads(torch_threads)
        seconds = time.perf_counter() - t0
    return DaskRun(tuple(finished), tuple(failed), seconds, t0, n_active, tally)


def _collect(
    sr_store: SRStore,
    name: str,
    client: Any,
    futures: list[Any],
    todo: list[StackKey],
    progress: bool | ProgressCallback,
    flush_interval_s: float,
    tally: QualityTally | None,
) -> tuple[list[StackKey], list[tuple[StackKey, str]]]:
    """Wait for the stacks as they finish; record and mark them done in batches."""
    import distributed

    as_completed: Any = distributed.as_completed
    key_of = {f.key: tc for f, tc in zip(futures, todo, strict=True)}
    finished: list[StackKey] = []
    failed: list[tuple[StackKey, str]] = []
    pending: list[tuple[StackKey, StackOutcome]] = []

    report, close_bar = _progress_reporter(progress, len(todo))
    last_flush = time.monotonic()
    try:
        for future in as_completed(futures):
            key = key_of[future.key]
            try:
                outcome: StackOutcome = future.result()
            except Exception as exc:
                logger.error("reprocessing stack %s failed: %r", key, exc)
                failed.append((key, f"{type(exc).__name__}: {exc}"))
            else:
                pending.append((key, outcome))
                finished.append(key)
                if tally is not None:
                    tally.add(key, outcome.quality, outcome.qc_error)
            future.release()
            if time.monotonic() - last_flush >= flush_interval_s:
                _flush(sr_store, name, pending)
                last_flush = time.monotonic()
            if report is not None:
                report(len(finished) + len(failed), len(todo))
    finally:
        # Whatever happens (Ctrl-C, a lost cluster), what is on disk gets marked done.
        _flush(sr_store, name, pending)
        client.cancel(futures)
        if close_bar is not None:
            close_bar()
    return finished, failed


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Field -> one value per row (None where a row lacks the field)."""
    fields = dict.fromkeys(f for row in rows for f in row)
    return {f: [row.get(f) for row in rows] for f in fields}


def _flush(sr_store: SRStore, name: str, pending: list[tuple[StackKey, StackOutcome]]) -> None:
    """Record the pending stacks' quality and per-stack values, then mark them done."""
    from livesr.io import mark_sr_done

    checked = [(k, o.quality) for k, o in pending if o.quality is not None]
    if checked:
        # Before the done mark: a frame marked done has its record (a crash in between
        # leaves it undone, redone and rerecorded by the next call).
        sr_store.record_quality(name, [k for k, _ in checked], _columns([q for _, q in checked]))
    keys = [k for k, _ in pending]
    mark_sr_done(sr_store, name, keys, _columns([o.values for _, o in pending]))
    pending.clear()
