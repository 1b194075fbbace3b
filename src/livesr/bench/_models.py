"""``livesr bench --part models``: size, FLOPs and torch CPU latency of DFCAN and DFGAN.

Each network runs with the three spectrum computations of the Fourier attention side by side
(``fft``: torch.fft reference; ``dft``: full DFT matrices; ``tiled``: folded 128-point DFT, the
default and the exported graph). FLOPs (2 per multiply-accumulate) come from
``torch.utils.flop_counter`` on the meta device, split into the attention layers (spectrum +
attention convs) and everything else; the FFT itself is not seen by the counter and is added as
the usual 5 N log2 N estimate per channel. Latency is the median wall time of a batch-1 forward
pass in ``torch.inference_mode`` on the CPU threads torch uses.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

__all__ = ["bench_models"]

_SPECTRA = ("fft", "dft", "tiled")


def _flops(name: str, spectrum: str, shape: tuple[int, int, int]) -> dict[str, float]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from livesr.models import DFCAN, DFGANGenerator

    cls = DFCAN if name == "dfcan" else DFGANGenerator
    frames, height, width = shape
    with torch.device("meta"):
        model = cls(frames, 2, spectrum=spectrum)  # type: ignore[arg-type]
        x = torch.empty(1, frames, height, width)
    counter = FlopCounterMode(display=False, depth=8)  # deep enough for every FCA
    with counter, torch.no_grad():
        model(x)
    total = float(counter.get_total_flops())
    attention = 0.0
    for module_name, ops in counter.get_flop_counts().items():
        # Leaf attention modules only (".attention" is their full name; deeper names repeat
        # the same FLOPs).
        if module_name.endswith(".attention"):
            attention += float(sum(ops.values()))
    fca_count = sum(1 for m in model.modules() if type(m).__name__ == "FourierChannelAttention")
    fft = 0.0
    if spectrum == "fft":
        width_ch = int(model.options["width"])
        fft = fca_count * width_ch * 5.0 * height * width * math.log2(height * width)
    return {"total": total + fft, "attention": attention + fft, "conv": total - attention}


def _latency(name: str, spectrum: str, shape: tuple[int, int, int], repeats: int) -> list[float]:
    import torch

    from livesr.models import DFCAN, DFGANGenerator

    cls = DFCAN if name == "dfcan" else DFGANGenerator
    torch.manual_seed(0)
    model = cls(shape[0], 2, spectrum=spectrum).eval()  # type: ignore[arg-type]
    x = torch.rand(1, *shape)
    times = []
    with torch.inference_mode():
        model(x)  # warm-up: builds the DFT constants, allocator pools
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return times


def bench_models(
    sizes: list[int] | None = None,
    repeats: int | None = None,
    models: list[str] | None = None,
    spectra: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Parameters, GFLOPs per frame and CPU latency of DFCAN/DFGAN per spectrum mode.

    Parameters
    ----------
    sizes : list of int, optional
        Square frame sizes timed with 9 input frames (default 128 and 256; empty: count
        only). 512 is always counted (FLOPs only, unless listed here) to check the tiled
        attention's share.
    repeats : int, optional
        Timed forward passes per configuration after one warm-up (default 3).
    models : list of str, optional
        Subset of ``["dfcan", "dfgan"]``; other names are ignored.
    spectra : list of str, optional
        Subset of ``["fft", "dft", "tiled"]`` (default: all three).

    Returns
    -------
    list of dict
        One row per (model, input, spectrum): params, gflops_total, gflops_conv,
        gflops_attention, attention_pct (of the conv FLOPs), latency_ms_median/min
        (None when only counted), threads.
    """
    import torch

    from livesr.models import DFCAN, DFGANGenerator

    timed = [128, 256] if sizes is None else list(sizes)
    repeats = repeats or 3
    names = [m for m in (models or ["dfcan", "dfgan"]) if m in ("dfcan", "dfgan")] or [
        "dfcan",
        "dfgan",
    ]
    counted_only = [512] if 512 not in timed else []
    rows: list[dict[str, Any]] = []
    for name in names:
        cls = DFCAN if name == "dfcan" else DFGANGenerator
        with torch.device("meta"):
            params = sum(p.numel() for p in cls(9, 2).parameters())
        for size in timed + counted_only:
            shape = (9, size, size)
            for spectrum in [s for s in _SPECTRA if spectra is None or s in spectra]:
                flops = _flops(name, spectrum, shape)
                row: dict[str, Any] = {
                    "model": name,
                    "input": f"9x{size}x{size}",
                    "spectrum": spectrum,
                    "params": params,
                    "gflops_total": round(flops["total"] / 1e9, 1),
                    "gflops_conv": round(flops["conv"] / 1e9, 1),
                    "gflops_attention": round(flops["attention"] / 1e9, 1),
                    "attention_pct": round(100.0 * flops["attention"] / flops["conv"], 1),
                    "latency_ms_median": None,
                    "latency_ms_min": None,
                    "threads": torch.get_num_threads(),
                }
                if size in timed:
                    times = _latency(name, spectrum, shape, repeats)
                    row["latency_ms_median"] = round(1e3 * statistics.median(times), 1)
                    row["latency_ms_min"] = round(1e3 * min(times), 1)
                rows.append(row)
    return rows
