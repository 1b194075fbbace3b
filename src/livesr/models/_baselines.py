"""The paper's comparison networks: RCAN, a CARE-style U-Net and scU-Net.

(DSCAN and the attention-free trunk are `DFCAN` with ``attention="spatial"`` / ``"none"``.)
All take ``(in_frames, scale, **options)``, map float32 (B, F, H, W) -> (B, 1, sH, sW) and are
built from convolutions, ReLU, pooling, resizing and pixel shuffle only, so they export to the
same TensorRT-compatible ONNX as DFCAN. The U-Nets pad H and W internally (reflect) to a
multiple of 2**depth and crop back, so any frame size works.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._attention import ChannelAttention

__all__ = ["RCAN", "SCUNet", "UNet"]


def _conv3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, padding=1)


def _check_input(net: nn.Module, x: torch.Tensor, in_frames: int) -> None:
    if x.ndim != 4 or x.shape[1] != in_frames:
        raise ValueError(
            f"{type(net).__name__} expects (B, {in_frames}, H, W) input, "
            f"got shape {tuple(x.shape)}"
        )


class _RCAB(nn.Module):
    def __init__(self, width: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv3(width, width),
            nn.ReLU(),
            _conv3(width, width),
            ChannelAttention(width, reduction),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.body(x)
        return out


class _RCANGroup(nn.Module):
    def __init__(self, width: int, blocks: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *(_RCAB(width, reduction) for _ in range(blocks)), _conv3(width, width)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.body(x)
        return out


class RCAN(nn.Module):
    """Residual channel attention network (Zhang et al., ECCV 2018), single-channel output.

    Parameters
    ----------
    in_frames, scale : int
        Input frames F and upsampling factor s.
    groups, blocks : int
        Residual groups and RCABs per group (RCAN paper: 10 x 20; default here 5 x 10, the
        size used for SIM by the same authors' rDL work).
    width, reduction : int
        Feature channels and channel-attention squeeze ratio.

    Notes
    -----
    (B, F, H, W) -> (B, 1, sH, sW), linear output (no sigmoid), float32.
    """

    architecture = "rcan"

    def __init__(
        self,
        in_frames: int,
        scale: int,
        groups: int = 5,
        blocks: int = 10,
        width: int = 64,
        reduction: int = 16,
    ) -> None:
        super().__init__()
        self.in_frames, self.scale = int(in_frames), int(scale)
        self.options: dict[str, Any] = {
            "groups": groups,
            "blocks": blocks,
            "width": width,
            "reduction": reduction,
        }
        self.head = _conv3(in_frames, width)
        self.trunk = nn.Sequential(
            *(_RCANGroup(width, blocks, reduction) for _ in range(groups)), _conv3(width, width)
        )
        self.upsample = nn.Sequential(_conv3(width, width * scale * scale), nn.PixelShuffle(scale))
        self.out = _conv3(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(self, x, self.in_frames)
        features = self.head(x)
        out: torch.Tensor = self.out(self.upsample(features + self.trunk(features)))
        return out


class _DoubleConv(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(_conv3(c_in, c_out), nn.ReLU(), _conv3(c_out, c_out), nn.ReLU())


class _UNetCore(nn.Module):
    """Encoder-decoder with skip concatenations; (B, c_in, H, W) -> (B, base, H, W)."""

    def __init__(self, c_in: int, depth: int, base: int) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"U-Net depth must be >= 1, got {depth}")
        self.depth = depth
        widths = [base * 2**level for level in range(depth + 1)]
        self.down = nn.ModuleList()
        c = c_in
        for width in widths[:-1]:
            self.down.append(_DoubleConv(c, width))
            c = width
        self.bottom = _DoubleConv(c, widths[-1])
        self.up = nn.ModuleList(
            _DoubleConv(widths[level + 1] + widths[level], widths[level])
            for level in reversed(range(depth))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = int(x.shape[-2]), int(x.shape[-1])
        multiple = 2**self.depth
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for block, skip in zip(self.up, reversed(skips), strict=True):
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, skip], dim=1))
        return x[..., :height, :width]


class UNet(nn.Module):
    """CARE-style U-Net (Weigert et al., Nat Methods 2018) for super-resolution.

    The input is upsampled bilinearly by ``scale`` first (as CARE does for isotropic/SR tasks),
    then a U-Net of ``depth`` levels and ``base`` channels maps it to one output channel.

    Notes
    -----
    (B, F, H, W) -> (B, 1, sH, sW), linear output, float32.
    """

    architecture = "unet"

    def __init__(self, in_frames: int, scale: int, depth: int = 2, base: int = 32) -> None:
        super().__init__()
        self.in_frames, self.scale = int(in_frames), int(scale)
        self.options: dict[str, Any] = {"depth": depth, "base": base}
        self.core = _UNetCore(in_frames, depth, base)
        self.out = nn.Conv2d(base, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(self, x, self.in_frames)
        if self.scale > 1:
            x = F.interpolate(
                x, scale_factor=float(self.scale), mode="bilinear", align_corners=False
            )
        out: torch.Tensor = self.out(self.core(x))
        return out


class SCUNet(nn.Module):
    """scU-Net: a U-Net on the raw SIM frames at camera resolution, pixel-shuffled at the end.

    Notes
    -----
    (B, F, H, W) -> (B, 1, sH, sW), linear output, float32.
    """

    architecture = "scunet"

    def __init__(self, in_frames: int, scale: int, depth: int = 3, base: int = 32) -> None:
        super().__init__()
        self.in_frames, self.scale = int(in_frames), int(scale)
        self.options: dict[str, Any] = {"depth": depth, "base": base}
        self.core = _UNetCore(in_frames, depth, base)
        self.upsample = nn.Sequential(
            _conv3(base, base * scale * scale), nn.ReLU(), nn.PixelShuffle(scale)
        )
        self.out = _conv3(base, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(self, x, self.in_frames)
        out: torch.Tensor = self.out(self.upsample(self.core(x)))
        return out
