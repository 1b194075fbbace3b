"""Converter from the authors' Keras HDF5 weights (DL-SR ``weights.best``, rDL ``*.h5``).

Reads the file with h5py only (no TensorFlow). Keras ``save_weights`` files list their layers in
build order in the root attribute ``layer_names``; each layer group lists its tensors in
``weight_names`` (``"<layer>/kernel:0"``, ``"<layer>/bias:0"``). Files written by
``model.save`` hold the same structure under ``model_weights``. Layers are matched to the torch
network in file order (never by the numeric suffixes, which shift when several models were built
in one Keras session). Conversions:

- conv kernels (kh, kw, in, out) -> torch (out, in, kh, kw); cross-correlation in both, no flip;
- dense kernels (in, out) -> (out, in);
- the conv before the pixel shuffle: TF ``depth_to_space`` reads channel (i*s + j)*C + c for
  output offset (i, j) and channel c, torch ``PixelShuffle`` reads c*s*s + i*s + j, so its
  output channels are permuted.

The authors' readers transpose every frame (Fortran-order MRC reading): feed converted networks
transposed frames (the card says so).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from livesr.config import ModelConfig

from ._card import ModelCard, Normalisation
from ._dfcan import DFCAN
from ._registry import build_model

__all__ = ["convert_keras_h5", "keras_layers", "pre_shuffle_from_keras"]

_CONVERTIBLE = ("dfcan", "dfgan", "dfgan_discriminator", "dscan", "dfcan_plain")

KerasLayer = tuple[str, NDArray[np.float32], NDArray[np.float32]]


def keras_layers(path: str | Path) -> list[KerasLayer]:
    """(layer name, kernel, bias) of every weighted layer, in the file's build order.

    Raises
    ------
    ValueError
        Not a Keras weights file, or a layer without kernel/bias.
    """
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is in the io/test extras
        raise ImportError("converting Keras weights needs h5py: pip install h5py") from exc

    layers: list[KerasLayer] = []
    with h5py.File(path, "r") as fh:
        root = fh["model_weights"] if "model_weights" in fh else fh
        if "layer_names" not in root.attrs:
            raise ValueError(
                f"{path} is not a Keras weights file (no 'layer_names' attribute); expected the "
                "HDF5 written by Keras model.save_weights or model.save"
            )
        for raw_name in root.attrs["layer_names"]:
            name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
            group = root[name]
            weight_names = [
                w.decode() if isinstance(w, bytes) else str(w)
                for w in group.attrs.get("weight_names", [])
            ]
            if not weight_names:
                continue  # input, activation, lambda, pooling layers
            found: dict[str, NDArray[np.float32]] = {}
            for weight_name in weight_names:
                kind = weight_name.rsplit("/", 1)[-1].split(":")[0]
                found[kind] = np.asarray(group[weight_name], dtype=np.float32)
            if set(found) != {"kernel", "bias"}:
                raise ValueError(
                    f"{path}: layer {name!r} holds {sorted(found)}; only conv/dense layers "
                    "with kernel and bias are expected in DFCAN/DFGAN files"
                )
            layers.append((name, found["kernel"], found["bias"]))
    return layers


def pre_shuffle_from_keras(
    kernel: NDArray[np.float32], bias: NDArray[np.float32], scale: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Torch weight and bias of the conv feeding a pixel shuffle, from the Keras tensors.

    Parameters
    ----------
    kernel : ndarray
        Keras kernel, float32 (kh, kw, in, C * s * s).
    bias : ndarray
        Keras bias, float32 (C * s * s,).
    scale : int
        The shuffle factor s.

    Returns
    -------
    (Tensor, Tensor)
        (C * s * s, in, kh, kw) weight and (C * s * s,) bias in torch ``PixelShuffle`` order.
    """
    weight = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
    total = weight.shape[0]
    if total % (scale * scale):
        raise ValueError(f"{total} output channels cannot feed a pixel shuffle of {scale}")
    channels = total // (scale * scale)
    # TF index (i*s + j)*C + c  ->  torch index c*s*s + i*s + j
    weight = weight.reshape(scale * scale, channels, *weight.shape[1:]).transpose(0, 1)
    bias_t = torch.from_numpy(bias).reshape(scale * scale, channels).transpose(0, 1)
    return weight.reshape(total, *weight.shape[2:]).contiguous(), bias_t.reshape(total)


