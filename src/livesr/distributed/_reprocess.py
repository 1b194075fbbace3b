"""`reprocess`: reconstruct a run store's raw stacks on Dask, resumably.

Flow (client = this process)::

    open store (r+) -> a ReconstructorSpec per channel (the live run's, recorded in the store,
    or --model's) -> probe one reconstructor here (fail fast: frames per stack, scale, weights
    present with the recorded hash) -> choose the SR image
    ("sr", or "sr_<model>" for another model) -> todo = raw stacks complete on disk and not
    yet marked done -> Dask: one task per stack over the dask array of the raw chunks; each
    task builds (once per worker thread) the reconstructor from its spec and writes its SR
    chunk -> client marks finished stacks done with their per-stack values (batched, and
    always on the way out)

Because only finished chunks are marked done, an interrupted run (Ctrl-C, a killed job, a lost
cluster) is resumed by running the same command again: it computes only what is missing.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from livesr._logger import logger
from livesr.io import StackKey

from ._cluster import dask_client
from ._specs import (
    build_reconstructor,
    cached_reconstructor,
    set_torch_threads,
    specs_for_model,
    specs_from_store,
    sr_name_for,
)

if TYPE_CHECKING:
    from distributed import Client
    from livesr.config import ReconstructorSpec
    from livesr.io import SRStore

__all__ = ["ReprocessResult", "reprocess"]

ProgressCallback = Callable[[int, int], Any]


@dataclass(frozen=True)
class ReprocessResult:
    """What a `reprocess` call did.

    Attributes
    ----------
    store : Path
    name : str
        SR image written (``"sr"`` or ``"sr_<model>"``).
    reconstructed : tuple of StackKey (t, p, z, c)
        Stacks reconstructed by this call, in completion order.
    already_done : int
        Stacks that were done before and left alone.
    failed : tuple of (StackKey, error)
        Stacks whose reconstruction raised (left undone; a rerun retries them).
    seconds : float
        Wall time of the reconstruction phase (cluster start-up and the workers' model
        building excluded).
    startup_s : float
        Time to probe the model, start or reach the cluster and build the workers' models.
    n_workers : int
        Dask workers that took part.
    models : dict of channel index -> str
        The model (weights path, bundled name or ``"wiener"``) used per channel.
    """

    store: Path
    name: str
    reconstructed: tuple[StackKey, ...] = ()
    already_done: int = 0
    failed: tuple[tuple[StackKey, str], ...] = ()
    seconds: float = 0.0
    startup_s: float = 0.0
    n_workers: int = 0
    models: dict[int, str] = field(default_factory=dict)

    @property
    def stacks_per_s(self) -> float:
        """Reconstruction throughput of this call."""
        return len(self.reconstructed) / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        text = (
            f"{self.store} -> {self.name}: {len(self.reconstructed)} stacks reconstructed "
            f"({self.stacks_per_s:.2f} stacks/s on {self.n_workers} workers), "
            f"{self.already_done} already done"
        )
        if self.failed:
            key, err = self.failed[0]
            text += f", {len(self.failed)} FAILED (first: {key}: {err})"
        return text


def _reconstruct_stack(
    block: NDArray[np.uint16], spec: ReconstructorSpec, path: str, name: str, key: StackKey
) -> dict[str, Any]:
    """Worker task: raw stack block (1, 1, F, 1, Y, X) -> the SR chunk of `key` on disk.

    Returns the stack's values for the store's per-stack arrays (`livesr.io.STACK_FIELDS`).
    """
    from livesr.io import write_sr_frame

    rec = cached_reconstructor(spec)
    stack = np.asarray(block)[0, 0, :, 0]
    t0 = time.perf_counter()
    sr, provenance = rec(stack, raw_frames=[[*key, i] for i in range(stack.shape[0])])
    ms = (time.perf_counter() - t0) * 1e3
    write_sr_frame(path, name, key, sr)
    norm = provenance.get("normalization")
    stats = norm if isinstance(norm, dict) else {}
    return {
        "norm_low": stats.get("low"),
        "norm_high": stats.get("high"),
        "reconstruct_ms": ms,
        "latency_ms": None,
        "backfill": True,  # reconstructed after the live run, from the raw store
        "backend": f"{provenance['backend']}-{provenance['device']}",
    }


def _torch_threads() -> int | None:
    """Torch's intra-op thread count in this process, if torch is already imported."""
    torch = sys.modules.get("torch")
    return None if torch is None else int(torch.get_num_threads())


