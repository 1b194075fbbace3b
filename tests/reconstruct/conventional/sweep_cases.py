"""Randomised simulated microscopes for the estimation sweep (never the simulator defaults)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livesr.config import OpticsConfig, PatternConfig
from livesr.reconstruct import SIMFitError, estimate_parameters
from livesr.simulate import simulate_sample

STRUCTURES = ("ccps", "er", "f-actin", "microtubules")


@dataclass(frozen=True)
class Outcome:
    """One fit of one simulated stack: accepted orientations, rejected, and wrong ones."""

    accepted: int
    rejected: int
    wrong: int
    worst_k: float
    worst_angle: float


def random_microscope(seed: int) -> tuple[OpticsConfig, PatternConfig, np.ndarray]:
    """Optics, pattern (k0 0.75-0.99 cutoff, random angles, m 0.3-1.0) and phase offsets."""
    rng = np.random.default_rng(seed)
    optics = OpticsConfig.single(
        na=float(rng.uniform(1.2, 1.49)),
        wavelength_um=float(rng.uniform(0.5, 0.62)),
        pixel_size_um=float(rng.uniform(0.055, 0.075)),
    )
    pattern = PatternConfig(
        n_angles=3,
        n_phases=3,
        k0_fraction=float(rng.uniform(0.75, 0.99)),
        angle_offset_deg=float(rng.uniform(0, 180)),
        modulation=float(rng.uniform(0.3, 1.0)),
    )
    return optics, pattern, rng.uniform(-np.pi, np.pi, 3)


def run_case(structure: str, level: int, seed: int, size: int = 128) -> Outcome:
    """Simulate one stack on a random microscope and judge the free estimate against truth."""
    optics, pattern, offsets = random_microscope(seed)
    sample = simulate_sample(
        structure,
        size=size,
        level=level,
        seed=seed,
        optics=optics,
        pattern=pattern,
        phase_offsets=list(offsets),
    )
    truth = np.asarray(sample.params["k_vectors_per_um"])
    # The estimator is told only angles x phases and the optics, not the pattern.
    blind = PatternConfig(n_angles=3, n_phases=3)
    try:
        params = estimate_parameters(sample.raw[0], blind, optics)
    except SIMFitError:
        return Outcome(0, 3, 0, 0.0, 0.0)
    wrong, worst_k, worst_angle = 0, 0.0, 0.0
    for d in range(3):
        k, t = params.k_per_um[d], truth[d]
        dk = min(np.hypot(*(k - t)), np.hypot(*(k + t))) / np.hypot(*t)
        da = abs((np.degrees(np.arctan2(k[0], k[1]) - np.arctan2(t[0], t[1])) + 90) % 180 - 90)
        worst_k, worst_angle = max(worst_k, dk), max(worst_angle, da)
        wrong += int(np.hypot(*k) and (abs(np.hypot(*k) / np.hypot(*t) - 1) > 0.01 or da > 1.0))
    return Outcome(3, 0, wrong, worst_k, worst_angle)
