"""A StackReconstructor built by name carries the spec that rebuilds it elsewhere."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from livesr.config import BackendConfig, OpticsConfig, PatternConfig, ReconstructorSpec
from livesr.models import WeightsUnavailableError, load_weights
from livesr.reconstruct import SIMFitWarning, StackReconstructor
from livesr.simulate import simulate_sample
from tiny_models import file_tensors_sha256, save_tiny_weights


def test_the_spec_survives_json_and_pickling_and_rebuilds_the_same_reconstructor(
    tmp_path: Path,
) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    original = StackReconstructor.create(
        weights, BackendConfig(backend="torch", tile_size=32, tile_overlap=8), threads=1
    )
    assert original.spec is not None
    spec = ReconstructorSpec.model_validate_json(original.spec.model_dump_json())
    assert pickle.loads(pickle.dumps(spec)) == spec == original.spec
    assert spec.model == str(weights.resolve()) and spec.threads == 1
    assert spec.weights_sha256 == file_tensors_sha256(weights)
    assert (spec.backend, spec.device, spec.tile_size, spec.tile_overlap) == (
        "torch",
        "cpu",
        32,
        8,
    )
    rebuilt = StackReconstructor.from_spec(spec)

    stack = np.random.default_rng(0).integers(100, 3000, (9, 48, 48)).astype(np.uint16)
    sr, provenance = original(stack)
    sr_rebuilt, provenance_rebuilt = rebuilt(stack)
    np.testing.assert_array_equal(sr, sr_rebuilt)
    assert provenance == provenance_rebuilt
    assert provenance["tiling"] == {"tile": [32, 32], "overlap": 8}
    assert rebuilt.spec == spec


def test_a_reconstructor_built_from_a_module_has_no_spec(tmp_path: Path) -> None:
    module, _ = load_weights(save_tiny_weights(tmp_path / "tiny.safetensors"))
    assert StackReconstructor.create(module, "torch").spec is None


def test_rebuilding_refuses_missing_or_replaced_weights(tmp_path: Path) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    spec = StackReconstructor.create(weights, "torch").spec
    assert spec is not None
    save_tiny_weights(weights, seed=1)  # other tensors under the same name
    with pytest.raises(WeightsUnavailableError, match="now hold other tensors"):
        StackReconstructor.from_spec(spec)
    weights.unlink()
    with pytest.raises(WeightsUnavailableError, match=f"{weights}.*missing"):
        StackReconstructor.from_spec(spec)


def test_a_wiener_spec_records_its_first_estimate_and_reproduces_the_sr() -> None:
    pattern, optics = PatternConfig(), OpticsConfig()
    raw = simulate_sample("microtubules", size=64, photons=500, timepoints=2, seed=0).raw
    live = StackReconstructor.create(
        "wiener", "wiener", pattern=pattern, optics=optics, allow_nominal=True
    )
    assert live.spec is not None and live.spec.sim is not None
    assert live.spec.sim.allow_nominal
    assert live.spec.sim.parameters is None  # nothing estimated yet
    with warnings.catch_warnings():
        # Whether the fit keeps its estimate or falls back to nominal is not judged here.
        warnings.simplefilter("ignore", SIMFitWarning)
        live(raw[0])
    spec = live.spec
    assert spec.sim is not None and spec.sim.parameters is not None and spec.sim.wiener
    later, _ = live(raw[1])

    # A rebuild that starts on the second stack reuses the first stack's estimate.
    rebuilt = StackReconstructor.from_spec(
        ReconstructorSpec.model_validate_json(spec.model_dump_json())
    )
    np.testing.assert_array_equal(rebuilt(raw[1])[0], later)
