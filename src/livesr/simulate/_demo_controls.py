"""The demo microscope's control devices: pattern and laser selectors, shutter, stages.

Each one only reads and writes the `bus`; the camera renders what the bus says. The pattern
and laser selectors' ``Label`` is hardware-sequenceable, so pymmcore-plus runs a stack, or a
whole time point, as one triggered burst.

Threads: properties are set from whichever thread the caller uses; each bus field assignment
is atomic.
"""

from __future__ import annotations

from collections.abc import Callable

from pymmcore_plus.experimental.unicore import (
    ShutterDevice,
    StageDevice,
    StateDevice,
    XYStageDevice,
)

from livesr.simulate._demo_bus import bus

__all__ = ["DemoFocus", "DemoShutter", "DemoXYStage", "LaserSelector", "SIMPatternDevice"]


def _sequenceable_label(
    device: StateDevice, on_load: Callable[[list[int]], None], on_run: Callable[[bool], None]
) -> None:
    """Re-register a state device's ``Label`` as hardware-sequenceable."""
    cls = type(device)
    labels = list(device._label_to_state)
    device.register_property(
        "Label",
        default_value=labels[0],
        allowed_values=labels,
        getter=cls._get_current_label,
        setter=cls._set_current_label,
        sequence_max_length=4096,
        sequence_loader=lambda d, seq: on_load([d._label_to_state[str(s)] for s in seq]),
        sequence_starter=lambda d: on_run(True),
        sequence_stopper=lambda d: on_run(False),
    )


class SIMPatternDevice(StateDevice):
    """Pattern selector: state ``a * n_phases + p`` has label ``"a{a}p{p}"`` (3 x 3 SIM)."""

    def __init__(self) -> None:
        pat = bus.pattern_config
        labels = {
            a * pat.n_phases + p: f"a{a}p{p}"
            for a in range(pat.n_angles)
            for p in range(pat.n_phases)
        }
        super().__init__(labels)
        _sequenceable_label(
            self,
            lambda seq: setattr(bus, "pattern_seq", seq),
            lambda run: setattr(bus, "pattern_running", run),
        )

    def get_state(self) -> int:
        """Current pattern position."""
        return bus.pattern

    def set_state(self, position: int) -> None:
        """Select a pattern (software-timed frames)."""
        bus.pattern = int(position)


class LaserSelector(StateDevice):
    """Excitation line: label ``"488"`` or ``"561"``."""

    def __init__(self) -> None:
        super().__init__(dict(enumerate(bus.channels)))
        _sequenceable_label(
            self,
            lambda seq: setattr(bus, "laser_seq", seq),
            lambda run: setattr(bus, "laser_running", run),
        )

    def get_state(self) -> int:
        """Current laser index."""
        return bus.laser

    def set_state(self, position: int) -> None:
        """Select a laser."""
        bus.laser = int(position)


class DemoShutter(ShutterDevice):
    """Laser shutter."""

    def get_open(self) -> bool:
        """Whether the shutter is open."""
        return bus.shutter_open

    def set_open(self, open: bool) -> None:
        """Open or close the shutter."""
        bus.shutter_open = bool(open)


class DemoXYStage(XYStageDevice):
    """The XY stage: moves at once; its position selects the field of the sample in view."""

    def initialize(self) -> None:
        """Start at (0, 0) whatever an earlier demo core of this process left."""
        self.home()

    def get_position_um(self) -> tuple[float, float]:
        """Current (x, y), um."""
        return bus.x_um, bus.y_um

    def set_position_um(self, x: float, y: float) -> None:
        """Move to (x, y), um."""
        bus.x_um, bus.y_um = float(x), float(y)

    def home(self) -> None:
        """Move to (0, 0)."""
        self.set_position_um(0.0, 0.0)

    def stop(self) -> None:
        """Nothing to stop: moves are instantaneous."""

    def set_origin_x(self) -> None:
        """Call the current x zero."""
        bus.x_um = 0.0

    def set_origin_y(self) -> None:
        """Call the current y zero."""
        bus.y_um = 0.0


class DemoFocus(StageDevice):
    """The focus drive: the sample's focal plane is at 0 um (see `defocus_factors`)."""

    def initialize(self) -> None:
        """Start in focus whatever an earlier demo core of this process left."""
        self.home()

    def get_position_um(self) -> float:
        """Current z, um."""
        return bus.z_um

    def set_position_um(self, val: float) -> None:
        """Move to z `val`, um."""
        bus.z_um = float(val)

    def home(self) -> None:
        """Move to the focal plane."""
        bus.z_um = 0.0

    def stop(self) -> None:
        """Nothing to stop: moves are instantaneous."""

    def set_origin(self) -> None:
        """Call the current z zero."""
        bus.z_um = 0.0
