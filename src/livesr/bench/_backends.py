"""Backend benchmark: latency, SR frames/s and achieved FLOP/s of each backend side by side.

All backends and batch sizes of one (model, frame size) are built first and then called in
round-robin order, so a neighbour process that slows the machine for a while slows every
backend and batch size alike and the ratios between them (``vs_first`` across backends,
``vs_first_batch`` across batch sizes) stay meaningful on a shared host. Achieved FLOP/s is
compared with the peak of a large fp32 matmul measured in the same process and thread setting.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from livesr._logger import logger
from livesr.config import ModelConfig

__all__ = ["SETTLE_S", "bench_backends", "count_flops", "matmul_peak_flops"]

#: Pause before each timed call. ONNX Runtime's intra-op threads spin-wait for new work for a
#: while after a run returns; without the pause the next call (another backend, interleaved)
#: shares the cores with them: torch right after a two-thread ORT session measured 15 % slower
#: (dfcan-sim, 9x256x256) than with spinning off.
SETTLE_S = 0.2


def matmul_peak_flops(size: int = 2048, repeats: int = 3) -> float:
    """Best fp32 matmul throughput of this process on the CPU, in FLOP/s.

    Large enough (2048^2, 17 GFLOP) for the BLAS to reach its steady-state rate; smaller
    matmuls under-estimate the peak and tuned convolutions then appear to exceed it.
    """
    import torch

    a = torch.rand(size, size)
    b = torch.rand(size, size)
    torch.mm(a, b)  # first call allocates and picks kernels
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best


def count_flops(module: Any, shape: tuple[int, int, int, int]) -> float:
    """FLOPs (2 x multiply-accumulates) of one forward pass at `shape`, convs and matmuls."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(torch.zeros(shape))
    return float(counter.get_total_flops())


def _model_config(name: str, in_frames: int, scale: int) -> ModelConfig | str:
    from livesr.models import available_models

    if name in available_models():
        return ModelConfig(architecture=name, in_frames=in_frames, scale=scale)
    return name  # bundled weights name or .safetensors path


def _try_create(
    loaded: Any, backend: str, shape: tuple[int, int], batch: int, threads: int | None
) -> Any:
    """The reconstructor, or the reason it cannot run here (a row instead of a crash)."""
    from livesr.reconstruct import BackendUnavailableError, create_reconstructor

    try:
        return create_reconstructor(
            loaded, backend, frame_shape=shape, batch_size=batch, threads=threads
        )
    except (BackendUnavailableError, ValueError) as exc:
        return str(exc)


