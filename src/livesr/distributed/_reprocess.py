"""`reprocess`: reconstruct a run store's raw stacks on Dask, resumably, with quality records.

Flow (client = this process)::

    open store (r+) -> a ReconstructorSpec per channel (the live run's, recorded in the store,
    or --model's) -> probe one reconstructor here (fail fast: frames per stack, scale, weights
    present with the recorded hash) -> choose the SR image
    ("sr", or "sr_<model>" for another model) -> its quality arrays -> todo = raw stacks
    complete on disk and not yet marked done -> Dask (`run_on_dask`): one task per stack over
    the dask array of the raw chunks; each task builds (once per worker thread) the
    reconstructor from its spec, writes its SR chunk and checks it as the live quality thread
    does (writing its error map) -> client records the quality and per-stack values and marks
    finished stacks done (batched, and always on the way out) -> per-channel quality summary

Because only finished chunks are marked done, an interrupted run (Ctrl-C, a killed job, a lost
cluster) is resumed by running the same command again: it computes only what is missing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from livesr._logger import logger
from livesr.io import StackKey

from ._dask_run import ProgressCallback, run_on_dask
from ._quality import ChannelQuality, prepare_quality
from ._specs import build_reconstructor, specs_for_model, specs_from_store, sr_name_for

if TYPE_CHECKING:
    from distributed import Client
    from livesr.config import ReconstructorSpec
    from livesr.io import SRStore

__all__ = ["ReprocessResult", "reprocess"]


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
        building excluded); quality checks included.
    startup_s : float
        Time to probe the model, start or reach the cluster and build the workers' models.
    n_workers : int
        Dask workers that took part.
    models : dict of channel index -> str
        The model (weights path, bundled name or ``"wiener"``) used per channel.
    quality : tuple of ChannelQuality
        Per channel, the quality records this call made (stored in ``<p>/<name>_qc/*``
        and ``<p>/<name>_qc_map``); empty with ``qc=False`` or a store without optics.
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
    quality: tuple[ChannelQuality, ...] = ()

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
        return "\n".join([text, *(str(q) for q in self.quality)])


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


def _open(path: Path) -> SRStore:
    from livesr.io import open_store

    sr_store = open_store(path, mode="r+")
    if sr_store.status == "running":
        # Also what a crashed run leaves behind; but a live pipeline still writing the same
        # done masks would race with this client.
        logger.warning(
            "%s says its acquisition is still running: reprocess only after it finished or "
            "died (a crashed run stays 'running')",
            path,
        )
    return sr_store


def _specs(
    sr_store: SRStore, model: str | Path | None, backend: str, device: str, **settings: object
) -> dict[int, ReconstructorSpec]:
    """Per channel: the run's recorded spec (`model` None), or `model`'s with `settings`."""
    from livesr.config import BackendConfig
    from livesr.reconstruct._factory import parse_backend

    if model is None:
        return specs_from_store(sr_store)
    backend, device = parse_backend(backend, device)
    config = BackendConfig.model_validate(
        {"backend": backend, "device": device.split(":")[0], **settings}
    )
    return specs_for_model(sr_store, model, config)


def _prepare_image(
    sr_store: SRStore,
    specs: dict[int, ReconstructorSpec],
    model: str | Path | None,
    name: str | None,
) -> tuple[str, int]:
    """Probe the model, choose the SR image, make it cover the run; (name, scale)."""
    from livesr.io import prepare_sr

    scale, weights, label = _probe(next(iter(specs.values())), sr_store.n_patterns)
    name = _choose_name(sr_store, model, name, weights, label)
    prepare_sr(sr_store, name, scale)
    # Static provenance of the image, once; channels that have a spec keep it.
    recorded = sr_store.reconstructor_specs(name)
    channels = sr_store.channels
    new = {channels[c]: s for c, s in specs.items() if channels[c] not in recorded}
    if new:
        sr_store.set_reconstructor_specs(name, new)
    return name, scale


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
    qc: bool = True,
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
    qc : bool
        Give every reprocessed SR frame the live run's quality record and error map (every
        frame: ``qc_every`` only paces live runs); needs the store's recorded optics.
    progress : bool or callable (done, total)
        A progress bar on stderr (True) or a callback on this thread after each stack.
    flush_interval_s : float
        How often finished stacks are recorded and marked done in the store.

    Raises
    ------
    livesr.models.WeightsUnavailableError
        The run's recorded weights are missing or were replaced by other weights.
    ValueError
        The model does not fit the run, or `name` holds another model's SR.
    ImportError
        Dask is not installed (``pip install 'livesr[dask]'``).
    """
    t_start = time.perf_counter()
    path = Path(store)
    sr_store = _open(path)
    specs = _specs(
        sr_store, model, backend, device, precision=precision, tile_size=tile_size,
        tile_overlap=tile_overlap,
    )  # fmt: skip
    name, scale = _prepare_image(sr_store, specs, model, name)
    setup = prepare_quality(sr_store, name, scale) if qc else None
    _mark_unmarked_stacks(sr_store)
    todo, already = _todo(sr_store, name, list(specs), redo)
    models = {c: s.model for c, s in specs.items()}
    result = ReprocessResult(path, name, already_done=already, models=models)
    if not todo:
        logger.info("%s: nothing to reprocess in %r", path, name)
        return replace(result, startup_s=time.perf_counter() - t_start)
    run = run_on_dask(
        sr_store, name, specs, todo, setup, scheduler=scheduler, n_workers=n_workers,
        progress=progress, flush_interval_s=flush_interval_s,
    )  # fmt: skip
    result = replace(
        result, reconstructed=run.finished, failed=run.failed, seconds=run.seconds,
        startup_s=run.t_started - t_start, n_workers=run.n_workers,
        quality=run.tally.summaries() if run.tally is not None else (),
    )  # fmt: skip
    if sr_store.status != "running":
        sr_store.update_display()  # windows of the new SR frames (a running run does it later)
    logger.info("%s", result)
    return result
