"""The architectures: ``ModelConfig`` -> ``nn.Module``.

Every network takes ``(in_frames, scale, **options)``; ``ModelConfig.options`` carries the rest
(groups, width, spectrum ...) typed per architecture (`livesr.config.ARCHITECTURE_OPTIONS`), so
a config or a model card rebuilds the exact architecture. The set is closed: the names are the
`livesr.config.Architecture` literal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from livesr.config import ModelConfig

from ._baselines import RCAN, SCUNet, UNet
from ._dfcan import DFCAN, DFGANGenerator
from ._discriminator import DFGANDiscriminator
from ._piunet import PIUNet

__all__ = ["available_models", "build_model"]

ModelBuilder = Callable[..., nn.Module]


def _dscan(in_frames: int, scale: int, **options: Any) -> DFCAN:
    net = DFCAN(in_frames, scale, **{"attention": "spatial", **options})
    net.architecture = "dscan"  # cards name the entry that rebuilds it
    return net


def _plain(in_frames: int, scale: int, **options: Any) -> DFCAN:
    net = DFCAN(in_frames, scale, **{"attention": "none", **options})
    net.architecture = "dfcan_plain"
    return net


def _discriminator(in_frames: int, scale: int, **options: Any) -> DFGANDiscriminator:
    # The discriminator judges SR images: in_frames is its channel count, scale is unused.
    return DFGANDiscriminator(in_frames, **options)


# Keys: the `livesr.config.Architecture` literal (a test checks both, and every options class
# against its network's constructor).
_ARCHITECTURES: dict[str, tuple[ModelBuilder, type[nn.Module], str]] = {
    "dfcan": (DFCAN, DFCAN, "DFCAN, 4 groups x 4 FCABs, Fourier channel attention"),
    "dfgan": (DFGANGenerator, DFGANGenerator, "DFGAN generator, 5 groups x 10 FCABs"),
    "dfgan_discriminator": (_discriminator, DFGANDiscriminator, "DFGAN discriminator"),
    "dscan": (_dscan, DFCAN, "DFCAN trunk with spatial (not Fourier) channel attention"),
    "dfcan_plain": (_plain, DFCAN, "DFCAN trunk without attention"),
    "rcan": (RCAN, RCAN, "RCAN: residual channel attention network"),
    "unet": (UNet, UNet, "CARE-style U-Net on the upsampled input"),
    "scunet": (SCUNet, SCUNet, "scU-Net: U-Net on the raw SIM frames, upsampled at the end"),
    "piunet": (PIUNet, PIUNet, "residual U-Net on the physics-informed input (Wiener + WF)"),
}


def available_models() -> dict[str, str]:
    """Architecture names and one-line descriptions."""
    return {name: entry[2] for name, entry in _ARCHITECTURES.items()}


def build_model(config: ModelConfig) -> nn.Module:
    """Build the (untrained) network a `ModelConfig` describes.

    Parameters
    ----------
    config : ModelConfig
        ``architecture`` names the network; ``options`` (already validated for it) are passed
        to its constructor. ``weights`` is ignored here (see `load_weights`).

    Returns
    -------
    torch.nn.Module
        In training mode, on the CPU, float32.
    """
    builder = _ARCHITECTURES[config.architecture][0]
    return builder(config.in_frames, config.scale, **config.kwargs())
