"""The demo microscope's camera: raw SIM frames of the simulated sample on a frame clock.

`SIMCamera` reads the pattern, laser, shutter, stage and focus from the `bus`, keeps one
`ChannelScene` per (channel, settings, field of view) and waits out each exposure like a real
camera (unless ``RealTime`` is 0).

Threads: frames render on pymmcore-plus' acquisition thread; properties are set from any
thread, and the scene cache is guarded by a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray
from pymmcore_plus.experimental.unicore import CameraDevice

from livesr.simulate._demo_bus import bus
from livesr.simulate._demo_scene import ChannelScene

__all__ = ["DEMO_SIZES", "SIMCamera"]

#: Sizes the demo camera offers (square frames).
DEMO_SIZES = (64, 128, 256, 512)
#: Longest the demo camera's frame clock lets rendering fall behind before it resets (a real
#: camera's buffer would be overflowing by then).
_MAX_LAG_S = 0.5


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
        self._scenes: dict[tuple[Any, ...], ChannelScene] = {}
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

    def _scene(self, laser: int) -> ChannelScene:
        channel = bus.channels[laser]
        fx, fy = self._field()
        key = (channel, self._size, self._photons, self._seed, self._motion, fx, fy)
        with self._scene_lock:
            scene = self._scenes.get(key)
            if scene is None:
                # Each channel gets its own sample seed so the colours differ, and each field
                # of view its own specimen (field (0, 0) keeps the camera's seed).
                seed = (self._seed * 7919 + laser + 104729 * (fx * 1009 + fy)) % 2**32
                scene = self._scenes[key] = ChannelScene(
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
