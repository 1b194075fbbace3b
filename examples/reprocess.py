"""Reprocess a finished (or crashed) run with the same or another model on Dask.

    python examples/reprocess.py preview_run.zarr                      # complete `sr`
    python examples/reprocess.py preview_run.zarr --model my.safetensors --workers 2
    python examples/reprocess.py preview_run.zarr --scheduler tcp://10.0.0.5:8786

With no model, the live run's own model, backend and settings complete ``sr`` (identical to what
the live pipeline wrote). Another model writes ``sr_<model>`` next to it and leaves ``sr``
untouched. Interrupt it at any time: rerunning finishes only the stacks that are missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from livesr.distributed import ReprocessResult, reprocess
from livesr.io import open_store


def main(argv: list[str] | None = None) -> ReprocessResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--model", default=None)
    parser.add_argument("--scheduler", default="local", help="local, processes or an address")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)

    result = reprocess(
        args.store, args.model, scheduler=args.scheduler, n_workers=args.workers, progress=True
    )
    print(result)
    store = open_store(args.store)
    done = store.sr_done(result.name)
    print(f"{result.name}: {int(done.sum())} of {done.size} SR frames present")
    return result


if __name__ == "__main__":
    main()
