"""Acquire a two-colour SIM time-lapse on the simulated microscope and watch it live.

    python examples/live_preview.py --timepoints 30 --out preview_run.zarr

A window shows wide-field and SR side by side (green/magenta composite) with a status line
(time point, SR frames per second, latency, backlog, skipped), redrawn at most 30 times per
second from the pipeline's signals. The acquisition runs on a background thread; the window
owns the main thread, as Qt requires. Without a display (or with --headless) the same composite
is written every few seconds as ``preview_run.preview/latest.png`` plus ``status.json``, for
watching a run from another machine. Afterwards: ``livesr preview preview_run.zarr``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import useq

from livesr.acquire import open_core
from livesr.pipeline import PipelineSummary, run_live
from livesr.preview import with_preview


def main(argv: list[str] | None = None) -> PipelineSummary:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timepoints", type=int, default=30)
    parser.add_argument("--size", type=int, default=128, choices=(64, 128, 256, 512))
    parser.add_argument("--model", default="wiener", help="wiener, bundled name or weights")
    parser.add_argument("--out", type=Path, default=Path("preview_run.zarr"))
    parser.add_argument("--headless", action="store_true", help="PNG snapshots, no window")
    parser.add_argument("--close", action="store_true", help="close the window when done")
    args = parser.parse_args(argv)

    core = open_core("demo")
    core.setProperty("Camera", "Size", args.size)
    sequence = useq.MDASequence(
        channels=["488", "561"], time_plan={"interval": 0, "loops": args.timepoints}
    )
    run = with_preview(
        run_live, headless=args.headless or None, keep_open=not args.close, snapshot_interval_s=2
    )
    try:
        summary = run(core, sequence, args.out, models={"488": args.model, "561": args.model})
    finally:
        core.unloadAllDevices()
    print(summary)
    return summary


if __name__ == "__main__":
    main()
