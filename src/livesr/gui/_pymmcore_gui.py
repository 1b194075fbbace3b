"""Put `LiveSRWidget` into pymmcore-gui's Window menu.

pymmcore-gui lists every ``WidgetActionInfo`` declared before its main window is made
(pymmcore-gui PR #71, "Enable contribution of widgets ... by declaring [Widget]ActionInfo"), and
docks the widget its ``create_widget`` returns. pymmcore-gui itself is not a livesr dependency:
install it beside livesr with ``--no-deps`` (its only release, 0.0.1rc0, pins ``zarr<3``; it runs
with livesr's zarr 3 and pymmcore 12: ``.ci/pymmcore_gui_check``). It brings PyQt6.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PYMMCORE_GUI_KEY", "register_pymmcore_gui"]

#: Key of livesr's widget action in pymmcore-gui.
PYMMCORE_GUI_KEY = "livesr.live_sr"


def _core_of(widget: Any) -> Any:
    """The core of the pymmcore-gui main window `widget` sits in (its ``mmcore``), if any.

    pymmcore-gui calls ``create_widget(main_window)``; ``MicroManagerGUI.mmcore`` is the core
    it was made with (``create_mmgui(mmcore=...)``). Walking up the parents also finds it from a
    widget nested deeper in the window.
    """
    while widget is not None:
        core = getattr(widget, "mmcore", None)
        if core is not None and not callable(core):
            return core
        widget = widget.parent()
    return None


def _binding_mismatch(window_cls: type) -> str | None:
    """Why livesr's widgets cannot dock in `window_cls` (pymmcore-gui's main window), or None.

    pymmcore-gui imports PyQt6 (PySide6 only without PyQt6); livesr's widgets use the binding
    qtpy picked (``QT_API``, else the one already imported). A widget of one binding cannot be
    put in a window of the other, so a mismatch is named here, before the GUI is built.
    """
    from qtpy import API_NAME, QtWidgets

    if issubclass(window_cls, QtWidgets.QMainWindow):
        return None
    gui = next(
        (c.__module__.split(".")[0] for c in window_cls.__mro__ if c.__name__ == "QMainWindow"),
        "another Qt binding",
    )
    return (
        f"pymmcore-gui runs on {gui} but livesr's widgets on {API_NAME} (qtpy): set "
        f"QT_API={gui.lower()} before importing livesr.gui"
    )


def _thread_mismatch(core: Any) -> str | None:
    """Why `core` cannot drive pymmcore-gui (its MDA signals are not Qt's), or None.

    pymmcore-gui's MDA viewer makes Qt widgets in its sequenceStarted slot. With psygnal
    signals that slot runs on the acquisition thread, where Qt widgets must not be made. A core
    made before ``import pymmcore_gui`` (which sets ``PYMM_SIGNALS_BACKEND=qt``) while no
    QApplication runs has psygnal signals.
    """
    from livesr.acquire import signals_backend

    if signals_backend(core) == "qt":
        return None
    return (
        "the pymmcore-gui core emits psygnal signals, so the GUI's viewers would be made on the "
        "acquisition thread: make the core after `import pymmcore_gui`"
    )


def register_pymmcore_gui(**widget_options: Any) -> Any:
    """Declare livesr's widget to pymmcore-gui; call before ``pymmcore_gui.create_mmgui()``.

    Parameters
    ----------
    **widget_options
        Passed to `LiveSRWidget` (``store``, ``model``, ``backend``, ``config``,
        ``pattern_device``); its core is always the pymmcore-gui window's.

    Returns
    -------
    pymmcore_gui.actions.WidgetActionInfo
        The declared action ("Live SIM SR" in the Window menu; key `PYMMCORE_GUI_KEY`).

    Raises
    ------
    ImportError
        If pymmcore-gui is not installed.
    TypeError
        If `widget_options` names ``mmcore`` or ``parent`` (pymmcore-gui supplies both).
    RuntimeError
        If pymmcore-gui and qtpy use different Qt bindings (PyQt6 vs PySide6). When the widget
        is made (Window > Live SIM SR): if the window's core emits psygnal, not Qt, signals.

    Notes
    -----
    GUI (main) thread. pymmcore-gui creates the widget the first time its action is triggered
    (Window > Live SIM SR), with the main window as parent, and docks it on the right.
    """
    if taken := sorted({"mmcore", "parent"} & widget_options.keys()):
        raise TypeError(
            f"register_pymmcore_gui() takes no {', '.join(taken)}: the widget gets the "
            "pymmcore-gui window's (create_mmgui(mmcore=...))"
        )
    from pymmcore_gui import MicroManagerGUI
    from pymmcore_gui.actions import WidgetActionInfo
    from pymmcore_plus import CMMCorePlus

    from ._widget import LiveSRWidget

    if (why := _binding_mismatch(MicroManagerGUI)) is not None:
        raise RuntimeError(why)

    def create(parent: Any) -> Any:
        core = _core_of(parent) or CMMCorePlus.instance()
        if (why := _thread_mismatch(core)) is not None:
            raise RuntimeError(why)
        return LiveSRWidget(mmcore=core, parent=parent, **widget_options)

    return WidgetActionInfo(
        key=PYMMCORE_GUI_KEY,
        text="Live SIM SR",
        icon="mdi:microscope",
        create_widget=create,
    )
