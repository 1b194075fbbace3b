"""Open pymmcore-gui on the simulated SIM microscope, with livesr's "Live SIM SR" panel.

    python examples/pymmcore_gui_live_sr.py --store ~/data/run.zarr

Needs pymmcore-gui installed beside livesr with ``--no-deps`` (README, "Live SR inside
pymmcore-gui"). In the GUI: Window > Live SIM SR docks the panel; pick channels (488, 561) and a
time plan in it, then Run. Each run goes to a new store next to ``--store`` (``run.zarr``,
``run_001.zarr``, ...); afterwards ``livesr preview run.zarr``. ``--config`` takes a rig's
Micro-Manager .cfg with a pattern device instead of the demo microscope.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("livesr_run.zarr"))
    parser.add_argument("--model", default=None, help="wiener, bundled name or weights")
    parser.add_argument("--config", default="demo", help="'demo' or a Micro-Manager .cfg")
    args = parser.parse_args(argv)

    # pymmcore-gui first: importing it sets PYMM_SIGNALS_BACKEND=qt, so the core made below
    # emits Qt signals and the GUI's viewers are made on the GUI thread.
    from pymmcore_gui import create_mmgui

    from livesr.acquire import open_core
    from livesr.gui import register_pymmcore_gui

    register_pymmcore_gui(store=args.store, model=args.model)  # before the window is made
    core = open_core(args.config)
    # mm_config=False: the core is loaded already (open_core loads livesr's Python devices).
    create_mmgui(mmcore=core, mm_config=False)  # runs the Qt event loop until the window closes


if __name__ == "__main__":
    main()
