"""Reprocessing and evaluation at scale on Dask (the ``dask`` extra).

`reprocess` reconstructs a run store's raw stacks on a Dask cluster (local threads, local
processes, or a running scheduler), writing ``sr`` or a new ``sr_<model>`` image; it is
idempotent and resumable through the store's done masks, and uses the same per-stack
`livesr.reconstruct.StackReconstructor` as the live pipeline, so its SR equals the live SR.
`run_sweep` runs the SNR sweep of `livesr.evaluate` the same way.
"""

from ._cluster import SCHEDULERS, dask_client
from ._reprocess import ReprocessResult, reprocess
from ._specs import specs_for_model, specs_from_store, sr_name_for
from ._sweep import run_sweep

__all__ = [
    "SCHEDULERS",
    "ReprocessResult",
    "dask_client",
    "reprocess",
    "run_sweep",
    "specs_for_model",
    "specs_from_store",
    "sr_name_for",
]
