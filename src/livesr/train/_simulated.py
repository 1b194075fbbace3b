"""Training fields simulated on the fly by `livesr.simulate` (no download needed).

Each field is fully determined by its seed (>= 1,000,000, disjoint from the evaluation seeds
< 1000): the seed picks the structure, the photon level (log-uniform over the configured signal
levels, so every level is seen equally often) and, with ``randomize_pattern``, the pattern angle
offset, modulation depth and frequency k0. A pool of fields is kept in memory and one field is
replaced every ``refresh_every`` draws, so simulation costs little next to training.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from ._config import SimulatedDataConfig
from ._sources import Field, FieldSource, make_field

__all__ = ["SimulatedSource", "simulated_field"]


def simulated_field(
    seed: int, config: SimulatedDataConfig, *, in_frames: int, scale: int
) -> Field:
    """The simulated training field of `seed` (the same on every machine).

    Parameters
    ----------
    seed : int
        Field seed (structure, level, pattern and noise all follow from it).
    config : SimulatedDataConfig
        Structures, levels, field size and pattern randomisation.
    in_frames : int
        1 for SISR (the field's input is the wide-field sum), else the raw frames per stack.
    scale : int
        Must be the simulator's SR scale (2 linear, 3 nonlinear).

    Raises
    ------
    ValueError
        If `in_frames` / `scale` match neither linear (9, x2) nor nonlinear (25, x3) SIM.
    """
    from livesr.config import PatternConfig
    from livesr.simulate import SIGNAL_LEVELS, simulate_sample

    mode: Literal["linear", "nonlinear"]
    if (in_frames, scale) in ((9, 2), (1, 2)):
        mode = "linear"
    elif (in_frames, scale) in ((25, 3), (1, 3)):
        mode = "nonlinear"
    else:
        raise ValueError(
            f"the simulator makes 9-frame x2 (linear) or 25-frame x3 (nonlinear) SIM; a model "
            f"with in_frames={in_frames}, scale={scale} cannot train on it"
        )
    rng = np.random.default_rng([seed, 0x7EA1])
    structure = config.structures[int(rng.integers(len(config.structures)))]
    lo = math.log(SIGNAL_LEVELS[min(config.levels) - 1])
    hi = math.log(SIGNAL_LEVELS[max(config.levels) - 1])
    # Log-uniform between the lowest and highest level (widened by half a level step).
    step = (hi - lo) / max(len(config.levels) - 1, 1) if len(config.levels) > 1 else 0.2
    photons = math.exp(rng.uniform(lo - step / 2, hi + step / 2))
    base = PatternConfig.linear() if mode == "linear" else PatternConfig.nonlinear()
    if config.randomize_pattern:
        pattern = base.model_copy(
            update={
                "angle_offset_deg": float(rng.uniform(0.0, 180.0 / base.n_angles)),
                "modulation": float(rng.uniform(0.6, 0.95)),
                "k0_fraction": float(rng.uniform(0.8, 0.95)),
            }
        )
    else:
        pattern = base
    sample = simulate_sample(
        structure,
        size=config.field_size,
        photons=photons,
        mode=mode,
        seed=seed,
        pattern=pattern,
        motion=0.0,
    )
    return make_field(
        sample.raw[0],
        sample.gt[0],
        scale=scale,
        sisr=in_frames == 1,
        name=f"simulated {structure}, seed {seed}, {photons:.0f} photons",
    )


class SimulatedSource(FieldSource):
    """A pool of simulated fields, refreshed as training goes.

    Parameters
    ----------
    config : SimulatedDataConfig
    in_frames, scale : int
        Of the model being trained.
    validation : bool
        True gives the fixed validation fields (seeds from ``validation_seed``, never
        refreshed); False the training pool (seeds from ``seed``).
    """

    def __init__(
        self, config: SimulatedDataConfig, *, in_frames: int, scale: int, validation: bool
    ) -> None:
        self.config = config
        self.in_frames = in_frames
        self.scale = scale
        self.validation = validation
        self._next_seed = config.validation_seed if validation else config.seed
        count = config.validation_fields if validation else config.pool_size
        self._seeds: list[int] = []
        self._pool: list[Field] = []
        for _ in range(count):
            seed, field = self._make_next()
            self._seeds.append(seed)
            self._pool.append(field)
        self._draws = 0

    def _make(self, seed: int) -> Field:
        return simulated_field(seed, self.config, in_frames=self.in_frames, scale=self.scale)

    def _make_next(self) -> tuple[int, Field]:
        # A small field can miss a sparse structure entirely (the simulator refuses to scale
        # an empty specimen); such seeds are skipped, deterministically.
        for _ in range(100):
            seed = self._next_seed
            self._next_seed += 1
            try:
                return seed, self._make(seed)
            except ValueError as exc:
                if "empty" not in str(exc):
                    raise
        raise RuntimeError(
            f"100 simulated fields in a row were empty (field_size={self.config.field_size}); "
            "use a larger field_size"
        )

    def draw(self, rng: np.random.Generator) -> Field:
        """A random pool field; every ``refresh_every`` draws one field is replaced."""
        if not self.validation:
            self._draws += 1
            if self._draws % self.config.refresh_every == 0:
                slot = (self._draws // self.config.refresh_every) % len(self._pool)
                self._seeds[slot], self._pool[slot] = self._make_next()
        return self._pool[int(rng.integers(len(self._pool)))]

    def state_dict(self) -> dict[str, Any]:
        """Pool seeds and counters; the fields themselves are re-simulated on load."""
        return {"seeds": list(self._seeds), "next_seed": self._next_seed, "draws": self._draws}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the pool of a checkpoint (re-simulating changed fields)."""
        seeds = [int(s) for s in state["seeds"]]
        for i, seed in enumerate(seeds):
            if i >= len(self._seeds) or self._seeds[i] != seed:
                if i < len(self._pool):
                    self._pool[i] = self._make(seed)
                else:
                    self._pool.append(self._make(seed))
        self._seeds = seeds
        self._pool = self._pool[: len(seeds)]
        self._next_seed = int(state["next_seed"])
        self._draws = int(state["draws"])
