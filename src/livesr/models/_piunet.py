"""Residual U-Net on a physics-informed SIM input (networks.md section 5.2).

Input (N, 2, 2H, 2W) on the SR grid: the Wiener SIM reconstruction and the upsampled wide-field
image, both as ``(x - lo) / scale`` (`livesr.reconstruct.physics_input`). Pixel-unshuffle x2
brings them to the raw grid (8 channels) so compute stays at raw-frame cost; a three-level
U-Net predicts a correction, pixel-shuffled back and added to the Wiener channel. The network
therefore denoises and removes artifacts inside frequencies the physics already placed; the
optics (k0, phases, OTF) are handled upstream, which is what lets it transfer across
microscopes.

``raw_input=True`` is the same trunk on the paper's input instead (the 9 raw frames, each as
``(frame - lo) / scale``, N x 9 x H x W), adding its correction to the nearest-upsampled mean
frame: the comparison of the two input representations on the same budget.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["PIUNet"]


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.leaky_relu(self.conv1(x), 0.1))
        out: torch.Tensor = F.leaky_relu(y + self.skip(x), 0.1)
        return out


class PIUNet(nn.Module):
    """Residual U-Net for physics-informed SIM denoising.

    Parameters
    ----------
    in_frames : int
        Input channels on the SR grid (2: Wiener, wide-field), or raw frames (9) with
        `raw_input`.
    scale : int
        Output pixels per input pixel: 1 for the physics-informed input (already on the SR
        grid), 2 for `raw_input`. The trunk always works on the raw grid (factor 2).
    width : int
        Features at the raw-grid level; 2x and 4x at the lower levels.
    raw_input : bool
        Raw-frame input variant (see the module docstring).
    """

    architecture = "piunet"

    def __init__(
        self, in_frames: int = 2, scale: int = 1, width: int = 20, raw_input: bool = False
    ) -> None:
        super().__init__()
        if scale != (2 if raw_input else 1):
            raise ValueError(
                f"PIUNet takes scale {2 if raw_input else 1} with raw_input={raw_input}, "
                f"got {scale}"
            )
        self.in_frames = in_frames
        self.scale = scale
        self.factor = 2
        self.raw_input = raw_input
        self.width = width
        cin = in_frames if raw_input else in_frames * 4
        w1, w2, w3 = width, 2 * width, 4 * width
        self.enc1 = _Block(cin, w1)
        self.down1 = nn.Conv2d(w1, w2, 3, stride=2, padding=1)
        self.enc2 = _Block(w2, w2)
        self.down2 = nn.Conv2d(w2, w3, 3, stride=2, padding=1)
        self.mid = _Block(w3, w3)
        self.up2 = nn.ConvTranspose2d(w3, w2, 2, stride=2)
        self.dec2 = _Block(2 * w2, w2)
        self.up1 = nn.ConvTranspose2d(w2, w1, 2, stride=2)
        self.dec1 = _Block(2 * w1, w1)
        self.out = nn.Conv2d(w1, 4, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        assert self.out.bias is not None
        nn.init.zeros_(self.out.bias)

    @property
    def options(self) -> dict[str, object]:
        """Constructor options beyond in_frames/scale (as `PIUNetOptions`)."""
        return {"width": self.width, "raw_input": self.raw_input}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, 2H, 2W) physics-informed (or (N, 9, H, W) raw) -> (N, 1, 2H, 2W)."""
        if self.raw_input:
            base = F.interpolate(x.mean(dim=1, keepdim=True), scale_factor=2.0, mode="nearest")
            h = x
        else:
            base = x[:, :1]
            h = F.pixel_unshuffle(x, self.factor)
        e1 = self.enc1(h)
        e2 = self.enc2(F.leaky_relu(self.down1(e1), 0.1))
        m = self.mid(F.leaky_relu(self.down2(e2), 0.1))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        out: torch.Tensor = base + F.pixel_shuffle(self.out(d1), self.factor)
        return out
