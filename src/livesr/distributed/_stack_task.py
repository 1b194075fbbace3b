"""What a Dask worker does per raw stack: its SR frame, quality record and error map.

The task reconstructs with the reconstructor its thread keeps (`cached_reconstructor`), writes
the SR frame into its own chunk, checks it with the live run's own quality check
(`livesr.pipeline.QualityWorker.check_now`: same checker, same pattern choice, same record)
and writes the error map into its own chunk of ``<name>_qc_map``. The record itself and the
per-stack values go back to the client, which writes the small arrays many frames share.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._specs import cached_reconstructor

if TYPE_CHECKING:
    from livesr.config import PipelineConfig, ReconstructorSpec
    from livesr.io import StackKey
    from livesr.pipeline import QualityInfo, QualityWorker
    from livesr.reconstruct import StackReconstructor

__all__ = ["QCSetup", "StackOutcome", "reconstruct_stack", "warm", "write_error_map"]


@dataclass(frozen=True)
class QCSetup:
    """What the workers' quality checks need; small and picklable, it travels with each task.

    Attributes
    ----------
    config : PipelineConfig
        The run's recorded config: optics, pattern, camera and calibration, as the live
        quality thread had them.
    channels : tuple of str
        Channel names by index.
    raw_shape : (Y, X)
        Camera frame shape.
    scale : int
        SR pixels per camera pixel of the SR image written.
    """

    config: PipelineConfig
    channels: tuple[str, ...]
    raw_shape: tuple[int, int]
    scale: int

    def cache_key(self) -> str:
        """What identifies the checker a worker thread builds for this setup."""
        return f"{self.config.model_dump_json()}|{self.channels}|{self.raw_shape}|{self.scale}"


@dataclass(frozen=True)
class StackOutcome:
    """What a task hands back to the client for one stack.

    Attributes
    ----------
    values : dict
        The stack's per-stack values (`livesr.io.STACK_FIELDS`).
    quality : dict, optional
        Its quality record (`livesr.io.QC_FIELDS`, ``chi2``, ``modulation``); None when not
        checked or when the check failed.
    qc_error : str, optional
        Why the check failed (the SR frame is written and counts as done regardless).
    """

    values: dict[str, Any]
    quality: dict[str, Any] | None = None
    qc_error: str | None = None


class _Collector:
    """A `QualitySink` that keeps the last frame's record and map."""

    def __init__(self) -> None:
        self.values: dict[str, Any] | None = None
        self.error_map: NDArray[np.float32] | None = None

    def put_quality(
        self, key: StackKey, values: Mapping[str, Any], error_map: NDArray[np.float32] | None
    ) -> None:
        self.values, self.error_map = dict(values), error_map

    def emit(self, info: QualityInfo) -> None:
        """``qualityReady`` of a live run; reprocessing has no listeners (the client sums up)."""


_local = threading.local()


def _quality_worker(setup: QCSetup) -> tuple[QualityWorker, _Collector]:
    """The calling thread's `QualityWorker` for `setup` (never started: checks run on the caller).

    Per thread because a checker is not thread-safe; it keeps its per-channel kernels, so only
    a thread's first frame of a channel pays for building them, as on the live QC thread.
    """
    from livesr.pipeline import QualityWorker

    cache: dict[str, tuple[QualityWorker, _Collector]] | None = getattr(_local, "qc", None)
    if cache is None:
        cache = _local.qc = {}
    key = setup.cache_key()
    found = cache.get(key)
    if found is None:
        sink = _Collector()
        worker = QualityWorker(
            setup.config, setup.channels, setup.raw_shape, setup.scale, sink, sink.emit
        )
        found = cache[key] = (worker, sink)
    return found


def write_error_map(
    path: str | Path, name: str, key: StackKey, image: NDArray[np.float32]
) -> None:
    """Write the camera-grid error map (Y, X) of SR frame `key` of `name` (worker side).

    Safe from many processes at once: every frame is its own chunk of ``<p>/<name>_qc_map``,
    which the client made cover every time point beforehand (`prepare_quality`).
    """
    import zarr

    t, p, z, c = key
    array = zarr.open_array(str(Path(path) / str(p) / f"{name}_qc_map"), mode="r+")
    array[t, c, z] = np.asarray(image, np.float32)


def _check(
    setup: QCSetup,
    rec: StackReconstructor,
    path: str,
    name: str,
    key: StackKey,
    sr: NDArray[np.float32],
    stack: NDArray[np.uint16],
) -> dict[str, Any]:
    """The live check of one SR frame; writes its map, returns its record."""
    from livesr.pipeline import ChannelReconstructor

    worker, sink = _quality_worker(setup)
    sink.values = sink.error_map = None
    # The pattern the live QC thread is given: the reconstructor's fitted parameters, if any.
    params = ChannelReconstructor(rec).sim_params
    worker.check_now(key, sr, stack, params, backfill=True)
    if sink.values is None:
        raise RuntimeError("the quality check made no record")
    if sink.error_map is not None:
        write_error_map(path, name, key, sink.error_map)
    return sink.values


def reconstruct_stack(
    block: NDArray[np.uint16],
    spec: ReconstructorSpec,
    path: str,
    name: str,
    key: StackKey,
    qc: QCSetup | None = None,
) -> StackOutcome:
    """Worker task: raw stack block (1, 1, F, 1, Y, X) -> the SR chunk of `key` on disk.

    With `qc`, also the frame's quality record (returned) and error map (written).
    """
    from livesr.io import stack_values, write_sr_frame

    rec = cached_reconstructor(spec)
    stack = np.asarray(block)[0, 0, :, 0]
    t0 = time.perf_counter()
    sr, provenance = rec(stack, raw_frames=[[*key, i] for i in range(stack.shape[0])])
    ms = (time.perf_counter() - t0) * 1e3
    write_sr_frame(path, name, key, sr)
    values = stack_values(provenance, ms, latency_ms=None)  # backfill: from the raw store
    if qc is None:
        return StackOutcome(values)
    try:
        return StackOutcome(values, _check(qc, rec, path, name, key, sr, stack))
    except Exception as exc:  # the SR frame stands; its record stays empty
        return StackOutcome(values, qc_error=f"{type(exc).__name__}: {exc}")


def warm(spec: ReconstructorSpec) -> None:
    """Worker task: build (and cache) the reconstructor before the clock starts."""
    cached_reconstructor(spec).warmup()
