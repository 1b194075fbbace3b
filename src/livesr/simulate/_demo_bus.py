"""The demo microscope's shared optical state: what its devices tell each other.

Devices of a core cannot query each other (pymmcore-plus gives them a restricted core proxy),
so they share the optical state through the one module-level `bus`, as the trigger cables of a
real rig do: one demo microscope per process.

Threads: the bus is read on pymmcore-plus' acquisition thread and written from whichever
thread sets properties, each field assignment being atomic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livesr.config import CameraConfig, OpticsConfig, PatternConfig

__all__ = ["DEMO_CHANNELS", "DEMO_PATTERN", "OpticalBus", "bus"]

#: Channel (laser line) -> structure the demo sample shows in it.
DEMO_CHANNELS: dict[str, str] = {"488": "microtubules", "561": "ccps"}


#: The demo instrument's own pattern. Deliberately not `PatternConfig()`'s nominal values: a
#: reconstruction that silently fell back to the nominal pattern must look wrong here, as it
#: would on a real microscope. Its measured form ships as `livesr.simulate.DEMO_CALIBRATION`
#: (regenerate with examples/calibrate_demo.py).
DEMO_PATTERN = PatternConfig(angle_offset_deg=21.5, k0_fraction=0.86, modulation=0.72)


@dataclass
class OpticalBus:
    """What the demo devices tell each other (the trigger and control cables of a rig).

    Attributes
    ----------
    pattern, laser : int
        Currently selected pattern position and laser index (software-timed frames).
    pattern_seq, laser_seq : list of int or None
        Loaded hardware sequences, used frame by frame while ``*_running`` is set.
    shutter_open : bool
        Whether the excitation reaches the sample.
    x_um, y_um, z_um : float
        Stage position and focus (the sample's focal plane is at z = 0).
    optics, pattern_config, camera_config : config
        The simulated microscope.
    """

    pattern: int = 0
    laser: int = 0
    pattern_seq: list[int] | None = None
    laser_seq: list[int] | None = None
    pattern_running: bool = False
    laser_running: bool = False
    shutter_open: bool = True
    x_um: float = 0.0
    y_um: float = 0.0
    z_um: float = 0.0
    optics: OpticsConfig = field(default_factory=OpticsConfig)
    pattern_config: PatternConfig = field(default_factory=lambda: DEMO_PATTERN)
    camera_config: CameraConfig = field(default_factory=CameraConfig)
    channels: tuple[str, ...] = tuple(DEMO_CHANNELS)

    def frame_state(self, i: int) -> tuple[int, int]:
        """(pattern, laser) of the i-th frame of the running burst."""
        pattern = self.pattern
        if self.pattern_running and self.pattern_seq:
            pattern = self.pattern_seq[i % len(self.pattern_seq)]
        laser = self.laser
        if self.laser_running and self.laser_seq:
            laser = self.laser_seq[i % len(self.laser_seq)]
        return pattern, laser


#: The one bus of this process.
bus = OpticalBus()
