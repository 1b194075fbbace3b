from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from livesr.config import BackendConfig
from livesr.models import build_model, save_weights
from livesr.reconstruct import PercentileNormalizer, StackReconstructor, create_reconstructor
from tiny_models import TINY_DFCAN, file_tensors_sha256, save_tiny_weights


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return save_tiny_weights(tmp_path / "tiny-dfcan.safetensors")


def _raw(seed: int, shape: tuple[int, ...] = (9, 32, 40)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.poisson(300, size=shape) + 100).astype(np.uint16)


def test_raw_stack_to_sr_with_provenance(weights: Path) -> None:
    sr_fn = StackReconstructor.create(weights, "torch")
    raw = _raw(0)
    sr, prov = sr_fn(raw, raw_frames=list(range(18, 27)))
    assert sr.dtype == np.float32
    assert sr.shape == (64, 80)
    # Denormalised: SR is in the raw stack's count range (sigmoid output in (0, 1)).
    assert raw.min() <= sr.min() and sr.max() <= raw.max()
    assert prov["model"] == "tiny-dfcan"
    assert prov["weights_sha256"] == file_tensors_sha256(weights)
    assert prov["backend"] == "torch"
    assert prov["raw_frames"] == list(range(18, 27))
    assert prov["normalization"]["low"] == raw.min()
    assert prov["normalization"]["high"] == raw.max()
    assert prov["model_card"]["name"] == "tiny-dfcan"
    json.dumps(prov)  # goes into zarr attributes as is


def test_live_and_reprocessed_sr_are_identical(weights: Path) -> None:
    # The live pipeline and `livesr reprocess` each build their own StackReconstructor from
    # the same weights; batching must not change the result either.
    raws = np.stack([_raw(1), _raw(2), _raw(3)])
    live = StackReconstructor.create(weights, BackendConfig(backend="torch"))
    per_stack = np.stack([live(r)[0] for r in raws])
    reprocess = StackReconstructor.create(weights, BackendConfig(backend="torch", batch_size=3))
    batched, provs = reprocess.reconstruct_batch(raws)
    np.testing.assert_allclose(batched, per_stack, rtol=1e-5, atol=1e-3)
    assert [p["normalization"]["high"] for p in provs] == [r.max() for r in raws]


def test_stack_path_equals_manual_normalise_network_denormalise(weights: Path) -> None:
    rec = create_reconstructor(weights, "torch")
    normalizer = PercentileNormalizer(0.5, 99.5)
    raw = _raw(4)
    sr, prov = StackReconstructor(rec, normalizer)(raw)
    x, stats = normalizer.normalize(raw)
    expected = normalizer.denormalize(rec(x[None])[0, 0], stats)
    np.testing.assert_array_equal(sr, expected)
    assert prov["normalization"]["p_low"] == 0.5


def test_tiled_backend_is_recorded(weights: Path) -> None:
    sr_fn = StackReconstructor.create(weights, "torch", tile_size=32, tile_overlap=8)
    sr, prov = sr_fn(_raw(5, (9, 48, 40)))
    assert sr.shape == (96, 80)
    assert prov["tiling"] == {"tile": [32, 32], "overlap": 8}


def test_wrong_frame_count_names_the_problem(weights: Path) -> None:
    sr_fn = StackReconstructor.create(weights, "torch")
    with pytest.raises(ValueError, match=r"\(N, 9, Y, X\)"):
        sr_fn(_raw(6, (15, 32, 32)))
    with pytest.raises(ValueError, match=r"one raw SIM stack \(F, Y, X\)"):
        sr_fn(_raw(6, (32, 32)))


# Parameter estimation quality is the Wiener tests' business; here only the path matters.
@pytest.mark.filterwarnings("ignore:angle .* SIM fit rejected")
def test_wiener_path_works_on_raw_counts() -> None:
    from livesr.config import OpticsConfig, PatternConfig
    from livesr.reconstruct import WienerReconstructor
    from livesr.simulate import simulate_sample

    optics, pattern = OpticsConfig(), PatternConfig.linear()
    raw = simulate_sample("microtubules", size=64, level=6, seed=7, optics=optics).raw[0]
    sr_fn = StackReconstructor.create("wiener", "wiener", pattern=pattern, optics=optics)
    sr, prov = sr_fn(raw)
    assert sr.shape == (128, 128)
    assert prov["backend"] == "wiener"
    assert prov["normalization"] == {"method": "none (raw counts)"}
    # No normalisation in between: the same as Wiener SIM called directly on the counts.
    direct = WienerReconstructor(pattern, optics)(raw[None].astype(np.float32))[0, 0]
    np.testing.assert_allclose(sr, direct, rtol=1e-5, atol=1e-3 * np.abs(direct).max())


def test_real_raw_sim_stack_same_sr_on_torch_and_onnxruntime(
    weights: Path, shared_data: Path
) -> None:
    # Real 9 x 256 x 256 raw SIM frames (rDL-SIM's MT.mrc): the live path (one backend) and a
    # reprocessing run on another backend must agree, and say so in their provenance.
    from livesr.io import read_stack

    mrc = shared_data / "dlsr" / "rDL-SIM" / "data_test" / "rDL-SIM" / "Microtubules" / "MT.mrc"
    raw = read_stack(mrc).data
    assert raw.shape == (9, 256, 256)
    live = StackReconstructor.create(weights, "torch", frame_shape=(256, 256))
    offline = StackReconstructor.create(weights, "onnxruntime-cpu", frame_shape=(256, 256))
    sr_live, prov_live = live(raw)
    sr_offline, prov_offline = offline(raw)
    assert sr_live.shape == (512, 512)
    span = float(raw.max()) - float(raw.min())
    assert np.abs(sr_live - sr_offline).max() < 1e-4 * span
    assert prov_live["backend"] == "torch"
    assert prov_offline["backend"] == "onnxruntime"
    same = {k for k in prov_live if k not in ("backend", "device")}
    assert {k: prov_live[k] for k in same} == {k: prov_offline[k] for k in same}


def test_wide_field_model_gets_the_frame_mean_and_records_all_raw_frames(tmp_path: Path) -> None:
    torch.manual_seed(3)
    sisr = TINY_DFCAN.model_copy(update={"in_frames": 1})
    path = tmp_path / "tiny-sisr.safetensors"
    save_weights(build_model(sisr), path)
    sr_fn = StackReconstructor.create(path, "torch")
    raw = _raw(8)
    sr, prov = sr_fn(raw)
    assert sr.shape == (64, 80)
    assert prov["raw_frames"] == list(range(9))
    assert prov["input"] == "wide-field mean of 9 raw frames"
    wf = raw.mean(axis=0, dtype=np.float32)
    expected, _ = StackReconstructor.create(path, "torch")(wf[None])
    np.testing.assert_allclose(sr, expected, rtol=1e-5)
