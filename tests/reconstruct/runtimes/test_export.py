"""ONNX export: TensorRT-parsable operators only, ONNX Runtime output equal to torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper

from livesr.config import ModelConfig
from livesr.models import DFCAN, DFGANGenerator, ModelCard, build_model
from livesr.reconstruct import (
    TENSORRT_ONNX_OPS,
    check_tensorrt_ops,
    export_onnx,
    onnx_op_types,
)

TINY = {"groups": 1, "blocks": 2, "width": 16, "size_psc": 16}


def run_ort(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (y,) = session.run(["y"], {"x": x})
    return np.asarray(y)


def rel_err(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(got - expected).max() / np.abs(expected).max())


def torch_out(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model.eval()(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("spectrum", ["tiled", "dft"])
@pytest.mark.parametrize(("height", "width"), [(32, 32), (33, 20)])
def test_static_export_runs_in_ort_like_torch(
    tmp_path: Path, spectrum: str, height: int, width: int
) -> None:
    torch.manual_seed(0)
    model = DFCAN(9, 2, spectrum=spectrum, **TINY)  # type: ignore[arg-type]
    path = export_onnx(model, tmp_path / "m.onnx", (9, height, width))
    ops = onnx_op_types(path)
    assert "DFT" not in ops and "MatMul" in ops
    assert set(ops) <= TENSORRT_ONNX_OPS
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["x"] and [o.name for o in graph.output] == ["y"]

    x = np.random.default_rng(1).random((1, 9, height, width), dtype=np.float32)
    got = run_ort(path, x)
    assert got.shape == (1, 1, 2 * height, 2 * width)
    assert rel_err(got, torch_out(model, x)) < 1e-4


def test_full_size_dfcan_exports(tmp_path: Path) -> None:
    model = DFCAN(9, 2)
    path = export_onnx(model, tmp_path / "dfcan.onnx", (9, 64, 64))
    ops = check_tensorrt_ops(path)
    assert ops["Conv"] == 83 and ops["DepthToSpace"] == 1
    x = np.random.default_rng(2).random((1, 9, 64, 64), dtype=np.float32)
    assert rel_err(run_ort(path, x), torch_out(model, x)) < 1e-4


def test_dynamic_export_accepts_other_batch_and_frame_sizes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = DFGANGenerator(9, 2, **TINY)  # type: ignore[arg-type]
    path = export_onnx(model, tmp_path / "dyn.onnx", (2, 9, 32, 24), dynamic=True)
    assert set(check_tensorrt_ops(path)) <= TENSORRT_ONNX_OPS
    rng = np.random.default_rng(3)
    # Even, odd, non-square, and smaller than the 16-px spectrum (resize then upsamples).
    for shape in [(1, 9, 32, 24), (3, 9, 37, 19), (1, 9, 8, 8)]:
        x = rng.random(shape, dtype=np.float32)
        got = run_ort(path, x)
        assert got.shape == (shape[0], 1, 2 * shape[2], 2 * shape[3])
        assert rel_err(got, torch_out(model, x)) < 1e-4, shape


@pytest.mark.parametrize("name", ["dscan", "dfcan_plain", "rcan", "unet", "scunet"])
def test_baselines_export_with_tensorrt_ops(tmp_path: Path, name: str) -> None:
    options = {"unet": {"base": 8}, "scunet": {"base": 8}}.get(
        name, {"width": 16, "groups": 1, "blocks": 2}
    )
    model = build_model(ModelConfig(architecture=name, in_frames=9, scale=2, options=options))
    path = export_onnx(model, tmp_path / f"{name}.onnx", (9, 20, 28))
    x = np.random.default_rng(4).random((1, 9, 20, 28), dtype=np.float32)
    assert rel_err(run_ort(path, x), torch_out(model, x)) < 1e-4


def test_fft_spectrum_is_refused_with_the_fix(tmp_path: Path) -> None:
    model = DFCAN(9, 2, spectrum="fft", **TINY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"model\.set_spectrum\('tiled'\)"):
        export_onnx(model, tmp_path / "fft.onnx", (9, 16, 16))


def test_operator_check_fails_on_a_dft_node(tmp_path: Path) -> None:
    node = helper.make_node("DFT", ["x"], ["y"], onesided=0)
    graph = helper.make_graph(
        [node],
        "spectrum",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 8, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 2])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              str(tmp_path / "dft.onnx"))  # fmt: skip
    assert onnx_op_types(tmp_path / "dft.onnx") == {"DFT": 1}
    with pytest.raises(ValueError, match=r"TensorRT cannot parse: \['DFT'\]"):
        check_tensorrt_ops(tmp_path / "dft.onnx")


def test_fp16_model_keeps_the_spectrum_in_fp32(tmp_path: Path) -> None:
    model = DFCAN(9, 2, **TINY).half()  # type: ignore[arg-type]
    path = export_onnx(model, tmp_path / "fp16.onnx", (9, 32, 32))
    graph = onnx.load(str(path)).graph
    init_types = {i.name: i.data_type for i in graph.initializer}
    init_types.update(
        {n.output[0]: n.attribute[0].t.data_type for n in graph.node if n.op_type == "Constant"}
    )
    matmul_consts = [n.input[0] for n in graph.node if n.op_type == "MatMul"]
    matmul_consts += [n.input[1] for n in graph.node if n.op_type == "MatMul"]
    dft_types = {init_types[name] for name in matmul_consts if name in init_types}
    assert dft_types == {TensorProto.FLOAT}
    conv_weights = {init_types[n.input[1]] for n in graph.node if n.op_type == "Conv"}
    assert conv_weights == {TensorProto.FLOAT16}


def test_cli_exports_saved_weights_and_checks_them_in_ort(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from livesr.cli import app
    from livesr.models import save_weights

    save_weights(DFCAN(9, 2, **TINY), tmp_path / "tiny.safetensors")  # type: ignore[arg-type]
    out = tmp_path / "tiny.onnx"
    args = ["export", "--model", str(tmp_path / "tiny.safetensors"), "--shape", "9x24x20"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ONNX Runtime vs torch" in result.output
    assert set(onnx_op_types(out)) <= TENSORRT_ONNX_OPS
    # The card travels with the graph: an engine built from it knows its weights.
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert ModelCard.from_json(props["livesr_card"]).name == "tiny"
    x = np.random.default_rng(5).random((1, 9, 24, 20), dtype=np.float32)
    assert run_ort(out, x).shape == (1, 1, 48, 40)

    wrong = CliRunner().invoke(app, [*args[:-1], "1x24x20", "--out", str(out)])
    assert wrong.exit_code != 0
    assert "takes 9 frames" in wrong.output