def _warm(spec: ReconstructorSpec) -> None:
    """Worker task: build (and cache) the reconstructor before the clock starts."""
    cached_reconstructor(spec).warmup()


def _probe(spec: ReconstructorSpec, n_patterns: int) -> tuple[int, str | None, str]:
    """Build one reconstructor here: scale, weights hash, name; clear errors before Dask.

    Raises `WeightsUnavailableError` when the spec's weights are missing or were replaced.
    """
    rec = build_reconstructor(spec)
    try:
        info = rec.reconstructor.info
    finally:
        rec.close()
    if info.in_frames != n_patterns:
        raise ValueError(
            f"model {info.name!r} takes {info.in_frames} frames per stack but this run has "
            f"{n_patterns}: choose a model trained for this pattern"
        )
    return info.scale, info.weights_sha256, info.name


def _recorded_hashes(store: SRStore, name: str) -> set[str | None]:
    return {spec.weights_sha256 for spec in store.reconstructor_specs(name).values()}


def _choose_name(
    store: SRStore, model: str | Path | None, name: str | None, weights: str | None, label: str
) -> str:
    """The SR image to write: `name`, else ``sr`` for the run's weights, ``sr_<model>`` else.

    Raises
    ------
    ValueError
        If `name` is not an SR image name, or holds SR of other weights.
    """
    if name is None:
        in_sr = _recorded_hashes(store, "sr") - {None}
        sr_empty = not in_sr and not store.sr_done("sr").any()
        same = model is None or sr_empty or (weights is not None and in_sr == {weights})
        name = "sr" if same else sr_name_for(model if model is not None else label)
    elif name != "sr" and not name.startswith("sr_"):
        raise ValueError(f"SR image names are 'sr' or start with 'sr_', got {name!r}")
    # The run's own specs (model None) are what `sr` holds by construction, per channel.
    recorded = {h for h in _recorded_hashes(store, name) if h is not None}
    own = model is None and name == "sr"
    if not own and recorded and weights not in recorded:
        raise ValueError(
            f"{name!r} in {store.path} holds SR of other weights ({min(recorded)[:12]}...); "
            f"model {label!r} would mix models in one image: pass another --name "
            "(or omit it to get a new sr_<model> image)"
        )
    return name


def _todo(
    store: SRStore, name: str, channels: list[int], redo: bool
) -> tuple[list[StackKey], int]:
    """Stacks to reconstruct (complete raw, not done unless `redo`) and how many are done."""
    raw_done = store.raw_done()  # (T, P, Z, C)
    done = store.sr_done(name)
    todo_mask = raw_done.copy()
    if not redo:
        todo_mask[: done.shape[0]] &= ~done[: raw_done.shape[0]]
    wanted = np.zeros(todo_mask.shape[-1], bool)
    wanted[channels] = True
    todo_mask &= wanted
    todo = [StackKey(*(int(i) for i in key)) for key in np.argwhere(todo_mask)]
    return todo, int((raw_done & wanted).sum()) - len(todo)


def _mark_unmarked_stacks(store: SRStore) -> None:
    """Mark complete raw stacks whose ``raw_done`` mark a crash lost, loudly, so they count."""
    from livesr.io import unmarked_complete_stacks

    found = unmarked_complete_stacks(store)
    if found:
        logger.warning(
            "%s: %d complete raw stacks had no raw_done mark (the run was killed between "
            "writing and marking them), e.g. %s: marked now and reconstructed",
            store.path, len(found), found[0],
        )  # fmt: skip
        store.mark_raw_done(found)


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


