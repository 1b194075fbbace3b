"""Open a pymmcore-plus core: the demo SIM microscope or a rig's Micro-Manager .cfg."""

from __future__ import annotations

import atexit
import contextlib
import logging
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymmcore_plus import CMMCorePlus
    from pymmcore_plus.experimental.unicore import UniMMCore

__all__ = ["close_core", "open_core"]


def open_core(config: str | Path = "demo", *, hardware_sequencing: bool = True) -> UniMMCore:
    """Load a microscope into a new `UniMMCore` (C++ and Python devices side by side).

    Parameters
    ----------
    config : "demo" or path
        ``"demo"`` loads the simulated two-colour SIM microscope of `livesr.simulate.devices`
        (the same as ``hardware_configs/demo_sim.cfg``); anything else is the path of a
        Micro-Manager ``.cfg`` file (``#py`` lines load Python devices).
    hardware_sequencing : bool
        Let the MDA engine merge frames into triggered bursts where every changing property
        is sequenceable (the demo's pattern and laser are). False runs one software-timed
        snap per frame.

    Returns
    -------
    UniMMCore
        Loaded and initialised; its MDA engine is the stock pymmcore-plus `MDAEngine`.

    Raises
    ------
    FileNotFoundError
        If the .cfg file does not exist.
    RuntimeError
        If the .cfg does not load; the message names the file and Micro-Manager's reason.
    """
    from pymmcore_plus.experimental.unicore import UniMMCore

    # The signal backend is pymmcore-plus's choice (Qt while a QApplication runs): the live
    # pipeline connects so that frames reach it on the acquisition thread with either. The
    # demo needs no Micro-Manager adapters, so their discovery error is kept off its console.
    quiet = _DiscoveryErrorFilter() if str(config) == "demo" else None
    with quiet or contextlib.nullcontext():
        core = UniMMCore()
    if str(config) == "demo":
        from livesr.simulate.devices import DEMO_CFG

        # The embedded text is the single source of the demo microscope; loading goes through
        # a file because that is the only entry point of Micro-Manager's .cfg parser.
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "demo_sim.cfg"
            path.write_text(DEMO_CFG)
            _load(core, path)
    else:
        path = Path(config)
        if not path.is_file():
            raise FileNotFoundError(
                f"microscope config {path} does not exist; pass 'demo' for the simulated "
                "microscope or the path of a Micro-Manager .cfg file"
            )
        _load(core, path)
    core.mda.engine.use_hardware_sequencing = hardware_sequencing  # type: ignore[union-attr]
    # A core the caller never closes is closed before the interpreter finalises (see
    # `close_core` for why that matters); weakly, so the hook does not keep it alive.
    atexit.register(_close_at_exit, weakref.ref(core))
    return core


def _close_at_exit(ref: weakref.ref[CMMCorePlus]) -> None:
    core = ref()
    if core is not None:
        with contextlib.suppress(Exception):
            close_core(core)


def close_core(core: CMMCorePlus) -> None:
    """Unload every device and stop the core's native callback thread (idempotent).

    MMCore (pymmcore >= 11) delivers device notifications on a C++ thread of its own that
    calls into Python. If that thread is still alive when the interpreter finalises, taking
    the GIL there ends the thread with a forced unwind that MMCore's ``catch (...)`` swallows,
    and glibc aborts the process ("FATAL: exception not rethrown", exit 134) even after a
    successful run. pymmcore-plus only deregisters its callback in ``__del__``, which may run
    too late, so every livesr command closes its core with this before it returns.
    """
    import pymmcore

    with contextlib.suppress(Exception):
        if core.mda.is_running():
            core.mda.cancel()
    try:
        core.unloadAllDevices()
    finally:
        # The base-class method: pymmcore-plus blocks its own override.
        with contextlib.suppress(Exception):
            pymmcore.CMMCore.registerCallback(core, None)


class _DiscoveryErrorFilter(logging.Filter):
    """Drops pymmcore-plus' "Please run 'mmcore install'" error while a core is created.

    The demo microscope is made of Python devices only, so a missing Micro-Manager adapter
    folder is no error there (a rig's .cfg still gets the message).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "mmcore install" not in record.getMessage()

    def __enter__(self) -> None:
        logging.getLogger("pymmcore-plus").addFilter(self)

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("pymmcore-plus").removeFilter(self)


def _load(core: UniMMCore, path: Path) -> None:
    try:
        core.loadSystemConfiguration(str(path))
    except Exception as exc:
        close_core(core)
        raise RuntimeError(
            f"could not load microscope config {path}: {exc}. Check the device adapters it "
            "names are installed (C++ adapters: Micro-Manager or mm-test-adapters; '#py' "
            "devices: an importable Python module), see hardware_configs/README.md"
        ) from exc
