"""ONNX export of the networks, restricted to operators TensorRT's ONNX parser runs.

The Fourier attention's spectrum is exported as DFT-matrix MatMuls (never an ONNX ``DFT`` node,
which TensorRT's parser only gained in 11.2 through a plugin). Static exports freeze the frame
size (the matrices become constants, the tiled spectrum folds, one graph per camera ROI, which
is what a TensorRT engine wants anyway); dynamic exports compute the matrices from the input
shape inside the graph with integer Range/Div/Mod and Cos/Sin. Every export is checked against
`TENSORRT_ONNX_OPS`.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

__all__ = ["TENSORRT_ONNX_OPS", "check_tensorrt_ops", "export_onnx", "onnx_op_types"]

# Operators marked supported in onnx-tensorrt's docs/operators.md for TensorRT 8.5 (opset 17);
# later parsers (10.x, 11.x) support a superset. DFT and STFT are deliberately absent.
TENSORRT_ONNX_OPS: frozenset[str] = frozenset(
    """Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool
    BatchNormalization Cast Ceil Celu Clip Concat Constant ConstantOfShape Conv ConvTranspose
    Cos Cosh CumSum DepthToSpace DequantizeLinear Div Dropout Einsum Elu Equal Erf Exp Expand
    EyeLike Flatten Floor Gather GatherElements GatherND Gemm GlobalAveragePool GlobalLpPool
    GlobalMaxPool Greater GreaterOrEqual GridSample GRU HardSigmoid HardSwish Identity If
    ImageScaler InstanceNormalization IsNaN LeakyRelu Less LessOrEqual Log LogSoftmax Loop LRN
    LSTM LpNormalization LpPool MatMul Max MaxPool Mean MeanVarianceNormalization Min Mod Mul
    Neg NonMaxSuppression NonZero Not OneHot Or Pad ParametricSoftplus Pow PRelu QuantizeLinear
    RandomNormal RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal ReduceL1
    ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
    ReduceSumSquare Relu Reshape Resize ReverseSequence RNN RoiAlign Round ScaledTanh Scan
    Scatter ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax
    Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK
    Transpose Trilu Unsqueeze Upsample Where Xor""".split()
)


def onnx_op_types(path: str | Path) -> Counter[str]:
    """Operator types of an ONNX file and how often each occurs (main graph and subgraphs)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    counts: Counter[str] = Counter()
    graphs = [model.graph]
    while graphs:
        graph = graphs.pop()
        for node in graph.node:
            counts[node.op_type] += 1
            graphs.extend(
                attr.g for attr in node.attribute if attr.type == onnx.AttributeProto.GRAPH
            )
    return counts


def check_tensorrt_ops(path: str | Path) -> Counter[str]:
    """Raise if the graph uses an operator TensorRT's ONNX parser cannot run.

    Returns
    -------
    Counter
        The operator counts (all allowed).

    Raises
    ------
    ValueError
        Naming every operator that is not in `TENSORRT_ONNX_OPS`.
    """
    counts = onnx_op_types(path)
    bad = sorted(set(counts) - TENSORRT_ONNX_OPS)
    if bad:
        hint = (
            " (a DFT node comes from spectrum='fft'; export with 'tiled' or 'dft')"
            if "DFT" in bad
            else ""
        )
        raise ValueError(f"{path} uses operators TensorRT cannot parse: {bad}{hint}")
    return counts


def export_onnx(
    model: nn.Module,
    path: str | Path,
    shape: tuple[int, ...],
    dynamic: bool = False,
    *,
    opset: int = 17,
    check_ops: bool = True,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write ``model`` as ONNX with input ``"x"`` (N, F, Y, X) and output ``"y"`` (N, 1, sY, sX).

    Parameters
    ----------
    model : torch.nn.Module
        A livesr network (float32, or fp16 via ``.half()``: its spectral branch stays fp32
        through explicit Casts). Exported in eval mode on its current device; the caller's
        train/eval state is restored.
    path : str or Path
        Output file; parent folders are created.
    shape : tuple of int
        Example input (F, Y, X) or (N, F, Y, X). Fixes every axis unless ``dynamic``.
    dynamic : bool
        Free batch, height and width (``"batch"``, ``"height"``, ``"width"``). The spectrum
        matrices are then computed in the graph. The U-Net baselines freeze their internal
        padding, so they need frames that are multiples of 2**depth in dynamic graphs.
    opset : int
        ONNX opset (17 is parsed by TensorRT >= 8.5).
    check_ops : bool
        Fail if an operator is not in `TENSORRT_ONNX_OPS` (the file is kept for inspection).
    metadata : dict of str, optional
        Stored as the model's ``metadata_props`` (e.g. ``{"livesr_card": card.to_json()}``),
        so an engine built from the file can say which weights it holds.

    Returns
    -------
    Path
        The written file.
    """
    import torch
    from torch.jit._trace import TracerWarning

    from livesr.models._spectrum import SpectralMagnitude, dynamic_spectrum

    if len(shape) == 3:
        shape = (1, *shape)
    if len(shape) != 4 or min(shape) < 1:
        raise ValueError(f"shape must be (F, Y, X) or (N, F, Y, X) positive sizes, got {shape}")
    if any(m.mode == "fft" for m in model.modules() if isinstance(m, SpectralMagnitude)):
        raise ValueError(
            "spectrum='fft' needs an ONNX DFT node, which TensorRT cannot parse; switch the "
            "model to the FFT-free spectrum first: model.set_spectrum('tiled')"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    param = next(model.parameters())
    example = torch.rand(shape, dtype=param.dtype, device=param.device)
    axes = (
        {"x": {0: "batch", 2: "height", 3: "width"}, "y": {0: "batch", 2: "sr_h", 3: "sr_w"}}
        if dynamic
        else None
    )
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # Static graphs freeze the frame size and the DFT constants on purpose; the tracer
            # warns about exactly that.
            warnings.simplefilter("ignore", TracerWarning)
            # The dynamo exporter (torch 2.13) cannot emit opset 17 for these graphs (its
            # version converter asserts on Slice axes, then fails on the numpy constants), so
            # the TorchScript exporter is used on purpose; it and its internals warn that they
            # are deprecated.
            warnings.simplefilter("ignore", DeprecationWarning)
            # Crops with a step other than 1 stay in the graph unfolded; nothing to act on.
            warnings.filterwarnings("ignore", message="Constant folding - Only steps=1")
            if dynamic:
                with dynamic_spectrum(model):
                    _export(model, example, path, axes, opset)
            else:
                _export(model, example, path, axes, opset)
    finally:
        model.train(was_training)
    if metadata:
        import onnx

        proto = onnx.load(str(path))
        for key, value in metadata.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = str(key), str(value)
        onnx.save(proto, str(path))
    if check_ops:
        check_tensorrt_ops(path)
    return path


def _export(
    model: nn.Module,
    example: object,
    path: Path,
    axes: dict[str, dict[int, str]] | None,
    opset: int,
) -> None:
    import torch

    # The TorchScript exporter keeps opset 17 and turns the DFT matrices into initializers.
    torch.onnx.export(
        model,
        (example,),
        str(path),
        input_names=["x"],
        output_names=["y"],
        opset_version=opset,
        dynamic_axes=axes,
        do_constant_folding=True,
        dynamo=False,
    )