def reprocess(
    store: str | Path,
    model: str | Path | None = None,
    *,
    name: str | None = None,
    backend: str = "auto",
    device: str = "auto",
    precision: str = "fp32",
    tile_size: int | None = None,
    tile_overlap: int = 32,
    scheduler: str | Client = "local",
    n_workers: int | None = None,
    redo: bool = False,
    progress: bool | ProgressCallback = False,
    flush_interval_s: float = 1.0,
) -> ReprocessResult:
    """Reconstruct every raw stack of a run store that has no SR yet, on Dask.

    Parameters
    ----------
    store : str or Path
        A run store (``livesr demo``/``acquire`` output), finished or left by a crashed run.
    model : str or Path, optional
        None: the `ReconstructorSpec` the live run recorded per channel (same weights,
        verified by hash, backend and settings), written into ``sr`` (this completes a run;
        the result equals the live SR). Otherwise a bundled weights name, a ``.safetensors``
        path or ``"wiener"``, written into ``sr_<model>`` unless it is the run's own model.
    name : str, optional
        SR image to write (``"sr"`` or ``"sr_<something>"``); overrides the choice above.
    backend, device, precision, tile_size, tile_overlap
        Backend settings for `model` (ignored when `model` is None: the run's are used).
    scheduler : str or Client
        ``"local"`` (threads of this process), ``"processes"`` (local worker processes), a
        scheduler address, or a ``distributed.Client``. See `dask_client`.
    n_workers : int, optional
        Local workers (default: CPU count).
    redo : bool
        Reconstruct stacks that are already done, too.
    progress : bool or callable (done, total)
        A progress bar on stderr (True) or a callback on this thread after each stack.
    flush_interval_s : float
        How often finished stacks are marked done in the store.

    Returns
    -------
    ReprocessResult

    Raises
    ------
    livesr.models.WeightsUnavailableError
        The run's recorded weights are missing or were replaced by other weights.
    ValueError
        The model does not fit the run, or `name` holds another model's SR.
    ImportError
        Dask is not installed (``pip install 'livesr[dask]'``).
    """
    from livesr.config import BackendConfig
    from livesr.io import open_store, prepare_sr
    from livesr.reconstruct._factory import parse_backend

    t_start = time.perf_counter()
    path = Path(store)
    sr_store = open_store(path, mode="r+")
    if sr_store.status == "running":
        # Also what a crashed run leaves behind; but a live pipeline still writing the same
        # done masks would race with this client.
        logger.warning(
            "%s says its acquisition is still running: reprocess only after it finished or "
            "died (a crashed run stays 'running')",
            path,
        )
    if model is None:
        specs = specs_from_store(sr_store)
    else:
        backend, device = parse_backend(backend, device)
        settings = BackendConfig.model_validate(
            {"backend": backend, "device": device.split(":")[0], "precision": precision,
             "tile_size": tile_size, "tile_overlap": tile_overlap}
        )  # fmt: skip
        specs = specs_for_model(sr_store, model, settings)
    scale, weights, label = _probe(next(iter(specs.values())), sr_store.n_patterns)
    name = _choose_name(sr_store, model, name, weights, label)
    prepare_sr(sr_store, name, scale)
    # Static provenance of the image, once; channels that have a spec keep it.
    recorded = sr_store.reconstructor_specs(name)
    channels = sr_store.channels
    new = {channels[c]: s for c, s in specs.items() if channels[c] not in recorded}
    if new:
        sr_store.set_reconstructor_specs(name, new)
    _mark_unmarked_stacks(sr_store)
    todo, already = _todo(sr_store, name, list(specs), redo)
    models = {c: s.model for c, s in specs.items()}
    result = ReprocessResult(path, name, already_done=already, models=models)
    if not todo:
        logger.info("%s: nothing to reprocess in %r", path, name)
        return replace(result, startup_s=time.perf_counter() - t_start)
    result = _run_on_dask(
        sr_store, result, specs, todo, scheduler=scheduler, n_workers=n_workers,
        progress=progress, flush_interval_s=flush_interval_s, t_start=t_start,
    )  # fmt: skip
    if sr_store.status != "running":
        sr_store.update_display()  # windows of the new SR frames (a running run does it later)
    logger.info("%s", result)
    return result


