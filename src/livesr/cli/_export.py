"""``livesr export``: write a network as TensorRT-parsable ONNX (and, later, an engine)."""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ._app import app

if TYPE_CHECKING:
    from torch import nn


class _Format(str, Enum):
    onnx = "onnx"
    tensorrt = "tensorrt"


class _Spectrum(str, Enum):
    tiled = "tiled"
    dft = "dft"


def parse_shape(text: str) -> tuple[int, ...]:
    """``"9x128x128"`` -> (9, 128, 128); ``"2x9x128x128"`` -> (2, 9, 128, 128)."""
    try:
        shape = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) not in (3, 4) or min(shape) < 1:
        raise typer.BadParameter(
            f"--shape takes FxYxX or NxFxYxX positive integers (e.g. 9x128x128), got {text!r}"
        )
    return shape


def load_network(
    model: str, in_frames: int, scale: Optional[int]
) -> "tuple[nn.Module, dict[str, Any]]":
    """A network from a weights file, a bundled weights name, or an architecture name.

    Returns the module and a description for the user (name, source, in_frames, scale).
    """
    from livesr.config import ModelConfig
    from livesr.models import available_models, build_model, bundled_weights, load_weights

    path = Path(model).expanduser()
    if path.is_file() or model.removesuffix(".safetensors") in bundled_weights():
        module, card = load_weights(model)
        if card.in_frames != in_frames:
            raise typer.BadParameter(
                f"{model} takes {card.in_frames} frames but --shape asks for {in_frames}; "
                f"use --shape {card.in_frames}xYxX"
            )
        if scale is not None and scale != card.scale:
            raise typer.BadParameter(f"{model} is a x{card.scale} network, not x{scale}")
        about = {"model": card.name, "source": "weights", "sha256": card.weights_sha256}
        return module, {**about, "card": card.to_json()}
    if model in available_models():
        scale = scale or (3 if in_frames == 25 else 2)
        module = build_model(ModelConfig(architecture=model, in_frames=in_frames, scale=scale))
        typer.echo(f"note: {model!r} is an architecture name: exporting random weights", err=True)
        return module, {"model": model, "source": "untrained", "scale": scale}
    raise typer.BadParameter(
        f"--model {model!r} is neither a weights file, nor bundled weights "
        f"({', '.join(bundled_weights()) or 'none installed'}), nor an architecture "
        f"({', '.join(available_models())})"
    )


def _ort_matches_torch(module: "nn.Module", path: Path, shape: tuple[int, ...]) -> float:
    """Largest |ORT - torch| / max|torch| on a random input of ``shape`` (1e-4 expected)."""
    import numpy as np
    import onnxruntime as ort
    import torch

    full = shape if len(shape) == 4 else (1, *shape)
    x = np.random.default_rng(0).random(full, dtype=np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"x": x})
    with torch.inference_mode():
        ref = module.eval().float()(torch.from_numpy(x)).numpy()
    return float(np.abs(got - ref).max() / max(float(np.abs(ref).max()), 1e-12))


@app.command()
def export(
    model: Annotated[
        str, typer.Option(help="Bundled weights name, .safetensors file, or architecture.")
    ],
    out: Annotated[Path, typer.Option(help="Output file (.onnx).")],
    shape: Annotated[
        str, typer.Option(help="Input shape FxYxX or NxFxYxX, e.g. 9x128x128.")
    ] = "9x128x128",
    format: Annotated[_Format, typer.Option(help="Output format.")] = _Format.onnx,
    dynamic: Annotated[
        bool, typer.Option(help="Free batch and frame size (matrices computed in the graph).")
    ] = False,
    scale: Annotated[
        Optional[int], typer.Option(min=1, max=4, help="Upsampling of an architecture name.")
    ] = None,
    spectrum: Annotated[
        _Spectrum, typer.Option(help="FFT-free spectrum: tiled (cheap) or dft (full matrices).")
    ] = _Spectrum.tiled,
    opset: Annotated[int, typer.Option(min=13, help="ONNX opset.")] = 17,
    check: Annotated[
        bool, typer.Option(help="Run the file in ONNX Runtime and compare with torch.")
    ] = True,
    precision: Annotated[
        str, typer.Option(help="tensorrt: fp32, or fp16 (fp16 trunk, fp32 spectral branch).")
    ] = "fp32",
) -> None:
    """Export a network as ONNX that TensorRT's parser accepts (no DFT node).

    The input is ``x`` (N, F, Y, X) float32 normalised to [0, 1], the output ``y``
    (N, 1, sY, sX). Static shapes by default: one file per camera frame size.
    """
    from livesr.reconstruct import export_onnx

    dims = parse_shape(shape)
    in_frames = dims[-3]
    module, about = load_network(model, in_frames, scale)
    from livesr.models import DFCAN

    if isinstance(module, DFCAN):
        module.set_spectrum(spectrum.value)
    if format is _Format.tensorrt:
        # Build and cache the engine ahead of an experiment (runtimes/_tensorrt.py).
        from livesr.reconstruct import BackendUnavailableError
        from livesr.reconstruct.runtimes._tensorrt import build_tensorrt_engine

        try:
            engine = build_tensorrt_engine(module, dims, precision=precision, out=out)
        except (BackendUnavailableError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"wrote TensorRT engine {engine} ({precision}, input {dims}); cached too")
        return
    try:
        card = about.pop("card", None)
        metadata = {"livesr_card": card} if card else {"livesr_model": str(about["model"])}
        path = export_onnx(module, out, dims, dynamic=dynamic, opset=opset, metadata=metadata)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    from livesr.reconstruct import onnx_op_types

    ops = onnx_op_types(path)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, opset {opset})")
    typer.echo(f"  model: {about}")
    typer.echo(f"  input x: {'N x F x Y x X (dynamic)' if dynamic else dims}")
    typer.echo("  operators (all TensorRT-parsable): " + ", ".join(f"{k} {v}" for k, v in
               sorted(ops.items())))  # fmt: skip
    if check:
        err = _ort_matches_torch(module, path, dims)
        typer.echo(f"  ONNX Runtime vs torch: max relative difference {err:.2e}")
        if err > 1e-4:
            typer.echo("error: ONNX Runtime output differs from torch by more than 1e-4", err=True)
            raise typer.Exit(1)
