"""Put `LiveSRWidget` into pymmcore-gui's Window menu.

pymmcore-gui lists every ``WidgetActionInfo`` declared before its main window is made
(pymmcore-gui PR #71, "Enable contribution of widgets ... by declaring [Widget]ActionInfo"), and
docks the widget its ``create_widget`` returns. pymmcore-gui itself is not a livesr dependency:
install it beside livesr (it brings PyQt6).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PYMMCORE_GUI_KEY", "register_pymmcore_gui"]

#: Key of livesr's widget action in pymmcore-gui.
PYMMCORE_GUI_KEY = "livesr.live_sr"


def _core_of(widget: Any) -> Any:
    """The core of the pymmcore-gui main window `widget` sits in (its ``mmcore``), if any."""
    while widget is not None:
        core = getattr(widget, "mmcore", None)
        if core is not None and not callable(core):
            return core
        widget = widget.parent()
    return None


def register_pymmcore_gui(**widget_options: Any) -> Any:
    """Declare livesr's widget to pymmcore-gui; call before ``pymmcore_gui.create_mmgui()``.

    Parameters
    ----------
    **widget_options
        Passed to `LiveSRWidget` (``store``, ``model``, ``backend``, ``config``).

    Returns
    -------
    pymmcore_gui.actions.WidgetActionInfo
        The declared action ("Live SIM SR" in the Window menu).

    Raises
    ------
    ImportError
        If pymmcore-gui is not installed.
    """
    from pymmcore_gui.actions import WidgetActionInfo

    from ._widget import LiveSRWidget

    def create(parent: Any) -> Any:
        return LiveSRWidget(mmcore=_core_of(parent), parent=parent, **widget_options)

    return WidgetActionInfo(
        key=PYMMCORE_GUI_KEY,
        text="Live SIM SR",
        icon="mdi:microscope",
        create_widget=create,
    )
