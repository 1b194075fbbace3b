"""What the demo camera sees: one channel's moving specimen rendered as raw SIM frames.

`ChannelScene` couples a `Specimen` with a `SIMForwardModel` and renders uint16 raw frames at
their own exposure time, with the focus drive's defocus applied through `defocus_factors`.

Threads: a scene renders on pymmcore-plus' acquisition thread only.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from livesr._logger import logger
from livesr.simulate._bands import SIMBands
from livesr.simulate._demo_bus import DEMO_CHANNELS, bus

__all__ = ["ChannelScene", "defocus_factors"]

#: Sample time between the demo camera's keyframes of the noise-free bands (s); frames between
#: two keyframes interpolate them.
_KEYFRAME_S = 0.25
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


class ChannelScene:
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
