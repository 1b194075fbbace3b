"""The demo SIM microscope as pymmcore-plus Python devices (`UniMMCore`).

Six devices make a two-colour SIM microscope that needs no Micro-Manager installation:

- `SIMCamera`: renders raw SIM frames of a moving two-colour sample (microtubules in 488,
  clathrin-coated pits in 561) with livesr's forward model, under the pattern and laser
  currently selected, and waits out its exposure so it behaves like a real camera. Each frame
  shows the sample at its own exposure time on the camera's frame clock.
- `SIMPatternDevice`: the pattern selector (a DMD running order or SLM): a state device whose
  ``Label`` (``"a0p0"`` ... ``"a2p2"``) is hardware-sequenceable, so pymmcore-plus runs a
  stack, or a whole time point, as one triggered burst.
- `LaserSelector`: the excitation line (``"488"``/``"561"``), sequenceable too.
- `DemoShutter`: the laser shutter; frames taken with it closed are dark.
- `DemoXYStage`: the XY stage. A move of half a field of view or more shows another field of
  the sample (its own specimen), so every stage position of a sequence images something else.
- `DemoFocus`: the focus drive (Z). The sample is in focus at 0 um; away from it the
  pattern's modulation fades and the image dims (`defocus_factors`), as out of focus on a
  real SIM microscope.

Devices of a core cannot query each other (pymmcore-plus gives them a restricted core proxy),
so they share the optical state through one module-level `OpticalBus`, as the trigger cables of
a real rig do: one demo microscope per process. ``hardware_configs/demo_sim.cfg`` (identical
to `DEMO_CFG`) loads them; `livesr.acquire.open_core("demo")` does that for you.

Threads: the camera renders on pymmcore-plus' acquisition thread; the bus is read there and
written from whichever thread sets properties, each field assignment being atomic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray
from pymmcore_plus.experimental.unicore import (
    CameraDevice,
    ShutterDevice,
    StageDevice,
    StateDevice,
    XYStageDevice,
)

from livesr._logger import logger
from livesr.config import CameraConfig, OpticsConfig, PatternConfig
from livesr.simulate._bands import SIMBands

__all__ = [
    "DEMO_CFG",
    "DEMO_CHANNELS",
    "DEMO_PATTERN",
    "DemoFocus",
    "DemoShutter",
    "DemoXYStage",
    "LaserSelector",
    "OpticalBus",
    "SIMCamera",
    "SIMPatternDevice",
    "bus",
    "defocus_factors",
]

#: Channel (laser line) -> structure the demo sample shows in it.
DEMO_CHANNELS: dict[str, str] = {"488": "microtubules", "561": "ccps"}
#: Sizes the demo camera offers (square frames).
DEMO_SIZES = (64, 128, 256, 512)
#: Sample time between the demo camera's keyframes of the noise-free bands (s); frames between
#: two keyframes interpolate them.
_KEYFRAME_S = 0.25
#: Longest the demo camera's frame clock lets rendering fall behind before it resets (a real
#: camera's buffer would be overflowing by then).
_MAX_LAG_S = 0.5
#: Defocus (um) at which the demo's pattern modulation has fallen to 1/e (about the axial
#: extent of the SIM pattern's first order at NA 1.49).
_DEFOCUS_UM = 0.6


def defocus_factors(dz_um: float) -> tuple[float, float]:
    """(brightness, modulation) factors of the demo sample `dz_um` away from focus.

    The modulated bands fade as ``exp(-(dz / 0.6 um)^2)``; the in-focus part of the wide-field
    light goes with them while out-of-focus haze keeps 60 %.
    """
    m = float(np.exp(-((dz_um / _DEFOCUS_UM) ** 2)))
    return 0.6 + 0.4 * m, m


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


class _ChannelScene:
    """Specimen + forward model of one channel; renders uint16 raw frames at their exposure time.

    The sample moves physically: each frame shows the specimen at the frame's own timestamp.
    Computing the noise-free bands (`SIMForwardModel.prepare`, the expensive part) for every
    frame would cost too much, so they are computed at keyframes `step_s` apart in sample
    time and each frame linearly interpolates its two neighbours. Between keyframes the
    specimen moves by far less than a pixel, so the interpolation is smooth: no frame ever
    jumps, inside a stack or between time points. Keyframes are computed on demand on the
    acquisition thread (a few ms at 128 x 128); the camera's frame clock absorbs that.
    The photon scale is fixed by the first keyframe, so structures that fade or drift out
    change the brightness as they would on a real microscope.
    """

    def __init__(self, channel: str, size: int, photons: float, seed: int, motion: float) -> None:
        from livesr.simulate import SIMForwardModel, Specimen

        optics = bus.optics
        field_um = size * optics.pixel_size_um
        structure = DEMO_CHANNELS.get(channel, "microtubules")
        self.specimen = Specimen(structure, field_um, seed, motion=motion)
        known = channel in optics.emission_um
        self.model = SIMForwardModel(
            bus.pattern_config,
            optics,
            bus.camera_config,
            (size, size),
            channel=channel if known else None,
            noise="fast",
        )
        self.photons = photons
        self.rng = np.random.default_rng(seed)
        self._keys: dict[int, SIMBands] = {}
        self._scale: float | None = None
        # Keyframes at least 8 prepare-times apart, so they cost at most ~1/8 of a core per
        # channel (0.25 s at 128 x 128; about 1.5 s at 512 x 512).
        start = time.perf_counter()
        self._keys[0] = self.model.prepare(self.specimen, 0.0)
        self.step_s = max(_KEYFRAME_S, 8 * (time.perf_counter() - start))

    def _keyframe(self, k: int) -> SIMBands:
        bands = self._keys.get(k)
        if bands is None:
            t_s = k * self.step_s
            try:
                bands = self.model.prepare(self.specimen, t_s)
            except ValueError:
                # A small field can momentarily hold no structure: show the nearest keyframe.
                logger.debug("demo specimen empty at t=%.2f s; reusing a keyframe", t_s)
                near = min(self._keys, key=lambda j: abs(j - k), default=None)
                if near is None:
                    raise
                bands = replace(self._keys[near], t=t_s)
            # Frames arrive in time order: keep only the keyframes still ahead or current.
            for old in [j for j in self._keys if j < k - 1]:
                del self._keys[old]
            self._keys[k] = bands
        return bands

    def bands_at(self, t_s: float) -> SIMBands:
        """Noise-free bands of the specimen at sample time `t_s` (keyframe interpolation)."""
        k = int(t_s // self.step_s)
        a, b = self._keyframe(k), self._keyframe(k + 1)
        w = np.float32((t_s - a.t) / self.step_s)
        return SIMBands(
            b0=a.b0 + w * (b.b0 - a.b0),
            re=a.re + w * (b.re - a.re),
            im=a.im + w * (b.im - a.im),
            signal=a.signal,
            t=t_s,
        )

    def render(
        self, t_s: float, pattern: int, out: NDArray[np.uint16], defocus_um: float = 0.0
    ) -> None:
        bands = self.bands_at(t_s)
        if self._scale is None:
            self._scale = bands.photon_scale(self.photons)
        if abs(defocus_um) > 1e-3:
            brightness, modulation = defocus_factors(defocus_um)
            m = np.float32(brightness * modulation)
            bands = replace(bands, b0=bands.b0 * np.float32(brightness), re=bands.re * m,
                            im=bands.im * m)  # fmt: skip
        out[:] = self.model.render_frame(bands, pattern, scale=self._scale, rng=self.rng)


class SIMCamera(CameraDevice):
    """Camera that images the simulated two-colour sample under the current pattern.

    Properties beyond Exposure: ``Size`` (square frame side, px), ``Photons`` (mean photons
    per pixel of the structure), ``Seed`` (sample and noise), ``Motion`` (speed-up of the
    specimen's motion over real time; 1, the default, moves it at the speeds of a living cell:
    drift of a few nm/s, microtubule tips under 0.1 px per 9-frame burst at 5 ms exposure,
    clathrin-coated pits forming and fading over 20-80 s at a steady density), ``RealTime``
    (1: wait out the exposure like a real camera; 0: as fast as rendering allows, for
    benchmarks).
    Frame metadata carries ``SIMPattern`` and ``Laser``, so every frame can be traced to the
    pattern it was taken with.
    """

    def __init__(self) -> None:
        super().__init__()
        self._exposure = 10.0
        self._size = 256
        self._photons = 100.0
        self._seed = 0
        self._real_time = 1
        self._motion = 1.0
        self._scenes: dict[tuple[Any, ...], _ChannelScene] = {}
        self._t0 = time.perf_counter()
        self._scene_lock = threading.Lock()
        cls = type(self)
        self.register_property(
            "Size", default_value=256, allowed_values=list(DEMO_SIZES),
            getter=cls._get_size, setter=cls._set_size,
        )  # fmt: skip
        self.register_property(
            "Photons", default_value=100.0, limits=(0.0, 100000.0),
            getter=cls._get_photons, setter=cls._set_photons,
        )  # fmt: skip
        self.register_property(
            "Seed", default_value=0, limits=(0, 999), getter=cls._get_seed, setter=cls._set_seed
        )
        self.register_property(
            "Motion", default_value=1.0, limits=(0.0, 1000.0),
            getter=cls._get_motion, setter=cls._set_motion,
        )  # fmt: skip
        self.register_property(
            "RealTime", default_value=1, allowed_values=[0, 1],
            getter=cls._get_real_time, setter=cls._set_real_time,
        )  # fmt: skip

    # --- properties
    def _get_size(self) -> int:
        return self._size

    def _set_size(self, value: int) -> None:
        self._size = int(value)

    def _get_photons(self) -> float:
        return self._photons

    def _set_photons(self, value: float) -> None:
        self._photons = float(value)

    def _get_seed(self) -> int:
        return self._seed

    def _set_seed(self, value: int) -> None:
        self._seed = int(value)

    def _get_motion(self) -> float:
        return self._motion

    def _set_motion(self, value: float) -> None:
        self._motion = float(value)

    def _get_real_time(self) -> int:
        return self._real_time

    def _set_real_time(self, value: int) -> None:
        self._real_time = int(value)

    # --- camera API
    def get_exposure(self) -> float:
        """Exposure in ms."""
        return self._exposure

    def set_exposure(self, exposure: float) -> None:
        """Set the exposure in ms (the frame time when RealTime is 1)."""
        self._exposure = float(exposure)

    def shape(self) -> tuple[int, int]:
        """Frame shape (Y, X)."""
        return (self._size, self._size)

    def dtype(self) -> DTypeLike:
        """uint16."""
        return np.uint16

    def _field(self) -> tuple[int, int]:
        """Which field of the sample the stage shows: stage position in fields of view."""
        field_um = self._size * bus.optics.pixel_size_um
        return round(bus.x_um / field_um), round(bus.y_um / field_um)

    def _scene(self, laser: int) -> _ChannelScene:
        channel = bus.channels[laser]
        fx, fy = self._field()
        key = (channel, self._size, self._photons, self._seed, self._motion, fx, fy)
        with self._scene_lock:
            scene = self._scenes.get(key)
            if scene is None:
                # Each channel gets its own sample seed so the colours differ, and each field
                # of view its own specimen (field (0, 0) keeps the camera's seed).
                seed = (self._seed * 7919 + laser + 104729 * (fx * 1009 + fy)) % 2**32
                scene = self._scenes[key] = _ChannelScene(
                    channel, self._size, self._photons, seed, self._motion
                )
        return scene

    def start_sequence(
        self, n: int | None, get_buffer: Callable[[Sequence[int], DTypeLike], NDArray[Any]]
    ) -> Iterator[Mapping[str, Any]]:
        """Render `n` frames (forever when None) under the bus' pattern/laser (sequence)."""
        shape = self.shape()
        i = 0
        next_due = time.perf_counter()
        while n is None or i < n:
            pattern, laser = bus.frame_state(i)
            buf = get_buffer(shape, np.uint16)
            # The sample is imaged at the middle of the exposure, on the camera's frame clock.
            start = next_due if self._real_time else time.perf_counter()
            t_s = start - self._t0 + self._exposure / 2000.0
            if bus.shutter_open:
                self._scene(laser).render(t_s, pattern, buf, defocus_um=bus.z_um)
            else:
                buf[:] = self._dark(shape)
            if self._real_time:
                # A hardware frame clock: a real camera exposes on its own timer and its frames
                # wait in the buffer while the host is busy. So a frame this thread renders
                # late (the host was busy) does not shift every later frame; the next ones
                # follow at once until the schedule is met. Only a backlog of more than
                # _MAX_LAG_S (rendering itself slower than the frame rate) resets the clock.
                next_due += self._exposure / 1000.0
                delay = next_due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -_MAX_LAG_S:
                    next_due = time.perf_counter()
            yield {"SIMPattern": str(pattern), "Laser": bus.channels[laser]}
            i += 1

    def _dark(self, shape: tuple[int, int]) -> NDArray[np.uint16]:
        return np.full(shape, int(bus.camera_config.offset_adu), dtype=np.uint16)


