from __future__ import annotations

import numpy as np
import pytest
import torch

from livesr.config import ModelConfig
from livesr.models import build_model
from livesr.reconstruct import TiledReconstructor, TorchReconstructor, tiled_apply
from livesr.reconstruct._tiling import tile_starts, tile_window


def _network(architecture: str, seed: int = 0) -> TorchReconstructor:
    torch.manual_seed(seed)
    options = {"groups": 1, "blocks": 1, "width": 8, "reduction": 4, "size_psc": 16}
    if architecture == "dfcan_plain":
        options = {"groups": 1, "blocks": 1, "width": 8}
    model = build_model(ModelConfig(architecture=architecture, in_frames=9, options=options))
    return TorchReconstructor(model, name=architecture)


def _stacks(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Smooth structure plus noise: closer to microscope data than white noise.
    yy, xx = np.mgrid[: shape[-2], : shape[-1]]
    base = 0.5 + 0.4 * np.sin(yy / 5.0) * np.cos(xx / 7.0)
    return (base + 0.1 * rng.random(shape)).astype(np.float32)


def test_tile_starts_cover_the_frame_with_the_last_tile_at_the_end() -> None:
    starts = tile_starts(100, 40, 16)
    assert starts == [0, 24, 48, 60]
    assert starts[-1] + 40 == 100
    assert tile_starts(30, 40, 16) == [0]
    with pytest.raises(ValueError, match="larger than the overlap"):
        tile_starts(100, 16, 16)


def test_neighbouring_windows_sum_to_one_across_the_overlap() -> None:
    tile, overlap, scale = 48, 16, 2
    left = tile_window(tile, scale, overlap, taper_start=False, taper_end=True)
    right = tile_window(tile, scale, overlap, taper_start=True, taper_end=False)
    shift = (tile - overlap) * scale
    total = np.zeros(shift + tile * scale)
    total[: tile * scale] += left
    total[shift:] += right
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    # Pixels next to an interior tile edge (zero padding in the network) get no weight.
    assert left[-overlap // 4 * scale :].max() == 0.0


def test_tiled_equals_whole_frame_for_a_local_network() -> None:
    # dfcan_plain has a receptive field of ~5 input pixels, below overlap / 4.
    net = _network("dfcan_plain")
    stacks = _stacks((2, 9, 90, 76))
    whole = net(stacks)
    tiled = tiled_apply(net, stacks, tile=(48, 40), overlap=24, scale=2, batch_size=3)
    assert tiled.shape == whole.shape == (2, 1, 180, 152)
    np.testing.assert_allclose(tiled, whole, rtol=1e-3, atol=1e-6)


def test_tiled_dfcan_has_no_seams() -> None:
    # The Fourier attention pools over the whole tile, so tiles differ a little from the whole
    # frame; the blend must keep that difference smooth (no step at tile boundaries).
    net = _network("dfcan")
    stacks = _stacks((1, 9, 96, 96), seed=1)
    whole = net(stacks)[0, 0]
    tiled = TiledReconstructor(net, 64, overlap=32)(stacks)[0, 0]
    rel = np.abs(tiled - whole) / np.abs(whole).mean()
    assert rel.max() < 1e-3
    steps = np.abs(np.diff(tiled - whole, axis=1))
    # Largest step between neighbouring output columns of the difference image: a seam would
    # show up as a step far above the typical one.
    assert steps.max() < 10 * np.median(steps) + 1e-4


def test_frames_smaller_than_the_tile_are_padded_and_cropped() -> None:
    net = _network("dfcan_plain")
    stacks = _stacks((1, 9, 20, 28))
    out = tiled_apply(net, stacks, tile=(32, 32), overlap=8, scale=2)
    assert out.shape == (1, 1, 40, 56)
    assert np.isfinite(out).all()


def test_tiled_reconstructor_accepts_any_size_and_keeps_info() -> None:
    net = _network("dfcan_plain")
    tiled = TiledReconstructor(net, 32, overlap=8, batch_size=4)
    assert tiled.info.backend == "torch"
    assert tiled.info.fixed_shape is None
    assert tiled(_stacks((1, 9, 50, 70))).shape == (1, 1, 100, 140)
    with pytest.raises(ValueError, match="tile_size is required"):
        TiledReconstructor(net)
