"""Connect to a core's MDA signals so slots run on the acquisition thread, whatever the backend.

pymmcore-plus picks the signal backend of a core when the core is made: psygnal, or Qt when a
QApplication is running (napari-micromanager, pymmcore-gui) or ``PYMM_SIGNALS_BACKEND=qt``.
psygnal calls a slot on the thread that emits; Qt's default (auto) connection from the MDA
thread to a plain callable queues the call to the GUI thread. livesr's frameReady slot must run
on the acquisition thread (O(1) copy-and-queue, frames in order, all of them in before the
pipeline closes), so with Qt it connects with ``Qt.DirectConnection``: the same thread as
psygnal. The core's backend is read, never chosen: the environment is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pymmcore_plus import CMMCorePlus

__all__ = ["connect_direct", "signals_backend"]


def signals_backend(core: CMMCorePlus) -> Literal["psygnal", "qt"]:
    """The backend of ``core.mda.events``: ``"psygnal"`` or ``"qt"``.

    Raises
    ------
    TypeError
        If the signals are neither (a custom `PMDASignaler`): livesr could not tell on which
        thread its slots would run.
    """
    from psygnal import SignalGroup

    events = core.mda.events
    if isinstance(events, SignalGroup):
        return "psygnal"
    if any(cls.__name__ == "QObject" for cls in type(events).__mro__):
        return "qt"
    raise TypeError(
        f"the core's MDA signals are a {type(events).__name__}, neither psygnal nor Qt: livesr "
        "cannot make its frameReady slot run on the acquisition thread"
    )


def connect_direct(core: CMMCorePlus, signal: Any, slot: Callable[..., Any]) -> None:
    """Connect `slot` to `signal` of ``core.mda.events`` so it runs on the emitting thread.

    Threads
    -------
    `slot` runs synchronously on the thread that emits (the MDA runner's), for both backends.
    Disconnect with ``signal.disconnect(slot)``.
    """
    if signals_backend(core) == "psygnal":
        signal.connect(slot)
        return
    from qtpy.QtCore import Qt

    signal.connect(slot, Qt.ConnectionType.DirectConnection)
