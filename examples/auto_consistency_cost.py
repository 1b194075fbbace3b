"""What ``--method auto``'s consistency check costs per stack, and what it decided.

For each frame size, a dim simulated stack (20 photons: the held-out table gives it to the
network) is reconstructed by ``auto`` with the check on and off (the shipped wiener-denoiser,
torch on the CPU); the difference is the check: a Wiener SIM reconstruction of the stack and
two raw re-synthesis chi^2 (``check_ms``, timed inside the call). Prints one row per size:

    python examples/auto_consistency_cost.py [SIZE ...] [--threads N] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

from livesr.config import OpticsConfig, PatternConfig
from livesr.reconstruct import StackReconstructor
from livesr.simulate import simulate_sample


def _median_ms(repeats: int, fn: Callable[..., Any], *args: Any) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 1)


def _auto(size: int, threads: int, check: bool) -> StackReconstructor:
    micro = {"pattern": PatternConfig(), "optics": OpticsConfig(), "allow_nominal": True}
    return StackReconstructor.create(
        "auto", "torch", frame_shape=(size, size), microscope=micro, threads=threads,
        check_consistency=check,
    )  # fmt: skip


def measure(size: int, threads: int, repeats: int) -> dict[str, Any]:
    """Per-stack milliseconds of auto with and without the check, and the check itself."""
    raw = simulate_sample("microtubules", size=size, photons=20.0, seed=0, motion=0.0).raw[0]
    off, on = _auto(size, threads, False), _auto(size, threads, True)
    off(raw)  # estimates the pattern, builds filters and the checker (not timed)
    _, prov = on(raw)
    row: dict[str, Any] = {"size": size, "threads": threads, "method": prov["method"]}
    row["off_ms"] = _median_ms(repeats, off, raw)
    auto: Any = on.reconstructor
    checks = []
    for _ in range(repeats):
        on(raw)
        checks.append(auto.last_check_ms)
    row["on_ms"] = _median_ms(repeats, on, raw)
    # Measured inside the call (its Wiener SIM and two chi^2): steadier on a busy machine
    # than the difference of the two totals.
    row["check_ms"] = round(statistics.median(checks), 1)
    row["consistency"] = prov.get("consistency")
    off.close()
    on.close()
    return row


def main() -> None:
    """Print a row per frame size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[128, 256, 512])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for size in args.sizes:
            print(measure(size, args.threads, args.repeats), flush=True)


if __name__ == "__main__":
    main()