def _run_on_dask(
    sr_store: SRStore,
    result: ReprocessResult,
    specs: dict[int, ReconstructorSpec],
    todo: list[StackKey],
    *,
    scheduler: str | Client,
    n_workers: int | None,
    progress: bool | ProgressCallback,
    flush_interval_s: float,
    t_start: float,
) -> ReprocessResult:
    """Reconstruct `todo` on a Dask cluster; mark finished stacks done as they complete."""
    from livesr.io import raw_stacks

    local_threads = isinstance(scheduler, str) and scheduler in ("local", "threads")
    workers = n_workers or os.cpu_count() or 1
    torch_threads = _torch_threads()
    if local_threads:
        # Worker threads share this process: split the cores between them instead of every
        # worker's backend using all of them (restored afterwards).
        per = max(1, (os.cpu_count() or 1) // workers)
        specs = {c: s.model_copy(update={"threads": per}) for c, s in specs.items()}

    with dask_client(scheduler, n_workers=n_workers) as typed_client:
        import dask

        # dask is only partly typed: treat its API as Any.
        client: Any = typed_client
        delayed: Any = getattr(dask, "delayed")  # noqa: B009 (not re-exported for mypy)

        n_active = len(client.nthreads())
        blocks = [
            cast("Any", raw_stacks(result.store, p)).to_delayed()
            for p in range(sr_store.n_positions)
        ]
        token = uuid.uuid4().hex[:8]
        task = delayed(_reconstruct_stack, pure=False)
        tasks = [
            task(blocks[k.p][k.t, k.c, 0, k.z, 0, 0], specs[k.c], str(result.store),
                 result.name, k, dask_key_name=f"livesr-reprocess-{token}-{k.t}-{k.p}-{k.z}-{k.c}")
            for k in todo
        ]  # fmt: skip
        # Build every worker's reconstructors first (imports, weights, compiled graphs), so the
        # rate measures reconstruction; with one thread per worker the task thread keeps them.
        unique = {s.model_dump_json(): s for s in specs.values()}
        warm = [
            client.submit(_warm, s, workers=[w], allow_other_workers=False, pure=False)
            for w in client.nthreads()
            for s in unique.values()
        ]
        client.gather(warm)
        t0 = time.perf_counter()
        futures = client.compute(tasks)
        try:
            finished, failed = _collect(
                sr_store, result.name, client, futures, todo, progress, flush_interval_s
            )
        finally:
            if local_threads and torch_threads is not None:
                set_torch_threads(torch_threads)
        seconds = time.perf_counter() - t0
    return replace(
        result,
        reconstructed=tuple(finished),
        failed=tuple(failed),
        seconds=seconds,
        startup_s=t0 - t_start,
        n_workers=n_active,
    )


def _collect(
    sr_store: SRStore,
    name: str,
    client: Any,
    futures: list[Any],
    todo: list[StackKey],
    progress: bool | ProgressCallback,
    flush_interval_s: float,
) -> tuple[list[StackKey], list[tuple[StackKey, str]]]:
    """Wait for the stacks as they finish; mark them done (with their values) in batches."""
    import distributed
    from livesr.io import mark_sr_done

    as_completed: Any = distributed.as_completed
    key_of = {f.key: tc for f, tc in zip(futures, todo, strict=True)}
    finished: list[StackKey] = []
    failed: list[tuple[StackKey, str]] = []
    pending: list[StackKey] = []
    values: list[dict[str, Any]] = []

    def flush() -> None:
        columns = {field: [v[field] for v in values] for field in (values[0] if values else ())}
        mark_sr_done(sr_store, name, pending, columns)
        pending.clear()
        values.clear()

    report, close_bar = _progress_reporter(progress, len(todo))
    last_flush = time.monotonic()
    try:
        for future in as_completed(futures):
            key = key_of[future.key]
            try:
                values.append(future.result())
            except Exception as exc:
                logger.error("reprocessing stack %s failed: %r", key, exc)
                failed.append((key, f"{type(exc).__name__}: {exc}"))
            else:
                pending.append(key)
                finished.append(key)
            future.release()
            if time.monotonic() - last_flush >= flush_interval_s:
                flush()
                last_flush = time.monotonic()
            if report is not None:
                report(len(finished) + len(failed), len(todo))
    finally:
        # Whatever happens (Ctrl-C, a lost cluster), what is on disk gets marked done.
        flush()
        client.cancel(futures)
        if close_bar is not None:
            close_bar()
    return finished, failed
