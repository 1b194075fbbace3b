"""`StopOnSignal`: SIGINT/SIGTERM ask a run to stop instead of unwinding it."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from livesr._logger import exceptions_logged

__all__ = ["StopOnSignal"]


class StopOnSignal:
    """SIGINT/SIGTERM stop a run cleanly instead of unwinding it (main thread only).

    Python's default SIGINT raises KeyboardInterrupt wherever the main thread is, e.g. inside
    pymmcore-plus's runner, which then never reports finished (the run hung), and SIGTERM
    kills the process without a flush. While a run is open, both only ask for a stop: a
    thread of this class calls `on_stop` (cancel the MDA, skip backfill) outside the handler,
    since the handler may interrupt the main thread while it holds the runner's lock. A third
    signal falls back to the previous handler. Installed only over Python's own default
    handlers (an application's handlers are left alone), and restored when the run ends.

    Parameters
    ----------
    on_stop : callable (str) -> None
        Called once, on the ``livesr-stop`` thread, with the first signal's name.
    abort_by_default : bool
        The third signal ends the process by the signal's default action instead of calling
        the previous handler. For a main thread that runs a Qt event loop (the live preview):
        there Python's SIGINT handler raises KeyboardInterrupt inside whichever slot runs,
        where PySide6 prints and swallows it, so Ctrl-C could never end the process.
    """

    _SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self, on_stop: Callable[[str], None], *, abort_by_default: bool = False) -> None:
        self._on_stop = on_stop
        self._abort_by_default = abort_by_default
        self._old: dict[int, Any] = {}
        self._event = threading.Event()
        self._closed = False
        self._count = 0
        self._signame = ""
        self._thread: threading.Thread | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
        for name in self._SIGNALS:
            signum = getattr(signal, name)
            if signal.getsignal(signum) is defaults[signum]:
                self._old[signum] = signal.signal(signum, self._handler)
        if self._old:
            self._thread = threading.Thread(target=self._wait, name="livesr-stop", daemon=True)
            self._thread.start()

    def _handler(self, signum: int, frame: Any) -> None:
        self._count += 1
        if self._count >= 3 and signum in self._old:
            old = self._old[signum]
            self.restore()
            if self._abort_by_default:
                signal.signal(signum, signal.SIG_DFL)
                signal.raise_signal(signum)
            elif callable(old):
                old(signum, frame)
            else:
                signal.raise_signal(signum)
            return
        if self._count == 1:
            self._signame = signal.Signals(signum).name
            self._event.set()
        else:
            print(
                "livesr: stopping, writing the acquired frames to disk (signal once more to "
                "abort at once)",
                file=sys.stderr,
            )

    def _wait(self) -> None:
        self._event.wait()
        if not self._closed:
            with exceptions_logged("stopping the run"):
                self._on_stop(self._signame)

    def restore(self) -> None:
        self._closed = True
        self._event.set()
        for signum, old in self._old.items():
            with contextlib.suppress(ValueError):  # not the main thread any more
                signal.signal(signum, old)
        self._old = {}
        if self._thread is not None:
            self._thread.join(1.0)
