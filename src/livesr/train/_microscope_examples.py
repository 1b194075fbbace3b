"""What the randomised-microscope training sees: simulated examples and their random crops.

`make_example` draws a stack from a field (`._microscopes`), repairs it and runs Wiener SIM
with estimator-like parameter errors, giving the physics-informed input, the raw frames and the
target on one intensity scale. `ExampleStream` keeps a ring buffer of such examples, replaces
one per step and cuts random 64x64 raw-grid crops with the 8 dihedral flips (the physics is
isotropic).

Threads: single-threaded (the training loop's); Wiener SIM runs with one worker.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from livesr.reconstruct._physics import physics_input, raw_input
from livesr.reconstruct.conventional import (
    SIMParameters,
    WienerReconstructor,
    repair_hot_pixels,
)

from ._microscopes import SimField, draw_stack, make_field

__all__ = ["WIENER_INPUT_W", "Example", "ExampleStream", "make_example", "perturb_parameters"]

#: Fixed, slightly under-regularised Wiener parameter of the network input (networks.md 5.2).
WIENER_INPUT_W = 0.05


@dataclass
class Example:
    """One simulated stack as the networks see it (all scaled by the same ``(lo, scale)``)."""

    pi: NDArray[np.float32]  # (2, 2Y, 2X) Wiener + wide-field
    raw: NDArray[np.float32]  # (9, Y, X) raw frames
    target: NDArray[np.float32]  # (1, 2Y, 2X)
    photons: float


def perturb_parameters(params: SIMParameters, rng: np.random.Generator) -> SIMParameters:
    """What the estimator would report: nominal frame phases, errors in k, phase, modulation.

    The estimator fits one global phase per orientation (the per-frame errors stay), k to
    about 0.2 % and 0.1 deg, the phase to about 0.15 rad and the modulation to about 30 %.
    """
    nominal = np.tile(2 * np.pi * np.arange(params.n_phases) / params.n_phases, (3, 1))
    mean_err = np.angle(np.exp(1j * (params.frame_phases - nominal)).mean(axis=1))
    k = params.k_per_um * (1 + rng.normal(0, 0.002, (params.n_angles, 1)))
    rot = np.radians(rng.normal(0, 0.1, params.n_angles))
    c, s = np.cos(rot), np.sin(rot)
    k = np.stack([c * k[:, 0] + s * k[:, 1], -s * k[:, 0] + c * k[:, 1]], axis=1)
    psi = np.angle(params.factors[:, 0]) + mean_err + rng.normal(0, 0.15, params.n_angles)
    mod = np.abs(params.factors[:, 0]) * rng.uniform(0.7, 1.3, params.n_angles)
    factors = (np.clip(mod, 0.05, 1.0) * np.exp(1j * psi))[:, None]
    return SIMParameters(k, nominal, factors, params.pixel_size_um, params.shape, params.fits)


def make_example(
    rng: np.random.Generator, field: SimField, photons: float | None = None
) -> Example:
    """Draw a stack from `field`, repair it, run Wiener with estimator-like parameters."""
    stack = draw_stack(rng, field, photons)
    frames, _ = repair_hot_pixels(stack.raw)
    scope = field.microscope
    params = perturb_parameters(stack.params, rng)
    optics = scope.optics(na=scope.na * (1 + rng.uniform(-0.03, 0.03)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wiener = WienerReconstructor(
            scope.pattern(), optics, params=params, wiener=WIENER_INPUT_W, workers=1
        )(frames[None])[0, 0]
    pi, lo, sc = physics_input(wiener, frames)
    raw, _, _ = raw_input(frames)
    floor = stack.offset + stack.background / stack.gain
    target = ((stack.target + np.float32(floor - lo)) / np.float32(sc))[None]
    return Example(pi, raw, target.astype(np.float32), stack.photons)


def _crop(ex: Example, rng: np.random.Generator, crop: int) -> tuple[NDArray[np.float32], ...]:
    h, w = ex.raw.shape[-2:]
    y = int(rng.integers(0, h - crop + 1))
    x = int(rng.integers(0, w - crop + 1))
    pi = ex.pi[:, 2 * y : 2 * (y + crop), 2 * x : 2 * (x + crop)]
    raw = ex.raw[:, y : y + crop, x : x + crop]
    tg = ex.target[:, 2 * y : 2 * (y + crop), 2 * x : 2 * (x + crop)]
    k = int(rng.integers(0, 4))
    flip = bool(rng.integers(0, 2))
    out = []
    for a in (pi, raw, tg):
        a = np.rot90(a, k, axes=(-2, -1))
        if flip:
            a = a[..., ::-1]
        out.append(np.ascontiguousarray(a))
    return tuple(out)


class ExampleStream:
    """A ring buffer of simulated examples, one replaced per step, and random crops of them.

    Each field (a microscope and specimen, `make_field`) serves `field_reuse` examples before
    a new one is drawn. Every draw comes from `rng`, in a fixed order, so a seed gives the same
    stream.

    Parameters
    ----------
    rng : numpy.random.Generator
        The training run's generator (fields, examples and crops).
    buffer : int
        Examples kept; `fill` draws them all.
    field_reuse : int
        Examples drawn from one field.
    """

    def __init__(self, rng: np.random.Generator, buffer: int, field_reuse: int) -> None:
        self.rng = rng
        self.buffer = buffer
        self.field_reuse = field_reuse
        self._field = make_field(rng)
        self._uses = 0
        self._ring: list[Example] = []

    def fill(self) -> None:
        """Draw the examples the buffer still lacks (the whole buffer at first)."""
        while len(self._ring) < self.buffer:
            self._ring.append(self._next_example())

    def crops(self, step: int, batch: int, crop: int) -> list[tuple[NDArray[np.float32], ...]]:
        """Replace one example (slot ``step % buffer``), then cut `batch` random crops.

        Returns
        -------
        list of (pi, raw, target)
            float32 crops of shape (2, 2c, 2c), (9, c, c) and (1, 2c, 2c), c = `crop`, from
            examples picked at random, each turned and flipped at random.
        """
        self._ring[step % self.buffer] = self._next_example()
        picks = self.rng.integers(0, self.buffer, batch)
        return [_crop(self._ring[int(i)], self.rng, crop) for i in picks]

    def _next_example(self) -> Example:
        if self._uses >= self.field_reuse:
            self._field, self._uses = make_field(self.rng), 0
        example = make_example(self.rng, self._field)
        self._uses += 1
        return example
