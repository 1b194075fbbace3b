"""QC benchmark: milliseconds per SR frame for the quality record (``livesr bench --qc``).

The live path checks every SR frame off the acquisition thread: SQUIRREL against the
wide-field mean of the raw frames, raw re-synthesis chi^2 per orientation, out-of-band energy,
photons, and the error map on the camera grid (what the store keeps). The SR-grid map of
``livesr qc`` is timed separately. One FFT thread, as in the inference worker. Data: one
simulated microtubule stack (signal level 6), Wiener SIM with the exact parameters.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["bench_qc"]


def bench_qc(
    sizes: Sequence[int] | None = None, repeats: int | None = None
) -> list[dict[str, Any]]:
    """Time `QualityChecker.check` per SR frame.

    Parameters
    ----------
    sizes : sequence of int, optional
        Square camera frame sizes (default 128 and 256; SR frames are twice as large).
    repeats : int, optional
        Timed frames per configuration (default 30) after one warm-up.

    Returns
    -------
    list of dict
        One row per (size, stage): ``setup`` (kernels, once per geometry), ``record`` (the
        live record with the camera-grid map), ``record_no_raw`` (SQUIRREL and out-of-band
        only) and ``sr_map`` (the record plus the SR-grid map); wall ms p50 / p95 / min and
        process-CPU ms p50.
    """
    from livesr.config import OpticsConfig, PatternConfig
    from livesr.qc import PatternState, QualityChecker
    from livesr.reconstruct.conventional import SIMParameters, WienerReconstructor
    from livesr.simulate import simulate_sample

    sizes = list(sizes or [128, 256])
    repeats = int(repeats or 30)
    optics = OpticsConfig()
    pattern = PatternConfig.linear()
    rows: list[dict[str, Any]] = []
    for size in sizes:
        sample = simulate_sample("microtubules", size=size, level=6, seed=0, motion=0.0)
        raw = sample.raw[0]
        params = SIMParameters.nominal(pattern, optics, (size, size))
        wiener = WienerReconstructor(pattern, optics, params=params, workers=1)
        sr = wiener(raw[np.newaxis].astype(np.float32))[0, 0]
        start, start_cpu = time.perf_counter(), time.process_time()
        checker = QualityChecker(
            optics, (size, size), pattern=PatternState.from_config(pattern, optics), workers=1
        )
        setup = (time.perf_counter() - start, time.process_time() - start_cpu)
        base = {"size": size, "sr_size": 2 * size, "frames": pattern.n_frames, "workers": 1}
        rows.append(
            {
                **base,
                "stage": "setup",
                "ms_p50": 1000 * setup[0],
                "ms_p95": 1000 * setup[0],
                "ms_min": 1000 * setup[0],
                "cpu_ms_p50": 1000 * setup[1],
            }
        )
        cases: dict[str, dict[str, Any]] = {
            "record": {"raw": raw, "map_grid": "camera"},
            "record_no_raw": {"reference": sample.wf[0], "map_grid": "none"},
            "sr_map": {"raw": raw, "map_grid": "sr"},
        }
        for stage, kwargs in cases.items():
            checker.check(sr, **kwargs)
            wall, cpu = [], []
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                checker.check(sr, **kwargs)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            ms = 1000 * np.asarray(wall)
            rows.append(
                {
                    **base,
                    "stage": stage,
                    "ms_p50": float(np.percentile(ms, 50)),
                    "ms_p95": float(np.percentile(ms, 95)),
                    "ms_min": float(ms.min()),
                    "cpu_ms_p50": float(np.percentile(1000 * np.asarray(cpu), 50)),
                }
            )
    return rows