def convert_keras_h5(
    path: str | Path,
    architecture: str = "dfcan",
    in_frames: int = 9,
    scale: int = 2,
    *,
    options: dict[str, Any] | None = None,
    name: str | None = None,
) -> tuple[nn.Module, ModelCard]:
    """Build a livesr network holding the authors' Keras weights.

    Parameters
    ----------
    path : str or Path
        Keras HDF5 weights (``weights.best`` of DL-SR, or a ``.h5`` from ``model.save``).
    architecture : str
        ``"dfcan"`` (DFCAN16, gamma 0.8), ``"dfgan"`` (DFGAN50 generator, gamma 0.1) or
        ``"dfgan_discriminator"``.
    in_frames, scale : int
        1 (SISR) or 9 (linear SIM) frames at x2, 25 frames at x3.
    options : dict, optional
        Architecture options (e.g. ``{"gamma": 0.1}`` for the rDL-SIM DFCAN). The rDL
        variant's edge apodization is not reproduced.
    name : str, optional
        Card name; defaults to the file name.

    Returns
    -------
    (torch.nn.Module, ModelCard)
        The network in eval mode and a card (``source="keras"``) to pass to `save_weights`.

    Raises
    ------
    ValueError
        Unsupported architecture, or layer count/shapes that do not match it.
    """
    if architecture not in _CONVERTIBLE:
        raise ValueError(f"cannot convert Keras weights to {architecture!r}; use {_CONVERTIBLE}")
    config = ModelConfig(
        architecture=architecture, in_frames=in_frames, scale=scale, options=options or {}
    )
    model = build_model(config)
    targets = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    layers = keras_layers(path)
    if len(layers) != len(targets):
        raise ValueError(
            f"{path} holds {len(layers)} weighted layers but {architecture!r} with "
            f"in_frames={in_frames}, scale={scale}, options={options or {}} has "
            f"{len(targets)}; pick the architecture and frame count the file was trained with"
        )
    shuffle_conv = model.upsample[0] if isinstance(model, DFCAN) else None
    with torch.no_grad():
        for (layer_name, kernel, bias), module in zip(layers, targets, strict=True):
            if module is shuffle_conv:
                weight, bias_t = pre_shuffle_from_keras(kernel, bias, scale)
            elif kernel.ndim == 4:
                weight = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
                bias_t = torch.from_numpy(bias)
            else:
                weight = torch.from_numpy(np.ascontiguousarray(kernel.T))
                bias_t = torch.from_numpy(bias)
            assert module.bias is not None  # every layer of these networks has a bias
            if weight.shape != module.weight.shape or bias_t.shape != module.bias.shape:
                raise ValueError(
                    f"{path}: layer {layer_name!r} has kernel {kernel.shape}, but the matching "
                    f"torch layer {module} expects weight {tuple(module.weight.shape)}; wrong "
                    "architecture, in_frames or scale"
                )
            module.weight.copy_(weight)
            module.bias.copy_(bias_t)
    card = ModelCard(
        name=name or Path(path).name.removesuffix(".h5"),
        architecture=architecture,
        in_frames=in_frames,
        scale=scale,
        options=dict(getattr(model, "options", {})),
        normalisation=Normalisation(method="minmax"),
        frame_order="authors' order; frames transposed (x, y) like the authors' MRC readers",
        source="keras",
        description=f"converted from Keras weights {Path(path).name}",
    )
    return model.eval(), card
