"""A tiny DFCAN for tests that need a real network, not a good one (imported by tests)."""

from __future__ import annotations

from pathlib import Path

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
