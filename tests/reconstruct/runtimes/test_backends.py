"""Backends agree on the same normalised input; the TensorRT path is checked up to the build."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from livesr.config import ModelConfig
from livesr.models import build_model, load_model, save_weights
from livesr.reconstruct import (
    OnnxRuntimeReconstructor,
    TiledReconstructor,
    TorchReconstructor,
    create_reconstructor,
)
from livesr.reconstruct.runtimes._tensorrt import engine_key, tensorrt_onnx
from tiny_models import file_tensors_sha256, normalised_stacks, rel_err

onnx = pytest.importorskip("onnx")

TINY = ModelConfig(
    in_frames=9,
    scale=2,
    options={"groups": 1, "blocks": 2, "width": 16, "reduction": 4, "size_psc": 16},
)


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "tiny-dfcan.safetensors"
    save_weights(build_model(TINY), path)
    return path


def test_torch_and_onnxruntime_agree(weights: Path) -> None:
    x = normalised_stacks(2, (40, 56))
    ref = create_reconstructor(weights, "torch", "cpu")(x)
    static = create_reconstructor(weights, "onnxruntime", "cpu", frame_shape=(40, 56))
    assert isinstance(static, OnnxRuntimeReconstructor)
    assert static.info.fixed_shape == (40, 56)
    assert static.info.weights_sha256 == file_tensors_sha256(weights)
    assert rel_err(static(x), ref) < 1e-4
    dynamic = create_reconstructor(weights, "onnxruntime", "cpu")
    assert dynamic.info.fixed_shape is None
    assert rel_err(dynamic(x), ref) < 1e-4


def test_onnx_export_is_cached(weights: Path, tmp_path: Path) -> None:
    create_reconstructor(weights, "onnxruntime-cpu", frame_shape=(32, 32))
    files = sorted((tmp_path / "cache" / "onnx").glob("*.onnx"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    create_reconstructor(weights, "onnxruntime-cpu", frame_shape=(32, 32))
    assert files[0].stat().st_mtime_ns == stamp
    create_reconstructor(weights, "onnxruntime-cpu", frame_shape=(32, 48))
    assert len(list((tmp_path / "cache" / "onnx").glob("*.onnx"))) == 2
    # Same weights, another spectrum computation: another graph.
    loaded = load_model(weights)
    loaded.module.set_spectrum("dft")
    create_reconstructor(loaded, "onnxruntime-cpu", frame_shape=(32, 32))
    assert len(list((tmp_path / "cache" / "onnx").glob("*.onnx"))) == 3


def test_static_batch_graph_takes_any_number_of_stacks(weights: Path) -> None:
    x = normalised_stacks(3, (32, 32), seed=1)
    # One core: one session whose graph takes the whole batch of 2.
    rec = create_reconstructor(
        weights, "onnxruntime-cpu", frame_shape=(32, 32), batch_size=2, threads=1
    )
    assert isinstance(rec, OnnxRuntimeReconstructor)
    assert (rec.batch_size, rec.parallel) == (2, 1)
    ref = create_reconstructor(weights, "torch-cpu")(x)
    assert rec(x).shape == (3, 1, 64, 64)
    assert rel_err(rec(x), ref) < 1e-4


def test_fixed_shape_backend_is_tiled_for_other_frame_sizes(weights: Path) -> None:
    rec = create_reconstructor(weights, "onnxruntime-cpu", frame_shape=(32, 32))
    x = normalised_stacks(1, (48, 40), seed=2)
    with pytest.raises(ValueError, match="TiledReconstructor"):
        rec(x)
    tiled = TiledReconstructor(rec, overlap=8)
    torch_tiled = TiledReconstructor(create_reconstructor(weights, "torch-cpu"), 32, overlap=8)
    assert rel_err(tiled(x), torch_tiled(x)) < 1e-4


def test_tensorrt_graph_runs_like_torch(weights: Path) -> None:
    # The exact file TensorRT would parse, run by ONNX Runtime on the CPU.
    loaded = load_model(weights)
    shape = (1, 9, 32, 48)
    path = tensorrt_onnx(loaded, shape, "fp32")
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "DFT" not in ops  # TensorRT < 11.2 cannot parse it
    x = normalised_stacks(1, (32, 48), seed=3)
    ort = OnnxRuntimeReconstructor(path, in_frames=9, scale=2)
    assert ort.info.fixed_shape == (32, 48)
    ref = TorchReconstructor(loaded.module)(x)
    assert rel_err(ort(x), ref) < 1e-4


def test_tensorrt_fp16_graph_keeps_the_spectrum_in_fp32(weights: Path) -> None:
    # Strong typing: the precision of every TensorRT layer comes from the graph's tensor types.
    loaded = load_model(weights)
    path = tensorrt_onnx(loaded, (1, 9, 32, 32), "fp16")
    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    graph = model.graph
    fp16, fp32 = onnx.TensorProto.FLOAT16, onnx.TensorProto.FLOAT
    assert graph.input[0].type.tensor_type.elem_type == fp16
    types = {v.name: v.type.tensor_type.elem_type for v in graph.value_info}
    types.update({i.name: i.data_type for i in graph.initializer})
    types.update({i.name: i.type.tensor_type.elem_type for i in graph.input})
    convs = [n for n in graph.node if n.op_type == "Conv"]
    matmuls = [n for n in graph.node if n.op_type == "MatMul"]
    assert convs
    assert matmuls
    assert all(types.get(n.input[1]) == fp16 for n in convs)  # fp16 trunk
    assert all(types.get(n.input[0]) == fp32 for n in matmuls)  # fp32 spectral branch
    # The fp32 graph of the same model has a different hash, so a different engine key.
    key16 = engine_key(path, (1, 9, 32, 32), "fp16", trt_version="10", gpu_name="g",
                       compute_capability="8.9")  # fmt: skip
    path32 = tensorrt_onnx(loaded, (1, 9, 32, 32), "fp32")
    key32 = engine_key(path32, (1, 9, 32, 32), "fp32", trt_version="10", gpu_name="g",
                       compute_capability="8.9")  # fmt: skip
    assert key16.onnx_sha256 != key32.onnx_sha256
    assert key16.path() != key32.path()


@pytest.mark.gpu
def test_torch_cuda_matches_cpu_and_fp16_stays_close(weights: Path) -> None:
    x = normalised_stacks(2, (64, 64), seed=4)
    cpu = create_reconstructor(weights, "torch", "cpu")(x)
    cuda = create_reconstructor(weights, "torch", "cuda")
    assert cuda.info.device.startswith("cuda")
    assert rel_err(cuda(x), cpu) < 1e-3
    half = create_reconstructor(weights, "torch", "cuda", precision="fp16")
    assert rel_err(half(x), cpu) < 2e-2


@pytest.mark.gpu
def test_onnxruntime_cuda_matches_torch(weights: Path) -> None:
    pytest.importorskip("onnxruntime")
    x = normalised_stacks(1, (64, 64), seed=5)
    ref = create_reconstructor(weights, "torch", "cpu")(x)
    rec = create_reconstructor(weights, "onnxruntime", "cuda", frame_shape=(64, 64))
    assert rel_err(rec(x), ref) < 1e-3


@pytest.mark.gpu
@pytest.mark.parametrize(("precision", "tol"), [("fp32", 1e-3), ("fp16", 2e-2)])
def test_tensorrt_engine_matches_torch_and_is_cached(
    weights: Path, tmp_path: Path, precision: str, tol: float
) -> None:
    pytest.importorskip("tensorrt")
    x = normalised_stacks(2, (64, 64), seed=6)
    ref = create_reconstructor(weights, "torch", "cpu")(x)
    rec = create_reconstructor(
        weights, "tensorrt", frame_shape=(64, 64), batch_size=2, precision=precision
    )
    assert rec.info.backend == "tensorrt"
    assert rel_err(rec(x), ref) < tol
    engines = list((tmp_path / "cache" / "tensorrt").glob("*.engine"))
    assert len(engines) == 1
    stamp = engines[0].stat().st_mtime_ns
    create_reconstructor(weights, "tensorrt", frame_shape=(64, 64), batch_size=2,
                         precision=precision)  # fmt: skip
    assert engines[0].stat().st_mtime_ns == stamp


def test_tiling_compiles_the_graph_for_the_tile(weights: Path) -> None:
    rec = create_reconstructor(
        weights, "onnxruntime-cpu", frame_shape=(80, 72), tile_size=48, tile_overlap=16
    )
    assert isinstance(rec, TiledReconstructor)
    assert rec.inner.info.fixed_shape == (48, 48)
    x = normalised_stacks(1, (80, 72), seed=7)
    ref = TiledReconstructor(create_reconstructor(weights, "torch-cpu"), 48, overlap=16)(x)
    assert rel_err(rec(x), ref) < 1e-4