def bench_backends(
    models: Sequence[str] = ("dfcan",),
    backends: Sequence[str] = ("torch", "onnxruntime"),
    sizes: Sequence[int] = (128,),
    batch: Sequence[int] = (1, 2),
    *,
    in_frames: int = 9,
    scale: int = 2,
    repeats: int = 3,
    warmup: int = 1,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Time every backend x model x frame size x batch size.

    Parameters
    ----------
    models : sequence of str
        Registry architectures (``"dfcan"``, random weights: speed does not depend on them),
        bundled weights names or ``.safetensors`` paths.
    backends : sequence of str
        Backend names as for `create_reconstructor` (``"torch"``, ``"onnxruntime-cpu"``, ...);
        ones that cannot run here give a row with the reason.
    sizes : sequence of int
        Square input frame sizes (pixels).
    batch : sequence of int
        Stacks per call.
    in_frames, scale : int
        Input frames and upsampling of registry architectures.
    repeats, warmup : int
        Timed and untimed calls per backend.
    threads : int, optional
        CPU threads of torch and ONNX Runtime (default: all usable cores). On an
        oversubscribed host fewer threads can be faster: every parallel op waits for all its
        threads to be scheduled.

    Returns
    -------
    list of dict
        One row per configuration: latency ``p50_ms``/``p95_ms``/``best_ms`` per call (the
        best is the least disturbed by other processes on a shared host), ``sr_fps`` (SR
        frames/s), ``gflop_frame`` (GFLOP per frame, convs and matmuls), achieved ``gflops``,
        ``peak_gflops`` (measured fp32 matmul) and ``peak_pct``, ``parts`` (per-core parts a
        CPU batch runs as), ``vs_first``: speed relative to the first backend at the same
        batch size, and ``vs_first_batch``: SR frames/s relative to the same backend at the
        first batch size; both measured interleaved.
    """
    import torch

    threads_before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _bench(models, backends, sizes, batch, in_frames, scale, repeats, warmup, threads)
    finally:
        torch.set_num_threads(threads_before)


def _bench(
    models: Sequence[str],
    backends: Sequence[str],
    sizes: Sequence[int],
    batch: Sequence[int],
    in_frames: int,
    scale: int,
    repeats: int,
    warmup: int,
    threads: int | None,
) -> list[dict[str, Any]]:
    import torch

    from livesr.models import load_model

    peak = matmul_peak_flops()
    rows: list[dict[str, Any]] = []
    for model_name in models:
        loaded = load_model(_model_config(model_name, in_frames, scale))
        for size in sizes:
            flops = count_flops(loaded.module, (1, loaded.in_frames, size, size))
            # Every (backend, batch) of this model and size, timed in one round robin.
            recs, errors = _build_all(loaded, backends, batch, size, threads)
            rng = np.random.default_rng(0)
            inputs = {
                n: rng.random((n, loaded.in_frames, size, size), dtype=np.float32) for n in batch
            }
            times, peak = _round_robin(recs, inputs, repeats, warmup, peak)
            base = {"model": loaded.name, "input": f"{loaded.in_frames}x{size}x{size}"}
            rows += _size_rows(base, flops, backends, batch, recs, errors, times, inputs, repeats)
            for rec in recs.values():
                rec.close()
    # One peak for the whole run (the best seen), so every row is compared with the same one.
    logger.info("matmul peak: %.1f GFLOP/s on %d threads", peak / 1e9, torch.get_num_threads())
    for row in rows:
        if "_achieved" in row:
            row["peak_gflops"] = round(peak / 1e9, 1)
            row["peak_pct"] = round(100 * row.pop("_achieved") / peak, 2)
    return rows


def _build_all(
    loaded: Any, backends: Sequence[str], batch: Sequence[int], size: int, threads: int | None
) -> tuple[dict[tuple[str, int], Any], dict[tuple[str, int], str]]:
    """Every (backend, batch size) reconstructor of one model and frame size.

    Returns
    -------
    recs : dict of (backend, batch) to Reconstructor
        Those built, in (batch, backend) order: the round-robin order.
    errors : dict of (backend, batch) to str
        Why each of the others cannot run here.
    """
    recs: dict[tuple[str, int], Any] = {}
    errors: dict[tuple[str, int], str] = {}
    for n in batch:
        for backend in backends:
            rec = _try_create(loaded, backend, (size, size), n, threads)
            if isinstance(rec, str):
                errors[backend, n] = rec
            else:
                recs[backend, n] = rec
    return recs, errors


def _round_robin(
    recs: dict[tuple[str, int], Any],
    inputs: dict[int, Any],
    repeats: int,
    warmup: int,
    peak: float,
) -> tuple[dict[tuple[str, int], list[float]], float]:
    """Warm every reconstructor up, then time them in turn, `repeats` rounds.

    Parameters
    ----------
    recs : dict of (backend, batch) to Reconstructor
        What to time, in round-robin order.
    inputs : dict of int to ndarray
        float32 input (batch, F, Y, X) per batch size.
    repeats, warmup : int
        Timed rounds, and untimed calls per reconstructor before them.
    peak : float
        Best matmul FLOP/s so far.

    Returns
    -------
    times : dict of (backend, batch) to list of float
        Seconds of each timed call.
    peak : float
        `peak`, or better if a re-measurement between rounds found more.
    """
    for (_, n), rec in recs.items():
        for _ in range(warmup):
            rec(inputs[n])
    times: dict[tuple[str, int], list[float]] = {key: [] for key in recs}
    for _ in range(repeats):
        for (backend, n), rec in recs.items():  # round robin: fair under load
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            rec(inputs[n])
            times[backend, n].append(time.perf_counter() - start)
        # The peak is re-measured between rounds: on a shared host the load at
        # start-up says little about the load during the timed calls.
        peak = max(peak, matmul_peak_flops(repeats=1))
    return times, peak


def _size_rows(
    base: dict[str, Any],
    flops: float,
    backends: Sequence[str],
    batch: Sequence[int],
    recs: dict[tuple[str, int], Any],
    errors: dict[tuple[str, int], str],
    times: dict[tuple[str, int], list[float]],
    inputs: dict[int, Any],
    repeats: int,
) -> list[dict[str, Any]]:
    """The rows of one model and frame size: a row per (batch, backend), errors included.

    ``_achieved`` (FLOP/s) stays in each timed row until the run's peak is known.
    """
    import torch

    rows: list[dict[str, Any]] = []
    p50s = {key: float(np.median(t)) for key, t in times.items()}
    for n in batch:
        for backend in backends:
            if (backend, n) in errors:
                rows.append({**base, "batch": n, "backend": backend, "error": errors[backend, n]})
                continue
            rec = recs[backend, n]
            t = np.asarray(times[backend, n])
            p50 = p50s[backend, n]
            first_n = next(m for m in batch if (backend, m) in recs)
            first_backend = next(b for b in backends if (b, n) in recs)
            achieved = flops * n / p50
            rows.append(
                {
                    **base,
                    "batch": n,
                    "backend": rec.info.backend,
                    "device": rec.info.device,
                    "precision": rec.info.precision,
                    "threads": torch.get_num_threads(),
                    "parts": rec.parts_for(inputs[n].shape) if hasattr(rec, "parts_for") else 1,
                    "p50_ms": round(1e3 * p50, 1),
                    "p95_ms": round(1e3 * float(np.percentile(t, 95)), 1),
                    "best_ms": round(1e3 * float(t.min()), 1),
                    "sr_fps": round(n / p50, 3),
                    "gflop_frame": round(flops / 1e9, 2),
                    "gflops": round(achieved / 1e9, 1),
                    "_achieved": achieved,
                    "vs_first": round(p50s[first_backend, n] / p50, 3),
                    "vs_first_batch": round((n / p50) / (first_n / p50s[backend, first_n]), 3),
                    "repeats": repeats,
                }
            )
    return rows
