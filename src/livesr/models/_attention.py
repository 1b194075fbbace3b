"""Channel attention layers: Fourier (DFCAN), spatial (DSCAN baseline) and RCAN's.

All three end in the same squeeze-excite head (global average pool, 1x1 C -> C/r + ReLU,
1x1 C/r -> C + sigmoid) and rescale the input channel-wise; they differ in what the head sees.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ._spectrum import SpectralMagnitude, SpectrumMode

__all__ = [
    "AttentionKind",
    "ChannelAttention",
    "FourierChannelAttention",
    "SpatialChannelAttention",
    "make_attention",
]

AttentionKind = Literal["fourier", "spatial", "none"]


class _SqueezeExcite(nn.Module):
    """Global average pool -> 1x1 down + ReLU -> 1x1 up + sigmoid: (B, C, H, W) -> (B, C, 1, 1)."""

    def __init__(self, width: int, reduction: int) -> None:
        super().__init__()
        if width // reduction < 1:
            raise ValueError(
                f"width={width} is too small for reduction={reduction}: use width >= reduction"
            )
        self.down = nn.Conv2d(width, width // reduction, 1)
        self.up = nn.Conv2d(width // reduction, width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3), keepdim=True)
        return torch.sigmoid(self.up(torch.relu(self.down(pooled))))


class FourierChannelAttention(nn.Module):
    """The FCA layer of DFCAN: channel weights from the shifted magnitude spectrum.

    Parameters
    ----------
    width : int
        Channels C of the features.
    gamma : float
        Spectrum power (0.8 DFCAN, 0.1 DFGAN).
    reduction : int
        Squeeze ratio of the 1x1 convolutions (authors: 16, i.e. 64 -> 4).
    spectrum : {"tiled", "dft", "fft"}
        How the spectrum is computed (see `SpectralMagnitude`).
    size_psc : int or None
        Side the spectrum is resized to (authors: 128).

    Notes
    -----
    (B, C, H, W) -> (B, C, H, W), same dtype as the input. The whole spectral branch runs in
    float32 with autocast disabled (the unscaled DFT overflows fp16); if the module itself was
    cast to fp16, the fp32 spectrum is cast to the weight dtype only after the power, where its
    range fits.
    """

    def __init__(
        self,
        width: int,
        gamma: float = 0.8,
        reduction: int = 16,
        spectrum: SpectrumMode = "tiled",
        size_psc: int | None = 128,
    ) -> None:
        super().__init__()
        self.spectrum = SpectralMagnitude(gamma, spectrum, size_psc)
        self.conv = nn.Conv2d(width, width, 3, padding=1)
        self.excite = _SqueezeExcite(width, reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        device_type = "cuda" if x.is_cuda else "cpu"
        with torch.autocast(device_type=device_type, enabled=False):
            source = x if x.dtype == torch.float64 else x.float()
            spec = self.spectrum(source).to(self.conv.weight.dtype)
            weights = self.excite(torch.relu(self.conv(spec)))
        out: torch.Tensor = x * weights.to(x.dtype)
        return out


class SpatialChannelAttention(nn.Module):
    """DSCAN's attention: the FCA head applied to the spatial features instead of the spectrum.

    (B, C, H, W) -> (B, C, H, W); same parameters as `FourierChannelAttention`.
    """

    def __init__(self, width: int, reduction: int = 16) -> None:
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, padding=1)
        self.excite = _SqueezeExcite(width, reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x * self.excite(torch.relu(self.conv(x)))
        return out


class ChannelAttention(nn.Module):
    """RCAN's channel attention: squeeze-excite on the features, no convolution before it.

    (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, width: int, reduction: int = 16) -> None:
        super().__init__()
        self.excite = _SqueezeExcite(width, reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x * self.excite(x)
        return out


def make_attention(
    kind: AttentionKind,
    width: int,
    *,
    gamma: float,
    reduction: int,
    spectrum: SpectrumMode,
    size_psc: int | None,
) -> nn.Module:
    """The attention layer of one FCAB-style block: Fourier, spatial, or none (identity)."""
    if kind == "fourier":
        return FourierChannelAttention(width, gamma, reduction, spectrum, size_psc)
    if kind == "spatial":
        return SpatialChannelAttention(width, reduction)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"attention {kind!r} is unknown; use 'fourier', 'spatial' or 'none'")
