"""Getting a Dask client: a local cluster of threads or processes, or a running scheduler."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from livesr._logger import logger

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["SCHEDULERS", "dask_client"]

#: Scheduler names understood besides an address (``tcp://host:8786``, ``host:8786``).
SCHEDULERS = ("local", "threads", "processes")


def _missing_dask() -> ImportError:
    return ImportError(
        "reprocessing on Dask needs dask and distributed: pip install 'livesr[dask]'"
    )


@contextmanager
def dask_client(
    scheduler: str | Client = "local",
    *,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
) -> Iterator[Client]:
    """A ``distributed.Client`` for `scheduler`, closed (with its local cluster) on exit.

    Parameters
    ----------
    scheduler : str or Client
        ``"local"`` (or ``"threads"``): a LocalCluster whose workers are threads of this
        process (no start-up cost, nothing to pickle; the backends release the GIL while they
        compute).
        ``"processes"``: a LocalCluster with one process per worker (isolated, like a real
        cluster). An address (``tcp://host:8786`` or ``host:8786``): a running scheduler of a
        real cluster; its workers need livesr installed and the store on a shared path.
        A ``Client``: used as is and left open.
    n_workers : int, optional
        Local workers; default: the CPU count (ignored for an address or a client).
    threads_per_worker : int
        Tasks each local worker runs at once. Keep 1: one reconstructor per task thread is
        built and cached, and a backend already uses several cores per call.

    Yields
    ------
    Client
    """
    try:
        import distributed
    except ImportError as exc:
        raise _missing_dask() from exc
    # distributed is only partly typed: treat its API as Any.
    dist: Any = distributed

    if not isinstance(scheduler, str):
        yield scheduler
        return
    if scheduler in SCHEDULERS:
        workers = n_workers or os.cpu_count() or 1
        if workers < 1:
            raise ValueError(f"n_workers must be >= 1, got {workers}")
        options: dict[str, Any] = {
            "n_workers": workers,
            "threads_per_worker": threads_per_worker,
            "processes": scheduler == "processes",
            # No web dashboard, and the scheduler's small HTTP server on a free port: the
            # default 8787 is often taken by another cluster, and the fallback warns.
            "dashboard_address": None,
            "scheduler_kwargs": {"dashboard": False, "dashboard_address": ":0"},
        }
        logger.info("starting a local Dask cluster: %s", options)
        with dist.LocalCluster(**options) as cluster, dist.Client(cluster) as client:
            yield client
        return
    if scheduler.startswith("-") or " " in scheduler:
        raise ValueError(
            f"unknown scheduler {scheduler!r}: use 'local', 'threads', 'processes' or a scheduler "
            "address such as tcp://10.0.0.5:8786"
        )
    address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
    logger.info("connecting to the Dask scheduler at %s", address)
    with dist.Client(address, timeout="20s") as client:
        yield client
