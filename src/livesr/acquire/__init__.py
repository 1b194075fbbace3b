"""What touches pymmcore-plus: SIM events for a useq sequence and opening a core.

`sim_events` expands a `useq.MDASequence` into one event per pattern frame (the index gains
the SIM keys ``"a"`` and ``"ph"``); `open_core` opens the demo microscope or a rig's
configuration; `connect_direct` connects a slot that runs on the acquisition thread whether
the core's signals are psygnal's or Qt's (`signals_backend`). The live run that consumes
those frames is `livesr.pipeline`.
"""

from ._core import close_core, open_core
from ._direct import connect_direct, signals_backend
from ._events import SIM_KEYS, pattern_index, pattern_label, sim_events

__all__ = [
    "SIM_KEYS",
    "close_core",
    "connect_direct",
    "open_core",
    "pattern_index",
    "pattern_label",
    "signals_backend",
    "sim_events",
]
