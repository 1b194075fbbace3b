"""Wiener SIM benchmark: milliseconds per raw stack on the cached (live) path.

Parameter estimation and filter building happen once (`calibrate`, reported separately as
``calibrate``); blind parameter estimation alone is timed on one stack (``estimate_1``) and on
10 pooled stacks of a time series (``estimate_10``). The live path then costs ``stack`` per SIM
stack: raw FFTs, the stack's own Wiener parameter, band separation, sub-pixel shifts, Wiener
filter and inverse FFT. Target on a 2-core machine: < 100 ms per 9 x 512 x 512 linear stack
(issue 13: at or below ~72 ms single-threaded). Data: simulated microtubules (signal level 6).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

__all__ = ["bench_wiener"]

TARGET_MS = 100.0


def bench_wiener(
    sizes: Sequence[int] | None = None,
    repeats: int | None = None,
    modes: Sequence[Literal["linear", "nonlinear"]] = ("linear",),
    workers: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Time calibration and the cached per-stack Wiener reconstruction.

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
        and for ``stack`` whether p50 meets the 100 ms target (9 x 512 x 512 linear).
    """
    from livesr.config import OpticsConfig, PatternConfig
    from livesr.reconstruct import WienerReconstructor, estimate_parameters
    from livesr.simulate import simulate_sample

    sizes = list(sizes or [512])
    repeats = int(repeats or 20)
    thread_counts = list(workers or [1, 2])
    optics = OpticsConfig()
    rows: list[dict[str, Any]] = []
    for mode in modes:
        pattern = PatternConfig.linear() if mode == "linear" else PatternConfig.nonlinear()
        for size in sizes:
            sample = simulate_sample(
                "microtubules",
                size=size,
                level=6,
                mode=mode,
                seed=0,
                pattern=pattern,
                timepoints=10 if mode == "linear" else 1,
            )
            stack = sample.raw[:1].astype(np.float32)
            for label, data in (("estimate_1", sample.raw[:1]), ("estimate_10", sample.raw)):
                if label == "estimate_10" and len(sample.raw) < 10:
                    continue
                start, start_cpu = time.perf_counter(), time.process_time()
                estimate_parameters(data, pattern, optics)
                took = (time.perf_counter() - start, time.process_time() - start_cpu)
                rows.append(
                    {
                        "mode": mode,
                        "frames": pattern.n_frames,
                        "size": size,
                        "out_size": None,
                        "workers": 1,
                        "stage": label,
                        "ms_p50": 1000 * took[0],
                        "ms_p95": 1000 * took[0],
                        "ms_min": 1000 * took[0],
                        "cpu_ms_p50": 1000 * took[1],
                        "meets_target": None,
                    }
                )
            for n in thread_counts:
                rec = WienerReconstructor(pattern, optics, workers=n)
                start, start_cpu = time.perf_counter(), time.process_time()
                rec.calibrate(stack)
                rec(stack)
                calib = (time.perf_counter() - start, time.process_time() - start_cpu)
                wall, cpu = [], []
                for _ in range(repeats):
                    t0, c0 = time.perf_counter(), time.process_time()
                    rec(stack)
                    wall.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                rec.close()
                base = {
                    "mode": mode,
                    "frames": pattern.n_frames,
                    "size": size,
                    "out_size": rec.info.scale * size,
                    "workers": n,
                }
                rows.append(
                    {
                        **base,
                        "stage": "calibrate",
                        "ms_p50": 1000 * calib[0],
                        "ms_p95": 1000 * calib[0],
                        "ms_min": 1000 * calib[0],
                        "cpu_ms_p50": 1000 * calib[1],
                        "meets_target": None,
                    }
                )
                ms = 1000 * np.asarray(wall)
                p50 = float(np.percentile(ms, 50))
                rows.append(
                    {
                        **base,
                        "stage": "stack",
                        "ms_p50": p50,
                        "ms_p95": float(np.percentile(ms, 95)),
                        "ms_min": float(ms.min()),
                        "cpu_ms_p50": float(np.percentile(1000 * np.asarray(cpu), 50)),
                        "meets_target": bool(p50 < TARGET_MS)
                        if (mode == "linear" and size == 512)
                        else None,
                    }
                )
    return rows
