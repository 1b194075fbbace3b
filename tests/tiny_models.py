"""A tiny DFCAN for tests that need a real network, not a good one, and inputs for it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from livesr.config import ModelConfig

#: DFCAN with one group of one block, 8 channels: the whole graph in a few thousand weights.
TINY_DFCAN = ModelConfig(
    in_frames=9,
    scale=2,
    options={"groups": 1, "blocks": 1, "width": 8, "reduction": 4, "size_psc": 16},
)


def save_tiny_weights(path: Path, *, seed: int = 0, config: ModelConfig = TINY_DFCAN) -> Path:
    """Random weights of `config` (seeded), saved as safetensors with a model card."""
    import torch

    from livesr.models import build_model, save_weights

    torch.manual_seed(seed)
    save_weights(build_model(config), path)
    return path


def normalised_stacks(n: int, shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """`n` random 9-frame raw stacks of `shape`, min-max normalised: float32 (n, 9, Y, X)."""
    from livesr.reconstruct import PercentileNormalizer

    rng = np.random.default_rng(seed)
    raw = rng.poisson(200, size=(n, 9, *shape)).astype(np.uint16) + 100
    return PercentileNormalizer().normalize_batch(raw)[0]


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference relative to the largest magnitude of `b`."""
    return float(np.abs(a - b).max() / np.abs(b).max())


def file_tensors_sha256(path: Path) -> str:
    """The tensors hash of a safetensors file, computed from its tensors, not its card."""
    from safetensors.torch import load_file

    from livesr.models import tensors_sha256

    return tensors_sha256(load_file(str(path)))
