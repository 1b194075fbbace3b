"""What touches pymmcore-plus: SIM events for a useq sequence and opening a core.

`sim_events` expands a `useq.MDASequence` into one event per pattern frame (the index gains
the SIM keys ``"a"`` and ``"ph"``); `open_core` opens the demo microscope or a rig's
configuration. The live run that consumes those frames is `livesr.pipeline`.
"""

from ._core import open_core
from ._events import SIM_KEYS, pattern_index, pattern_label, sim_events

__all__ = ["SIM_KEYS", "open_core", "pattern_index", "pattern_label", "sim_events"]
