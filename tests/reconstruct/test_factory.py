from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from livesr.models import load_model
from livesr.reconstruct import (
    BackendUnavailableError,
    EngineKey,
    TiledReconstructor,
    TorchReconstructor,
    available_backends,
    create_reconstructor,
)
from livesr.reconstruct.runtimes._engine_cache import onnx_cache_path
from tiny_models import TINY_DFCAN, file_tensors_sha256, save_tiny_weights

NO_CUDA = not torch.cuda.is_available()


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return save_tiny_weights(tmp_path / "tiny-dfcan.safetensors")


def test_available_backends_name_what_is_missing() -> None:
    status = available_backends()
    assert set(status) == {
        "tensorrt",
        "onnxruntime-cuda",
        "onnxruntime-cpu",
        "torch-cuda",
        "torch-cpu",
        "wiener",
    }
    assert status["torch-cpu"] is None
    assert status["onnxruntime-cpu"] is None
    if NO_CUDA:
        assert "CUDA" in str(status["torch-cuda"])
        assert "tensorrt" in str(status["tensorrt"]).lower()


@pytest.mark.skipif(not NO_CUDA, reason="checks the CPU fallback")
def test_auto_falls_back_to_torch_cpu_and_logs_each_skip(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="livesr"):
        rec = create_reconstructor(TINY_DFCAN)
    assert isinstance(rec, TorchReconstructor)
    assert (rec.info.backend, rec.info.device) == ("torch", "cpu")
    skips = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipping")]
    assert [s.split()[2].rstrip(":") for s in skips] == [
        "tensorrt-cuda",
        "onnxruntime-cuda",
        "torch-cuda",
    ]
    assert all("install" in s or "CUDA" in s for s in skips)


@pytest.mark.skipif(not NO_CUDA, reason="checks the message without a GPU")
@pytest.mark.parametrize(
    ("backend", "device", "needle"),
    [("tensorrt", "auto", "tensorrt"), ("torch", "cuda", "CUDA"), ("onnxruntime", "cuda", "CUDA")],
)
def test_unavailable_backend_is_a_clear_error(backend: str, device: str, needle: str) -> None:
    with pytest.raises(BackendUnavailableError, match=needle):
        create_reconstructor(TINY_DFCAN, backend, device)


def test_env_override_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVESR_BACKEND", "torch-cpu")
    rec = create_reconstructor(TINY_DFCAN, backend="onnxruntime")
    assert rec.info.backend == "torch"
    monkeypatch.setenv("LIVESR_BACKEND", "nonsense")
    with pytest.raises(ValueError, match="unknown backend 'nonsense'"):
        create_reconstructor(TINY_DFCAN)


def test_weights_file_and_config_with_weights_give_provenance(weights: Path) -> None:
    rec = create_reconstructor(weights, "torch")
    assert rec.info.name == "tiny-dfcan"
    assert rec.info.weights_sha256 == file_tensors_sha256(weights)
    same = create_reconstructor(TINY_DFCAN.model_copy(update={"weights": str(weights)}), "torch")
    x = np.random.default_rng(0).random((1, 9, 32, 32), dtype=np.float32)
    np.testing.assert_array_equal(rec(x), same(x))


def test_unknown_weights_name_lists_the_bundled_ones() -> None:
    with pytest.raises(FileNotFoundError, match="bundled"):
        create_reconstructor("no-such-model", "torch")


def test_untrained_models_get_distinct_hashes() -> None:
    torch.manual_seed(1)
    a = load_model(TINY_DFCAN)
    torch.manual_seed(2)
    b = load_model(TINY_DFCAN)
    assert a.weights_sha256 != b.weights_sha256
    assert a.card == {}


def test_tile_size_wraps_the_backend() -> None:
    rec = create_reconstructor(TINY_DFCAN, "torch", tile_size=32, tile_overlap=8)
    assert isinstance(rec, TiledReconstructor)
    out = rec(np.zeros((1, 9, 40, 48), dtype=np.float32))
    assert out.shape == (1, 1, 80, 96)


def test_engine_key_changes_with_every_field() -> None:
    base = EngineKey("abc", "10.9.0", "NVIDIA H100", "9.0", "fp16", (1, 9, 256, 256))
    assert base.digest() == EngineKey(**base.__dict__).digest()
    assert base.filename.startswith("1x9x256x256_fp16_")
    for change in [
        {"onnx_sha256": "abd"},
        {"trt_version": "11.4.0"},
        {"gpu_name": "NVIDIA RTX 4090"},
        {"compute_capability": "8.9"},
        {"precision": "fp32"},
        {"shape": (2, 9, 256, 256)},
    ]:
        other = EngineKey(**{**base.__dict__, **change})
        assert other.digest() != base.digest(), change
        assert other.path() != base.path()


def test_onnx_cache_is_keyed_by_model_shape_and_precision(tmp_path: Path) -> None:
    a = onnx_cache_path("h1", (1, 9, 64, 64))
    assert a.parent == tmp_path / "cache" / "onnx"
    assert a != onnx_cache_path("h2", (1, 9, 64, 64))
    assert a != onnx_cache_path("h1", (1, 9, 64, 96))
    assert a != onnx_cache_path("h1", (1, 9, 64, 64), precision="fp16")
    assert a != onnx_cache_path("h1", (1, 9, 64, 64), extra='{"spectrum": "dft"}')
    assert onnx_cache_path("h1", None).name.startswith("dynamic")


@pytest.mark.gpu
def test_auto_prefers_the_fastest_gpu_backend(weights: Path) -> None:
    import importlib.util

    rec = create_reconstructor(weights, frame_shape=(64, 64))
    assert rec.info.device.startswith("cuda")
    if importlib.util.find_spec("tensorrt") is not None:
        assert rec.info.backend == "tensorrt"
    status = available_backends()
    assert status["torch-cuda"] is None
