"""DFCAN and the DFGAN generator (Qiao et al., Nat Methods 18, 194-202, 2021).

Layer for layer the authors' Keras networks (qc17-THU/DL-SR ``DFCAN16.py``, ``DFGAN50.py``;
see ``shared/reference/dfcan.md``): head conv 3x3 + GELU; ``groups`` residual groups of
``blocks`` FCABs each with a short skip per group and no long skip; tail conv to width*s^2 +
GELU, pixel shuffle, conv to 1 channel, sigmoid. GELU is the exact erf form.

The same trunk with ``attention="spatial"`` is the paper's DSCAN baseline and with
``attention="none"`` the attention-free ablation.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._attention import AttentionKind, make_attention
from ._spectrum import SPECTRUM_MODES, SpectralMagnitude, SpectrumMode

__all__ = ["DFCAN", "FCAB", "DFGANGenerator", "ResidualGroup"]


def _conv3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, padding=1)


class FCAB(nn.Module):
    """Fourier channel attention block: conv, GELU, conv, GELU, attention, + input.

    (B, C, H, W) -> (B, C, H, W). Keras conv order: a, b, then the attention's convs.
    """

    def __init__(self, width: int, attention: nn.Module) -> None:
        super().__init__()
        self.conv_a = _conv3(width, width)
        self.conv_b = _conv3(width, width)
        self.act = nn.GELU()
        self.attention = attention

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.conv_b(self.act(self.conv_a(x))))
        out: torch.Tensor = x + self.attention(y)
        return out


class ResidualGroup(nn.Module):
    """``blocks`` FCABs in sequence plus the group input (short skip). Shape-preserving."""

    def __init__(self, blocks: list[FCAB]) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.blocks(x)
        return out


class DFCAN(nn.Module):
    """Deep Fourier channel attention network.

    Parameters
    ----------
    in_frames : int
        Input channels F: 1 (wide-field SISR), 9 (linear SIM, angle-major), 25 (nonlinear SIM).
    scale : int
        Upsampling factor s (2 for linear SIM, 3 for nonlinear).
    groups, blocks : int
        Residual groups and FCABs per group (authors: 4 x 4).
    width : int
        Feature channels (authors: 64).
    gamma : float
        Spectrum power of the Fourier attention (authors: 0.8).
    spectrum : {"tiled", "dft", "fft"}
        Spectrum computation: "tiled" and "dft" export to TensorRT-compatible ONNX (MatMuls
        only); "fft" is the torch.fft reference. All give the same output to fp32 round-off.
    size_psc : int or None
        Side the spectrum is resized to before the attention convolution (authors: 128).
    reduction : int
        Squeeze ratio of the attention (authors: 16).
    attention : {"fourier", "spatial", "none"}
        "spatial" gives the DSCAN baseline, "none" the attention-free trunk.

    Notes
    -----
    ``forward``: float32 (B, F, H, W) in [0, 1] -> float32 (B, 1, sH, sW) in (0, 1). Any H, W.
    With the defaults: 1,935,361 parameters for 9 frames x2, 1,930,753 for 1 frame x2,
    2,129,217 for 25 frames x3. Not thread-safe (a module; one owner thread).
    """

    architecture = "dfcan"

    def __init__(
        self,
        in_frames: int,
        scale: int,
        groups: int = 4,
        blocks: int = 4,
        width: int = 64,
        gamma: float = 0.8,
        spectrum: SpectrumMode = "tiled",
        size_psc: int | None = 128,
        reduction: int = 16,
        attention: AttentionKind = "fourier",
    ) -> None:
        super().__init__()
        for name, value in (("in_frames", in_frames), ("scale", scale), ("groups", groups),
                            ("blocks", blocks), ("width", width)):  # fmt: skip
            if int(value) < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.in_frames = int(in_frames)
        self.scale = int(scale)
        self.options: dict[str, Any] = {
            "groups": groups,
            "blocks": blocks,
            "width": width,
            "gamma": gamma,
            "spectrum": spectrum,
            "size_psc": size_psc,
            "reduction": reduction,
            "attention": attention,
        }
        self.head = nn.Sequential(_conv3(in_frames, width), nn.GELU())

        def block() -> FCAB:
            att = make_attention(
                attention,
                width,
                gamma=gamma,
                reduction=reduction,
                spectrum=spectrum,
                size_psc=size_psc,
            )
            return FCAB(width, att)

        self.trunk = nn.Sequential(
            *(ResidualGroup([block() for _ in range(blocks)]) for _ in range(groups))
        )
        self.upsample = nn.Sequential(
            _conv3(width, width * scale * scale), nn.GELU(), nn.PixelShuffle(scale)
        )
        self.out = _conv3(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_frames:
            raise ValueError(
                f"{type(self).__name__} expects (B, {self.in_frames}, H, W) input, "
                f"got shape {tuple(x.shape)}"
            )
        return torch.sigmoid(self.out(self.upsample(self.trunk(self.head(x)))))

    def set_spectrum(self, mode: SpectrumMode) -> None:
        """Switch every Fourier attention to another spectrum computation (same weights)."""
        if mode not in SPECTRUM_MODES:
            raise ValueError(f"spectrum mode {mode!r} is unknown; use one of {SPECTRUM_MODES}")
        for module in self.modules():
            if isinstance(module, SpectralMagnitude):
                module.mode = mode
        self.options["spectrum"] = mode


class DFGANGenerator(DFCAN):
    """The DFGAN generator: DFCAN with 5 groups x 10 FCABs and spectrum power 0.1.

    Same parameters and shapes as `DFCAN`, other defaults; 5,721,737 parameters for 9 frames x2.
    """

    architecture = "dfgan"

    def __init__(
        self,
        in_frames: int,
        scale: int,
        groups: int = 5,
        blocks: int = 10,
        width: int = 64,
        gamma: float = 0.1,
        spectrum: SpectrumMode = "tiled",
        size_psc: int | None = 128,
        reduction: int = 16,
        attention: AttentionKind = "fourier",
    ) -> None:
        super().__init__(
            in_frames, scale, groups, blocks, width, gamma, spectrum, size_psc, reduction,
            attention,
        )  # fmt: skip
