"""Architectures: exact parameter counts, shapes, attention variants, precision."""

from __future__ import annotations

import inspect
from typing import get_args

import pytest
import torch
from torch import nn

from livesr.config import Architecture, ModelConfig
from livesr.models import (
    DFCAN,
    DFGANDiscriminator,
    DFGANGenerator,
    FourierChannelAttention,
    available_models,
    build_model,
)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("in_frames", "scale", "expected"),
    [(9, 2, 1_935_361), (1, 2, 1_930_753), (25, 3, 2_129_217)],
)
def test_dfcan_parameter_count_is_the_authors(in_frames: int, scale: int, expected: int) -> None:
    assert n_params(DFCAN(in_frames, scale)) == expected


def test_dfgan_parameter_counts_are_the_authors() -> None:
    assert n_params(DFGANGenerator(9, 2)) == 5_721_737
    assert n_params(DFGANDiscriminator()) == 4_852_481


def test_full_size_dfcan_forward_at_training_patch_size() -> None:
    model = DFCAN(9, 2).eval()
    with torch.inference_mode():
        y = model(torch.rand(1, 9, 128, 128))
    assert y.shape == (1, 1, 256, 256)
    assert y.dtype == torch.float32
    assert float(y.min()) > 0.0 and float(y.max()) < 1.0  # sigmoid output


@pytest.mark.parametrize("name", sorted(available_models()))
def test_every_registered_network_maps_frames_to_sr(name: str) -> None:
    if name == "dfgan_discriminator":
        config = ModelConfig(architecture=name, in_frames=1, scale=1, options={"widths": (4, 8)})
        out = build_model(config)(torch.rand(2, 1, 20, 24))
        assert out.shape == (2, 1)
        return
    if name == "piunet":  # physics-informed: [Wiener, WF] on the SR grid in, same grid out
        model = build_model(ModelConfig(architecture=name, in_frames=2, scale=1,
                                        options={"width": 8}))  # fmt: skip
        y = model(torch.rand(2, 2, 24, 40))
        assert y.shape == (2, 1, 24, 40)
        y.mean().backward()
        return
    tiny = {"dfcan": {"width": 16, "groups": 1, "blocks": 2, "size_psc": 8},
            "dfgan": {"width": 16, "groups": 1, "blocks": 2, "size_psc": 8},
            "dscan": {"width": 16, "groups": 1, "blocks": 2},
            "dfcan_plain": {"width": 16, "groups": 1, "blocks": 2},
            "rcan": {"width": 16, "groups": 1, "blocks": 2},
            "unet": {"base": 8}, "scunet": {"base": 8}}[name]  # fmt: skip
    model = build_model(ModelConfig(architecture=name, in_frames=9, scale=3, options=tiny))
    # Odd, non-square frames: every network must accept the camera ROI as it is.
    y = model(torch.rand(2, 9, 13, 18))
    assert y.shape == (2, 1, 39, 54)
    y.mean().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name", sorted(available_models()))
def test_options_classes_match_the_networks(name: str) -> None:
    from livesr.models._registry import _ARCHITECTURES

    assert set(available_models()) == set(get_args(Architecture))
    config = ModelConfig(architecture=name, in_frames=1 if "disc" in name else 9)
    if name == "piunet":
        config = ModelConfig(architecture=name, in_frames=2, scale=1)
    cls = _ARCHITECTURES[name][1]
    taken = set(inspect.signature(cls.__init__).parameters) - {
        "self", "in_frames", "scale", "in_channels"
    }  # fmt: skip
    assert set(config.kwargs()) == taken
    # Defaults agree: the network reports the options it was built with.
    assert build_model(config).options == config.kwargs()


def test_attention_variants_share_the_trunk() -> None:
    fourier = DFCAN(9, 2)
    spatial = build_model(ModelConfig(architecture="dscan"))
    plain = build_model(ModelConfig(architecture="dfcan_plain"))
    assert n_params(spatial) == n_params(fourier)
    assert n_params(fourier) - n_params(plain) == 16 * (36_928 + 260 + 320)


def test_spectrum_modes_give_the_same_network_output() -> None:
    torch.manual_seed(0)
    model = DFCAN(9, 2, groups=1, blocks=2, width=16, size_psc=32).eval()
    x = torch.rand(1, 9, 64, 40)
    outputs = {}
    for mode in ("fft", "dft", "tiled"):
        model.set_spectrum(mode)  # type: ignore[arg-type]
        with torch.inference_mode():
            outputs[mode] = model(x)
    torch.testing.assert_close(outputs["dft"], outputs["fft"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(outputs["tiled"], outputs["fft"], rtol=1e-5, atol=1e-6)


def test_spectral_branch_stays_fp32_under_autocast() -> None:
    fca = FourierChannelAttention(16, size_psc=16)
    seen: list[torch.dtype] = []
    fca.conv.register_forward_hook(lambda _m, args, _out: seen.append(args[0].dtype))
    x = torch.rand(1, 16, 32, 32) * 50
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = fca(x)
        trunk = nn.Conv2d(16, 16, 3)(x)
    assert trunk.dtype == torch.bfloat16  # autocast is really active around the layer
    assert seen == [torch.float32]
    assert y.dtype == torch.float32
    assert torch.isfinite(y).all()


def test_bad_inputs_and_options_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"expects \(B, 9, H, W\)"):
        DFCAN(9, 2, width=16, groups=1, blocks=1)(torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="unknown architecture 'dfcam'"):
        build_model(ModelConfig(architecture="dfcam"))
    with pytest.raises(ValueError, match=r"does not take option\(s\) \['depth'\]"):
        build_model(ModelConfig(architecture="dfcan", options={"depth": 3}))
    with pytest.raises(ValueError, match="width=8 is too small for reduction=16"):
        DFCAN(9, 2, width=8)
