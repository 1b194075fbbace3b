"""Architecture registry: ``ModelConfig`` -> ``nn.Module``.

Every network takes ``(in_frames, scale, **options)``; ``ModelConfig.options`` carries the rest
(groups, width, spectrum ...), so a config or a model card rebuilds the exact architecture.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from torch import nn

from livesr.config import ModelConfig

from ._baselines import RCAN, SCUNet, UNet
from ._dfcan import DFCAN, DFGANGenerator
from ._discriminator import DFGANDiscriminator

__all__ = ["available_models", "build_model", "register_model"]

ModelBuilder = Callable[..., nn.Module]


def _dscan(in_frames: int, scale: int, **options: Any) -> DFCAN:
    net = DFCAN(in_frames, scale, **{"attention": "spatial", **options})
    net.architecture = "dscan"  # cards name the registry entry that rebuilds it
    return net


def _plain(in_frames: int, scale: int, **options: Any) -> DFCAN:
    net = DFCAN(in_frames, scale, **{"attention": "none", **options})
    net.architecture = "dfcan_plain"
    return net


def _discriminator(in_frames: int, scale: int, **options: Any) -> DFGANDiscriminator:
    # The discriminator judges SR images: in_frames is its channel count, scale is unused.
    return DFGANDiscriminator(in_frames, **options)


_REGISTRY: dict[str, tuple[ModelBuilder, type[nn.Module], str]] = {
    "dfcan": (DFCAN, DFCAN, "DFCAN, 4 groups x 4 FCABs, Fourier channel attention"),
    "dfgan": (DFGANGenerator, DFGANGenerator, "DFGAN generator, 5 groups x 10 FCABs"),
    "dfgan_discriminator": (_discriminator, DFGANDiscriminator, "DFGAN discriminator"),
    "dscan": (_dscan, DFCAN, "DFCAN trunk with spatial (not Fourier) channel attention"),
    "dfcan_plain": (_plain, DFCAN, "DFCAN trunk without attention"),
    "rcan": (RCAN, RCAN, "RCAN: residual channel attention network"),
    "unet": (UNet, UNet, "CARE-style U-Net on the upsampled input"),
    "scunet": (SCUNet, SCUNet, "scU-Net: U-Net on the raw SIM frames, upsampled at the end"),
}


def register_model(
    name: str, builder: ModelBuilder, cls: type[nn.Module], description: str = ""
) -> None:
    """Add an architecture; ``builder(in_frames, scale, **options)`` must return ``cls``."""
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is already registered")
    _REGISTRY[name] = (builder, cls, description)


def available_models() -> dict[str, str]:
    """Registered architecture names and one-line descriptions."""
    return {name: entry[2] for name, entry in _REGISTRY.items()}


def build_model(config: ModelConfig) -> nn.Module:
    """Build the (untrained) network a `ModelConfig` describes.

    Parameters
    ----------
    config : ModelConfig
        ``architecture`` is a registry name; ``options`` are passed to its constructor.
        ``weights`` is ignored here (see `load_weights`).

    Returns
    -------
    torch.nn.Module
        In training mode, on the CPU, float32.

    Raises
    ------
    ValueError
        Unknown architecture or an option the architecture does not take.
    """
    try:
        builder, cls, _ = _REGISTRY[config.architecture]
    except KeyError:
        raise ValueError(
            f"unknown architecture {config.architecture!r}; available: {sorted(_REGISTRY)}"
        ) from None
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "in_frames", "scale"}
    if cls is DFGANDiscriminator:
        accepted.discard("in_channels")  # given as in_frames
    unknown = set(config.options) - accepted
    if unknown:
        raise ValueError(
            f"{config.architecture!r} does not take option(s) {sorted(unknown)}; "
            f"it accepts {sorted(accepted)}"
        )
    return builder(config.in_frames, config.scale, **config.options)
