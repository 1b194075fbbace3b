from __future__ import annotations

import numpy as np
import pytest

from livesr.reconstruct import PercentileNormalizer
from livesr.train import augment, foreground_mask, normalize_input, random_patch


def _pair(rng: np.random.Generator, frames: int = 3, size: int = 16, scale: int = 2):
    inp = rng.random((frames, size, size)).astype(np.float32)
    # Each GT pixel block equals the input's first frame, so alignment is checkable exactly.
    gt = np.kron(inp[0], np.ones((scale, scale), np.float32))
    return inp, gt


def test_augment_rotates_frames_with_the_ground_truth() -> None:
    rng = np.random.default_rng(0)
    inp, gt = _pair(rng)
    seen = set()
    for _ in range(40):
        a, b = augment(inp, gt, rng)
        np.testing.assert_array_equal(b, np.kron(a[0], np.ones((2, 2), np.float32)))
        seen.add(a[0].tobytes())
    # 4 rotations x 4 flips give 8 distinct dihedral images of a random patch.
    assert len(seen) == 8


def test_random_patch_stays_aligned_and_uses_the_foreground() -> None:
    rng = np.random.default_rng(1)
    inp, gt = _pair(rng, size=64)
    mask = np.zeros((64, 64), bool)
    mask[40:44, 10:14] = True
    for _ in range(10):
        a, b = random_patch(inp, gt, 16, 2, rng, mask)
        np.testing.assert_array_equal(b, np.kron(a[0], np.ones((2, 2), np.float32)))
        # The patch contains a foreground pixel near its centre.
        ys, xs = np.nonzero(np.isin(inp[0], a[0][6:10, 6:10]))
        assert np.any(mask[ys, xs])


def test_random_patch_rejects_bad_shapes() -> None:
    rng = np.random.default_rng(2)
    inp, gt = _pair(rng, size=16)
    with pytest.raises(ValueError, match="smaller than patch_size"):
        random_patch(inp, gt, 32, 2, rng)
    with pytest.raises(ValueError, match="does not match"):
        random_patch(inp, gt[:-2], 8, 2, rng)


def test_foreground_mask_finds_the_structure() -> None:
    gt = np.zeros((128, 128), np.float32)
    gt[60:70, 20:100] = 1.0  # a bright bar
    mask = foreground_mask(gt, 2, min_pixels=50)
    assert mask.shape == (64, 64)
    assert mask[32, 30] and not mask[5, 5]


def test_normalize_input_is_the_inference_normaliser() -> None:
    rng = np.random.default_rng(3)
    stack = rng.integers(100, 4000, size=(9, 8, 8)).astype(np.uint16)
    for pct in ((0.0, 100.0), (1.0, 99.0)):
        expected, _ = PercentileNormalizer(*pct).normalize(stack)
        np.testing.assert_array_equal(normalize_input(stack, pct), expected)
    out = normalize_input(stack)
    assert out.min() == 0.0 and out.max() == 1.0 and out.dtype == np.float32