DEMO_CFG = """\
# livesr demo microscope: a simulated two-colour SIM microscope made of pymmcore-plus Python
# devices (UniMMCore). Load with livesr.acquire.open_core("demo") or open_core(this file).
# Lines starting with '#py ' are UniMMCore's Python extension; plain Micro-Manager ignores them.
Property,Core,Initialize,0
#py pyDevice,Camera,livesr.simulate.devices,SIMCamera
#py pyDevice,Pattern,livesr.simulate.devices,SIMPatternDevice
#py pyDevice,Laser,livesr.simulate.devices,LaserSelector
#py pyDevice,Shutter,livesr.simulate.devices,DemoShutter
#py pyDevice,XY,livesr.simulate.devices,DemoXYStage
#py pyDevice,Z,livesr.simulate.devices,DemoFocus
Property,Core,Initialize,1
#py Property,Core,Camera,Camera
#py Property,Core,Shutter,Shutter
#py Property,Core,XYStage,XY
#py Property,Core,Focus,Z
# UniMMCore 0.18 does not auto-open a shutter around snaps of a Python camera: the demo keeps
# the laser shutter open (AutoShutter off) so software-timed and triggered frames both see light.
#py Property,Core,AutoShutter,0
#py Property,Camera,Exposure,5.0
#py ConfigGroup,Channel,488,Laser,Label,488
#py ConfigGroup,Channel,561,Laser,Label,561
# Pixel size configs are evaluated in C++, which cannot see Python devices: condition on an
# always-true Core property. 0.0626 um matches livesr.config.OpticsConfig.
ConfigPixelSize,Res100x,Core,TimeoutMs,5000
PixelSize_um,Res100x,0.0626
#py Property,Core,ChannelGroup,Channel
"""
