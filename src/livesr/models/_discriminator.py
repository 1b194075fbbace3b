"""The DFGAN discriminator (qc17-THU/DL-SR ``DFGAN50.py``).

Conv 3x3 (1 -> 32) + LeakyReLU(0.1); five blocks of two 3x3 convs with LeakyReLU(0.1) and widths
32, 64, 128, 256, 512, all at full resolution (no stride, no pooling); global average pool;
dense 512 -> 256 + LeakyReLU(0.1); dense 256 -> 1 + sigmoid. 4,852,481 parameters whatever the
input size (the pool makes the head size-independent).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["DFGANDiscriminator"]


class DFGANDiscriminator(nn.Module):
    """Real/fake classifier on SR-sized images.

    Parameters
    ----------
    in_channels : int
        Channels of the judged image (1: the SR output or ground truth).
    widths : tuple of int
        Widths of the five two-conv blocks (authors: 32, 64, 128, 256, 512).
    stem : int
        Width of the first conv (authors: 32).
    dense : int
        Width of the hidden dense layer (authors: 256).
    slope : float
        LeakyReLU negative slope (authors: 0.1).

    Notes
    -----
    ``forward``: float32 (B, in_channels, H, W) -> float32 (B, 1) probabilities of "real".
    """

    architecture = "dfgan_discriminator"

    def __init__(
        self,
        in_channels: int = 1,
        widths: tuple[int, ...] = (32, 64, 128, 256, 512),
        stem: int = 32,
        dense: int = 256,
        slope: float = 0.1,
    ) -> None:
        super().__init__()
        self.in_frames = int(in_channels)
        self.scale = 1
        self.options: dict[str, Any] = {
            "widths": tuple(widths),
            "stem": stem,
            "dense": dense,
            "slope": slope,
        }
        layers: list[nn.Module] = [nn.Conv2d(in_channels, stem, 3, padding=1), nn.LeakyReLU(slope)]
        c_in = stem
        for width in widths:
            for _ in range(2):
                layers += [nn.Conv2d(c_in, width, 3, padding=1), nn.LeakyReLU(slope)]
                c_in = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(c_in, dense), nn.LeakyReLU(slope), nn.Linear(dense, 1), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_frames:
            raise ValueError(
                f"DFGANDiscriminator expects (B, {self.in_frames}, H, W) input, "
                f"got shape {tuple(x.shape)}"
            )
        pooled = self.features(x).mean(dim=(2, 3))
        out: torch.Tensor = self.classifier(pooled)
        return out
