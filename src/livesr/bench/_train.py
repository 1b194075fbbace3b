"""Training throughput: patches per second of full training steps, per model size.

One step = forward, MSE-SSIM loss, backward and Adam update on a batch of random patches, the
work of `livesr.train.train` minus data loading (timed separately as the ``data`` rows: simulated
fields cut into normalised, augmented patches). Sizes: the bundled weights' reduced DFCAN and the
authors' full-size DFCAN (4 x 4 FCABs, 64 channels, 128-px patches).
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["bench_train"]

# (name, in_frames, options, patch size): the bundled runs' sizes and the authors' size.
_SIZES: tuple[tuple[str, int, dict[str, Any], int], ...] = (
    ("bundled dfcan-sim", 9, {"groups": 2, "blocks": 2, "width": 32, "size_psc": 64}, 64),
    ("bundled dfcan-sisr", 1, {"groups": 2, "blocks": 2, "width": 32, "size_psc": 64}, 64),
    ("full-size DFCAN (authors)", 9, {}, 128),
)


def bench_train(
    repeats: int | None = None, batch: list[int] | None = None, threads: int | None = None
) -> list[dict[str, Any]]:
    """Time training steps of each model size; one row per size and batch.

    Parameters
    ----------
    repeats : int, optional
        Timed steps per configuration after one warm-up step (default 3).
    batch : list of int, optional
        Batch sizes (default ``[4]``, the authors' DFCAN batch).
    threads : int, optional
        ``torch.set_num_threads`` (default: leave torch's setting).

    Returns
    -------
    list of dict
        ``model``, ``params``, ``patch``, ``batch``, ``threads``, ``s_per_step`` (median),
        ``patches_per_s`` and the simulated-data rows.
    """
    import torch

    from livesr.config import ModelConfig
    from livesr.models import build_model
    from livesr.train._losses import mse_ssim_loss

    repeats = repeats or 3
    if threads is not None:
        torch.set_num_threads(threads)
    rows: list[dict[str, Any]] = []
    for name, frames, options, patch in _SIZES:
        model = build_model(ModelConfig(in_frames=frames, scale=2, options=options))
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        params = sum(p.numel() for p in model.parameters())
        for size in batch or [4]:
            x = torch.rand(size, frames, patch, patch)
            y = torch.rand(size, 1, 2 * patch, 2 * patch)
            times = []
            for i in range(repeats + 1):
                start = time.perf_counter()
                loss = mse_ssim_loss(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                opt.step()
                if i:  # the first step allocates and picks kernels
                    times.append(time.perf_counter() - start)
            step = sorted(times)[len(times) // 2]
            rows.append({
                "model": name, "in_frames": frames, "params": params, "patch": patch,
                "batch": size, "threads": torch.get_num_threads(),
                "s_per_step": round(step, 3), "patches_per_s": round(size / step, 2),
            })  # fmt: skip
    rows.append(_bench_data(repeats))
    return rows


def _bench_data(repeats: int) -> dict[str, Any]:
    from livesr.train import PatchSampler, SimulatedDataConfig
    from livesr.train._simulated import SimulatedSource

    config = SimulatedDataConfig(field_size=128, pool_size=4, refresh_every=8)
    start = time.perf_counter()
    source = SimulatedSource(config, in_frames=9, scale=2, validation=False)
    per_field = (time.perf_counter() - start) / config.pool_size
    sampler = PatchSampler(source, 64, seed=0)
    n = 32 * repeats
    start = time.perf_counter()
    sampler.batch(n)
    elapsed = time.perf_counter() - start
    return {
        "model": "data: simulated 128-px fields -> 64-px patches (refresh every 8)",
        "in_frames": 9, "patch": 64, "s_per_field": round(per_field, 3),
        "patches_per_s": round(n / elapsed, 1),
    }  # fmt: skip
