"""Wiener SIM benchmark: milliseconds per raw stack on the cached (live) path.

Parameter estimation and filter building happen once (`calibrate`, reported separately as
``calibrate``); blind parameter estimation alone is timed on one stack (``estimate_1``) and on
10 pooled stacks of a time series (``estimate_10``). The live path then costs ``stack`` per SIM
stack: raw FFTs, the stack's own Wiener parameter, band separation, sub-pixel shifts, Wiener
filter and inverse FFT. Target (issue 13): at or below ~72 ms per 9 x 512 x 512 linear stack
single-threaded (``workers`` 1; OpenBLAS is held to one thread during a stack, so process CPU
time ~ wall time there). Data: simulated microtubules (signal level 6).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["bench_wiener"]

#: Per-stack target, 9 x 512 x 512 linear stack, single-threaded (issue 13).
TARGET_MS = 72.0


def bench_wiener(
    sizes: Sequence[int] | None = None,
    repeats: int | None = None,
    modes: Sequence[Literal["linear", "nonlinear"]] = ("linear",),
    workers: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Time parameter estimation, calibration and the cached per-stack Wiener reconstruction.

    Parameters
    ----------
    sizes : sequence of int, optional
        Square raw frame sizes (default 512).
    repeats : int, optional
        Timed stacks per configuration (default 20) after one warm-up.
    modes : sequence of str
        ``"linear"`` (3 x 3, x2) and/or ``"nonlinear"`` (5 x 5, x3).
    workers : sequence of int, optional
        FFT thread counts to try (default 1 and 2).

    Returns
    -------
    list of dict
        One row per (mode, size, workers, stage): wall ms p50 / p95 / min, process-CPU ms p50,
        and for ``stack`` whether p50 meets the 72 ms target (9 x 512 x 512 linear, 1 worker).
    """
    from livesr.config import PatternConfig
    from livesr.simulate import simulate_sample

    rows: list[dict[str, Any]] = []
    for mode in modes:
        pattern = PatternConfig.linear() if mode == "linear" else PatternConfig.nonlinear()
        for size in list(sizes or [512]):
            sample = simulate_sample(
                "microtubules",
                size=size,
                level=6,
                mode=mode,
                seed=0,
                pattern=pattern,
                timepoints=10 if mode == "linear" else 1,
            )
            base = {"mode": mode, "frames": pattern.n_frames, "size": size}
            rows += _estimation_rows(sample.raw, pattern, base)
            for n in list(workers or [1, 2]):
                rows += _stack_rows(sample.raw[:1], pattern, int(repeats or 20), n, base)
    return rows


def _estimation_rows(
    raw: NDArray[Any], pattern: Any, base: dict[str, Any]
) -> list[dict[str, Any]]:
    """Blind estimation on one stack and on the 10 pooled stacks of the series (if there)."""
    from livesr.config import OpticsConfig
    from livesr.reconstruct import estimate_parameters

    rows = []
    for label, data in (("estimate_1", raw[:1]), ("estimate_10", raw)):
        if label == "estimate_10" and len(raw) < 10:
            continue

        def estimate(data: NDArray[Any] = data) -> None:
            estimate_parameters(data, pattern, OpticsConfig())

        wall, cpu = _timed(estimate)
        rows.append(_row(base, label, None, 1, [wall], [cpu]))
    return rows


def _stack_rows(
    stack: NDArray[Any], pattern: Any, repeats: int, workers: int, base: dict[str, Any]
) -> list[dict[str, Any]]:
    """Calibration (estimate + filters + first stack), then `repeats` cached stacks."""
    from livesr.config import OpticsConfig
    from livesr.reconstruct import WienerReconstructor

    stack = stack.astype(np.float32)
    rec = WienerReconstructor(pattern, OpticsConfig(), workers=workers)

    def calibrate() -> None:
        rec.calibrate(stack)
        rec(stack)

    calib = _timed(calibrate)
    times = [_timed(lambda: rec(stack)) for _ in range(repeats)]
    rec.close()
    out_size = rec.info.scale * base["size"]
    stack_row = _row(base, "stack", out_size, workers, *map(list, zip(*times, strict=True)))
    if base["mode"] == "linear" and base["size"] == 512 and workers == 1:
        stack_row["meets_target"] = bool(stack_row["ms_p50"] <= TARGET_MS)
    return [_row(base, "calibrate", out_size, workers, [calib[0]], [calib[1]]), stack_row]


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    """(wall s, process CPU s) of one call."""
    start, start_cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - start, time.process_time() - start_cpu


def _row(
    base: dict[str, Any],
    stage: str,
    out_size: int | None,
    workers: int,
    wall_s: list[float],
    cpu_s: list[float],
) -> dict[str, Any]:
    ms = 1000 * np.asarray(wall_s)
    return {
        **base,
        "out_size": out_size,
        "workers": workers,
        "stage": stage,
        "ms_p50": float(np.percentile(ms, 50)),
        "ms_p95": float(np.percentile(ms, 95)),
        "ms_min": float(ms.min()),
        "cpu_ms_p50": float(np.percentile(1000 * np.asarray(cpu_s), 50)),
        "meets_target": None,
    }
