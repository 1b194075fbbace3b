"""A StackReconstructor built by name carries the recipe that rebuilds it elsewhere."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from livesr.config import BackendConfig
from livesr.models import load_weights
from livesr.reconstruct import StackReconstructor
from tiny_models import save_tiny_weights


def test_the_recipe_survives_pickling_and_rebuilds_the_same_reconstructor(
    tmp_path: Path,
) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    original = StackReconstructor.create(
        weights, BackendConfig(backend="torch", tile_size=32, tile_overlap=8), threads=1
    )
    recipe = pickle.loads(pickle.dumps(original.recipe))
    assert recipe["model"] == weights and recipe["threads"] == 1
    rebuilt = StackReconstructor.create(**recipe)

    stack = np.random.default_rng(0).integers(100, 3000, (9, 48, 48)).astype(np.uint16)
    sr, provenance = original(stack)
    sr_rebuilt, provenance_rebuilt = rebuilt(stack)
    np.testing.assert_array_equal(sr, sr_rebuilt)
    assert provenance == provenance_rebuilt
    assert provenance["tiling"] == {"tile": [32, 32], "overlap": 8}


def test_a_reconstructor_built_from_a_module_has_no_recipe(tmp_path: Path) -> None:
    module, _ = load_weights(save_tiny_weights(tmp_path / "tiny.safetensors"))
    assert StackReconstructor.create(module, "torch").recipe is None
