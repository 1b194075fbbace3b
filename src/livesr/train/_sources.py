"""Field sources and the patch sampler every training loop draws from.

A source hands out *fields*: one input stack with its ground truth and foreground mask. The
`PatchSampler` cuts normalised, augmented patch pairs from them. Sources differ only in where
fields come from (BioSR MRC files, DL-SR TIFF folders, the simulator), so every source gets the
same foreground sampling, augmentation and normalisation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._patches import (
    augment,
    foreground_mask,
    normalize_input,
    normalize_target,
    random_patch,
    widefield_input,
)

__all__ = ["Field", "FieldSource", "PatchSampler"]


@dataclass(frozen=True)
class Field:
    """One training field.

    Attributes
    ----------
    inp : ndarray, float32, shape (F, Y, X)
        Raw frames (SIM mode) or the wide-field sum (SISR mode, F = 1), in counts.
    gt : ndarray, float32, shape (s Y, s X)
    mask : ndarray, bool, shape (Y, X)
        Foreground, where patch centres are drawn.
    name : str
        Where it came from (file, seed), for error messages and logs.
    """

    inp: NDArray[np.float32]
    gt: NDArray[np.float32]
    mask: NDArray[np.bool_]
    name: str


def make_field(raw: NDArray, gt: NDArray, *, scale: int, sisr: bool, name: str) -> Field:
    """Build a `Field` from a raw stack (F, Y, X) and its ground truth (s Y, s X).

    Raises
    ------
    ValueError
        If the ground truth is not `scale` times the raw frame size.
    """
    raw = np.asarray(raw, dtype=np.float32)
    gt = np.asarray(gt, dtype=np.float32)
    if raw.ndim != 3 or gt.ndim != 2:
        raise ValueError(
            f"{name}: expected raw (F, Y, X) and gt (sY, sX), got {raw.shape} and {gt.shape}"
        )
    expected = (scale * raw.shape[1], scale * raw.shape[2])
    if gt.shape != expected:
        raise ValueError(
            f"{name}: ground truth is {gt.shape[0]}x{gt.shape[1]} but raw frames "
            f"{raw.shape[1]}x{raw.shape[2]} x scale {scale} need {expected[0]}x{expected[1]}"
        )
    inp = widefield_input(raw) if sisr else raw
    return Field(inp=inp, gt=gt, mask=foreground_mask(gt, scale), name=name)


class FieldSource(ABC):
    """Where training or validation fields come from.

    Subclasses implement `draw` and, when they carry state beyond the sampler's generator,
    `state_dict` / `load_state_dict` (used by checkpoints for an exact resume). One thread.
    """

    in_frames: int
    scale: int

    @abstractmethod
    def draw(self, rng: np.random.Generator) -> Field:
        """A random field."""

    def state_dict(self) -> dict[str, Any]:
        """Mutable state to checkpoint (JSON-ready)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027 (optional hook)
        """Restore what `state_dict` returned."""


class CachedFiles:
    """A small LRU cache of loaded fields, so files are not reread for every patch."""

    def __init__(self, capacity: int = 16) -> None:
        self._capacity = capacity
        self._items: OrderedDict[Any, Field] = OrderedDict()

    def get(self, key: Any, load: Callable[[], Field]) -> Field:
        """Return the cached field for `key`, calling ``load()`` on a miss."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        field = load()
        self._items[key] = field
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return field


class PatchSampler:
    """Draws normalised, augmented patch batches from a `FieldSource`.

    Parameters
    ----------
    source : FieldSource
    patch_size : int
        Input patch side p.
    percentiles : (low, high)
        Input normalisation percentiles (the target is min-max normalised).
    seed : int
        Seed of the sampler's generator (patch positions, field choice, augmentation).

    Notes
    -----
    Not thread-safe; the training loop owns it. `state_dict` holds the generator state and the
    source's state so a resumed run draws exactly the patches the uninterrupted run would have.
    """

    def __init__(
        self,
        source: FieldSource,
        patch_size: int,
        percentiles: tuple[float, float] = (0.0, 100.0),
        seed: int = 0,
    ) -> None:
        self.source = source
        self.patch_size = patch_size
        self.percentiles = percentiles
        self.rng = np.random.default_rng(seed)

    def patch(self, *, train: bool = True) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """One pair: input (F, p, p) in [0, 1] and target (s p, s p) in [0, 1], float32."""
        field = self.source.draw(self.rng)
        inp, gt = random_patch(
            field.inp, field.gt, self.patch_size, self.source.scale, self.rng, field.mask
        )
        if train:
            inp, gt = augment(inp, gt, self.rng)
        return normalize_input(inp, self.percentiles), normalize_target(gt)

    def batch(
        self, size: int, *, train: bool = True
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """A batch: inputs (N, F, p, p) and targets (N, 1, s p, s p), float32 in [0, 1]."""
        pairs = [self.patch(train=train) for _ in range(size)]
        inputs = np.stack([p[0] for p in pairs])
        targets = np.stack([p[1] for p in pairs])[:, None]
        return inputs, targets

    def state_dict(self) -> dict[str, Any]:
        """Generator and source state (JSON-ready)."""
        return {"rng": self.rng.bit_generator.state, "source": self.source.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.rng.bit_generator.state = state["rng"]
        self.source.load_state_dict(state["source"])
