"""Reprocess and preview benchmark: Dask throughput with 1 and 2 workers, and the viewer's cost.

``livesr bench --part reprocess`` writes a simulated run store (raw stacks only), reprocesses
it with one and then two local worker processes (one thread each, so the worker count is the
core count in use) and reports stacks per second and the ratio. It then acquires the same short
demo time-lapse with and without the live preview window (offscreen when there is no display),
alternating the two so a busy neighbour slows both alike, and reports the camera frame rate of
each and their ratio (the acceptance bound is 5 %).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from livesr._logger import logger

__all__ = ["bench_reprocess", "reprocess_throughput", "viewer_cost"]


def _model_file(folder: Path, name: str | None) -> str:
    """A weights file or bundled name; default: a full-size DFCAN (random weights, same cost)."""
    if name is not None:
        return name
    import torch

    from livesr.config import ModelConfig
    from livesr.models import build_model, save_weights

    torch.manual_seed(0)
    path = folder / "dfcan-random.safetensors"
    save_weights(build_model(ModelConfig(in_frames=9, scale=2)), path)
    return str(path)


def _raw_store(path: Path, n_stacks: int, size: int) -> None:
    from livesr.io import SRStore
    from livesr.simulate import simulate_sample

    sample = simulate_sample("microtubules", size=size, photons=200, timepoints=n_stacks, seed=7)
    store = SRStore.create(
        path, channels=["488"], n_patterns=9, frame_shape=(size, size), scale=2,
        n_timepoints=n_stacks,
    )  # fmt: skip
    for t in range(n_stacks):
        key = (t, 0, 0, 0)  # (t, p, z, c)
        store.write_raw_frames(key, 0, sample.raw[t])
        store.write_wf(key, sample.raw[t].mean(axis=0).astype(np.float32))


def reprocess_throughput(
    *,
    model: str | None = None,
    size: int = 128,
    n_stacks: int = 24,
    workers: Sequence[int] = (1, 2),
    scheduler: str = "processes",
    backend: str = "torch",
) -> list[dict[str, Any]]:
    """Stacks per second of `reprocess` for each worker count (one row each)."""
    from livesr.distributed import reprocess

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="livesr-bench-") as tmp:
        folder = Path(tmp)
        weights = _model_file(folder, model)
        base = None
        for n in workers:
            store = folder / f"run-{n}.zarr"
            _raw_store(store, n_stacks, size)
            result = reprocess(
                store, weights, name="sr", backend=backend, scheduler=scheduler, n_workers=n
            )
            rate = result.stacks_per_s
            base = base or rate
            rows.append({
                "measure": "reprocess",
                "scheduler": scheduler,
                "workers": result.n_workers,
                "model": Path(weights).name,
                "backend": backend,
                "frame": f"9x{size}x{size}",
                "stacks": len(result.reconstructed),
                "seconds": round(result.seconds, 2),
                "startup_s": round(result.startup_s, 2),
                "stacks_per_s": round(rate, 3),
                "ratio_vs_first": round(rate / base, 2) if base else None,
            })  # fmt: skip
            logger.info("reprocess bench: %s", rows[-1])
    return rows


def _acquire_once(folder: Path, tag: str, viewer: str, timepoints: int, size: int) -> float:
    """Camera frames per second of one demo acquisition with the given viewer mode."""
    import useq

    from livesr.acquire import close_core, open_core
    from livesr.pipeline import run_live
    from livesr.preview import with_preview

    core = open_core("demo")
    try:
        core.setProperty("Camera", "Size", size)
        core.setExposure(5.0)
        sequence = useq.MDASequence(
            channels=["488", "561"], time_plan={"interval": 0, "loops": timepoints}
        )
        out = folder / f"{tag}.zarr"
        run: Any = run_live
        if viewer == "window":
            run = with_preview(run_live, headless=False, keep_open=False)
        elif viewer == "snapshots":
            run = with_preview(run_live, headless=True, snapshot_interval_s=1.0)
        summary = run(core, sequence, out, models={"488": "wiener", "561": "wiener"})
    finally:
        close_core(core)
    return float(summary.camera_fps or 0.0)


def viewer_cost(
    *, timepoints: int = 30, size: int = 128, repeats: int = 5
) -> list[dict[str, Any]]:
    """Camera frame rate without a viewer, with the window, and with headless snapshots."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a window needs no real display
    modes = ("none", "window", "snapshots")
    fps: dict[str, list[float]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory(prefix="livesr-bench-") as tmp:
        folder = Path(tmp)
        _acquire_once(folder, "warmup", "none", 2, size)  # imports, first-call costs
        for r in range(repeats):
            for mode in modes:  # interleaved: a busy neighbour slows every mode alike
                fps[mode].append(_acquire_once(folder, f"{mode}-{r}", mode, timepoints, size))
    base = statistics.median(fps["none"])
    rows = []
    for mode in modes:
        med = statistics.median(fps[mode])
        # Ratios within a repeat (runs seconds apart) cancel slow drifts of the machine load.
        paired = [v / n for v, n in zip(fps[mode], fps["none"], strict=True) if n > 0]
        rows.append({
            "measure": "acquisition with viewer",
            "viewer": mode,
            "frame": f"{size}x{size}",
            "timepoints": timepoints,
            "channels": 2,
            "repeats": repeats,
            "camera_fps_median": round(med, 1),
            "camera_fps_all": [round(v, 1) for v in fps[mode]],
            "ratio_vs_none": round(med / base, 3) if base else None,
            "paired_ratio_median": round(statistics.median(paired), 3) if paired else None,
        })  # fmt: skip
    return rows


def bench_reprocess(
    models: Sequence[str] | None = None,
    sizes: Sequence[int] | None = None,
    repeats: int | None = None,
) -> list[dict[str, Any]]:
    """Rows: reprocess throughput (1 and 2 workers) and the live viewer's cost to acquisition.

    Parameters
    ----------
    models : sequence of str, optional
        Weights to reprocess with (first entry); default a full-size random DFCAN.
    sizes : sequence of int, optional
        Raw frame size (first entry); default 128.
    repeats : int, optional
        Acquisitions per viewer mode; default 5.
    """
    size = sizes[0] if sizes else 128
    model = models[0] if models else None
    start = time.perf_counter()
    rows = reprocess_throughput(model=model, size=size)
    try:
        rows += viewer_cost(size=size, repeats=repeats or 5)
    except Exception as exc:  # the demo microscope or Qt may be missing: report, do not crash
        logger.exception("viewer cost benchmark failed")
        rows.append(
            {"measure": "acquisition with viewer", "error": f"{type(exc).__name__}: {exc}"}
        )
    logger.info("reprocess bench took %.0f s", time.perf_counter() - start)
    return rows
