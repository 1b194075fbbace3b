"""Networks: DFCAN, DFGAN, the paper's baselines, weights and model cards.

The torch networks load lazily: ``ModelCard``, ``read_card``, ``bundled_weights`` and
``resolve_weights`` work without torch; everything else imports torch on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._bundled import WEIGHTS_DIR, bundled_weights, resolve_weights
from ._card import ModelCard, Normalisation, card_path_for, read_card
from ._loading import LoadedModel, WeightsUnavailableError, load_model, load_recorded_model

if TYPE_CHECKING:
    from ._attention import (
        ChannelAttention,
        FourierChannelAttention,
        SpatialChannelAttention,
    )
    from ._baselines import RCAN, SCUNet, UNet
    from ._dfcan import DFCAN, FCAB, DFGANGenerator
    from ._discriminator import DFGANDiscriminator
    from ._keras import convert_keras_h5
    from ._piunet import PIUNet
    from ._registry import available_models, build_model
    from ._spectrum import SpectralMagnitude, legacy_resize_matrix
    from ._weights import load_weights, save_weights, tensors_sha256

__all__ = [
    "DFCAN",
    "FCAB",
    "RCAN",
    "WEIGHTS_DIR",
    "ChannelAttention",
    "DFGANDiscriminator",
    "DFGANGenerator",
    "FourierChannelAttention",
    "LoadedModel",
    "ModelCard",
    "Normalisation",
    "PIUNet",
    "SCUNet",
    "SpatialChannelAttention",
    "SpectralMagnitude",
    "UNet",
    "WeightsUnavailableError",
    "available_models",
    "build_model",
    "bundled_weights",
    "card_path_for",
    "convert_keras_h5",
    "legacy_resize_matrix",
    "load_model",
    "load_recorded_model",
    "load_weights",
    "read_card",
    "resolve_weights",
    "save_weights",
    "tensors_sha256",
]

_LAZY = {
    "ChannelAttention": "_attention",
    "FourierChannelAttention": "_attention",
    "SpatialChannelAttention": "_attention",
    "RCAN": "_baselines",
    "SCUNet": "_baselines",
    "PIUNet": "_piunet",
    "UNet": "_baselines",
    "DFCAN": "_dfcan",
    "FCAB": "_dfcan",
    "DFGANGenerator": "_dfcan",
    "DFGANDiscriminator": "_discriminator",
    "convert_keras_h5": "_keras",
    "available_models": "_registry",
    "build_model": "_registry",
    "SpectralMagnitude": "_spectrum",
    "legacy_resize_matrix": "_spectrum",
    "load_weights": "_weights",
    "save_weights": "_weights",
    "tensors_sha256": "_weights",
}


def __getattr__(name: str) -> Any:
    # torch is heavy and optional: import the networks only when one is asked for.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
