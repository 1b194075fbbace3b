"""Simulator benchmark: milliseconds per raw SIM stack, split into its stages.

A live simulated camera renders a timepoint in three stages: the specimen on the fine grid
(``specimen``), the noise-free bands (``prepare``, once per timepoint) and the noisy frames
(``frames``, one `render_frame` per exposure). ``frames`` is the per-stack cost of the live
camera, which prepares each timepoint once in the background; ``stack`` is prepare + all
frames, a stack from scratch. Both compare with the camera budget (9 frames x 10 ms = 90 ms
for linear SIM at 512 x 512).
Stages are timed in round-robin so a busy neighbour slows all of them alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from livesr.config import CameraConfig, OpticsConfig, PatternConfig

if TYPE_CHECKING:
    from livesr.simulate import NoiseMethod

__all__ = ["bench_simulate"]


class _Timer:
    """Wall and process-CPU seconds of each named call."""

    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def call(self, name: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        start, start_cpu = time.perf_counter(), time.process_time()
        result = func(*args, **kwargs)
        self.wall.setdefault(name, []).append(time.perf_counter() - start)
        self.cpu.setdefault(name, []).append(time.process_time() - start_cpu)
        return result


def bench_simulate(
    sizes: Sequence[int] | None = None,
    repeats: int | None = None,
    structures: Sequence[str] = ("microtubules",),
    modes: Sequence[Literal["linear", "nonlinear"]] = ("linear",),
    noise: Sequence[NoiseMethod] = ("fast", "poisson"),
) -> list[dict[str, Any]]:
    """Time the simulator stages.

    Parameters
    ----------
    sizes : sequence of int, optional
        Square camera frame sizes (default 512).
    repeats : int, optional
        Timed repeats per stage (default 10); one untimed warm-up precedes them.
    structures, modes, noise
        Specimens, SIM modes and camera noise methods to time.

    Returns
    -------
    list of dict
        One row per (structure, mode, size, noise, stage): wall ms p50 / p95 / min, process
        CPU ms p50 and, for ``frames`` and ``stack``, whether the wall p50 beats 10 ms per
        frame.
    """
    from livesr.simulate import SIMForwardModel, Specimen

    sizes = list(sizes or [512])
    repeats = int(repeats or 10)
    optics, camera = OpticsConfig(), CameraConfig()
    rows: list[dict[str, Any]] = []
    for structure in structures:
        for mode in modes:
            pattern = PatternConfig.linear() if mode == "linear" else PatternConfig.nonlinear()
            for size in sizes:
                models = {
                    n: SIMForwardModel(pattern, optics, camera, (size, size), noise=n)
                    for n in noise
                }
                base = next(iter(models.values()))
                specimen = Specimen(structure, size * optics.pixel_size_um, seed=0)
                rng = np.random.default_rng(0)
                timer = _Timer()
                times, cpu, timed = timer.wall, timer.cpu, timer.call

                for i in range(repeats + 1):
                    t = 0.1 * i
                    density = timed("specimen", base.fine_density, specimen, t)
                    bands = timed("prepare", base.prepare, density)
                    for n, model in models.items():
                        timed(f"frames/{n}", model.render_stack, bands, photons=100.0, rng=rng)
                    if i == 0:  # warm-up: first calls allocate and plan FFTs
                        times.clear()
                        cpu.clear()
                frames = pattern.n_frames
                for table in (times, cpu):
                    for n in noise:
                        table[f"stack/{n}"] = [
                            a + b
                            for a, b in zip(table["prepare"], table[f"frames/{n}"], strict=True)
                        ]
                for stage, values in times.items():
                    ms = np.asarray(values) * 1e3
                    # CPU time of this process: what the stage costs on an otherwise idle
                    # machine (wall time on a shared host includes waiting for the cores).
                    cpu_ms = np.asarray(cpu[stage]) * 1e3
                    row: dict[str, Any] = {
                        "structure": structure,
                        "mode": mode,
                        "shape": f"{frames}x{size}x{size}",
                        "stage": stage,
                        "p50_ms": round(float(np.percentile(ms, 50)), 1),
                        "p95_ms": round(float(np.percentile(ms, 95)), 1),
                        "min_ms": round(float(ms.min()), 1),
                        "cpu_p50_ms": round(float(np.percentile(cpu_ms, 50)), 1),
                    }
                    if stage.startswith(("stack", "frames")):
                        budget = 10.0 * frames
                        row["budget_ms"] = budget
                        row["beats_budget_p50"] = bool(row["p50_ms"] < budget)
                    rows.append(row)
    return rows
