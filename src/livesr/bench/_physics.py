"""``livesr bench --part physics``: the physics-informed model end to end, and its training.

Inference rows: SR frames/s of the whole `PhysicsInformedReconstructor` (hot-pixel repair,
Wiener SIM with fixed parameters, the network, mapping back) on raw 9 x S x S stacks, per
backend (torch CPU, ONNX Runtime CPU), with the network-only time split out. Training rows:
patches/s of full training steps (batch 8 of 64-px raw-grid crops, 1 thread by default as the
background run) and of the simulator (examples/s; each gives 128-px fields).

Example: ``livesr bench --part physics --sizes 512 --backends torch,onnxruntime --threads 1``.
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["bench_physics"]


def _stack(size: int) -> Any:
    from livesr.simulate import simulate_sample

    return simulate_sample("microtubules", size=size, photons=20.0, seed=0, motion=0.0).raw[0]


def bench_physics(
    models: Sequence[str] | None = None,
    backends: Sequence[str] = ("torch", "onnxruntime"),
    sizes: Sequence[int] = (512,),
    repeats: int | None = None,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Time the physics-informed model's inference and training; one row per configuration."""
    import torch

    from livesr.config import OpticsConfig, PatternConfig
    from livesr.reconstruct import StackReconstructor
    from livesr.reconstruct._physics_rec import DEFAULT_PHYSICS_MODEL

    repeats = repeats or 3
    rows: list[dict[str, Any]] = []
    for model in models or [DEFAULT_PHYSICS_MODEL]:
        for size in sizes:
            raw = _stack(size)
            micro = {"pattern": PatternConfig(), "optics": OpticsConfig(), "allow_nominal": True}
            for backend in backends:
                try:
                    rec = StackReconstructor.create(
                        model, backend, frame_shape=(size, size), threads=threads,
                        microscope=micro,
                    )  # fmt: skip
                except Exception as exc:
                    rows.append({"model": model, "backend": backend, "size": size,
                                 "error": str(exc)[:120]})  # fmt: skip
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rec(raw)  # estimates the pattern, builds filters, compiles
                    times, net_times = [], []
                    inner = rec.reconstructor
                    network = getattr(inner, "network", None)
                    for _ in range(repeats):
                        start = time.perf_counter()
                        rec(raw)
                        times.append(time.perf_counter() - start)
                        if network is not None:
                            x = np.zeros((1, 2, 2 * size, 2 * size), np.float32)
                            start = time.perf_counter()
                            network(x)
                            net_times.append(time.perf_counter() - start)
                info = rec.reconstructor.info
                rec.close()
                best = min(times)
                rows.append({
                    "model": model, "backend": f"{info.backend}-{info.device}", "size": size,
                    "frames": f"9x{size}x{size}", "threads": threads or torch.get_num_threads(),
                    "p50_ms": round(1000 * statistics.median(times), 1),
                    "best_ms": round(1000 * best, 1),
                    "sr_fps": round(1.0 / best, 2),
                    "network_ms": round(1000 * min(net_times), 1) if net_times else None,
                })  # fmt: skip
    rows += _bench_training(repeats, threads)
    return rows


def _bench_training(repeats: int, threads: int | None) -> list[dict[str, Any]]:
    import torch

    from livesr.models._piunet import PIUNet
    from livesr.train._microscope_train import _loss, make_example
    from livesr.train._microscopes import make_field

    if threads is not None:
        torch.set_num_threads(threads)
    net = PIUNet(2, 1, 20)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(8, 2, 128, 128)
    y = torch.rand(8, 1, 128, 128)
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        loss = _loss(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - start)
    step = statistics.median(times)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    field = make_field(rng)
    for _ in range(4):
        make_example(rng, field)
    per_example = (time.perf_counter() - start) / 4
    params = sum(p.numel() for p in net.parameters())
    return [
        {"model": f"train PIUNet ({params} params), batch 8 x 64 px raw grid",
         "threads": torch.get_num_threads(), "s_per_step": round(step, 3),
         "patches_per_s": round(8 / step, 1)},
        {"model": "data: randomised microscope example (128-px field, Wiener input)",
         "s_per_example": round(per_example, 3),
         "patches_per_s": round(1 / per_example, 1),
         "note": "one new example per training step feeds a ring buffer of 64"},
    ]  # fmt: skip
