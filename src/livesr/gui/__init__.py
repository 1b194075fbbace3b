"""Live SR inside the pymmcore-plus GUIs (the ``gui`` extra: pymmcore-widgets, ndv, Qt).

`LiveSRWidget` is pymmcore-widgets' MDA panel with a "Live SR" switch and the ndv WF | SR live
view: Run acquires the user's sequence as SIM through a `livesr.pipeline.LivePipeline`. It docks
in pymmcore-gui (`register_pymmcore_gui`, before ``create_mmgui()``), in napari
(``viewer.window.add_dock_widget(LiveSRWidget())``), or runs as its own window.
"""

from ._pymmcore_gui import PYMMCORE_GUI_KEY, register_pymmcore_gui
from ._widget import LiveSRWidget

__all__ = ["PYMMCORE_GUI_KEY", "LiveSRWidget", "register_pymmcore_gui"]
