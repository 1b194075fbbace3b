from __future__ import annotations

import json

import numpy as np
import pytest

from livesr.reconstruct import NormalizationStats, PercentileNormalizer


def _raw_stack(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(200.0, size=(9, 32, 32)).astype(np.uint16) + 100


def test_minmax_maps_the_whole_stack_jointly_to_unit_range() -> None:
    stack = _raw_stack()
    stack[4] += 300  # a brighter frame must stay brighter: one mapping for all frames
    norm, stats = PercentileNormalizer().normalize(stack)
    assert norm.dtype == np.float32
    assert norm.shape == stack.shape
    assert norm.min() == 0.0
    assert norm.max() == 1.0
    assert (stats.low, stats.high) == (stack.min(), stack.max())
    assert norm[4].mean() > norm[3].mean() + 0.2


def test_denormalize_inverts_normalize() -> None:
    stack = _raw_stack(1)
    normalizer = PercentileNormalizer()
    norm, stats = normalizer.normalize(stack)
    back = normalizer.denormalize(norm, stats)
    np.testing.assert_allclose(back, stack.astype(np.float32), rtol=1e-5, atol=1e-3)


def test_percentiles_clip_hot_pixels() -> None:
    stack = _raw_stack(2)
    stack[0, 5, 5] = 60000  # a hot pixel would squeeze everything else towards 0
    plain, _ = PercentileNormalizer().normalize(stack)
    robust, stats = PercentileNormalizer(0.1, 99.9).normalize(stack)
    assert stats.high < 1000
    assert robust[0, 5, 5] == 1.0
    assert robust.mean() > 10 * plain.mean()
    assert robust.min() >= 0.0


def test_flat_stack_maps_to_zeros_without_warnings() -> None:
    stack = np.full((9, 16, 16), 100, dtype=np.uint16)
    norm, stats = PercentileNormalizer().normalize(stack)
    assert not norm.any()
    assert stats == NormalizationStats(100.0, 100.0)


def test_batch_uses_one_mapping_per_stack() -> None:
    a, b = _raw_stack(3), _raw_stack(4) * 3
    norm, stats = PercentileNormalizer().normalize_batch(np.stack([a, b]))
    assert norm.shape == (2, 9, 32, 32)
    assert stats[0].high < stats[1].high
    np.testing.assert_allclose(norm[1].max(), 1.0)


def test_given_stats_are_applied() -> None:
    stack = _raw_stack(5)
    norm, stats = PercentileNormalizer(clip=False).normalize(stack, NormalizationStats(0, 1000))
    np.testing.assert_allclose(norm, stack / 1000, rtol=1e-6)
    assert stats.high == 1000


def test_provenance_is_json_ready() -> None:
    normalizer = PercentileNormalizer(1, 99)
    _, stats = normalizer.normalize(_raw_stack())
    text = json.dumps({**normalizer.to_dict(), **stats.to_dict()})
    assert '"p_low": 1.0' in text


@pytest.mark.parametrize(("low", "high"), [(-1, 100), (50, 50), (0, 101)])
def test_bad_percentiles_are_rejected(low: float, high: float) -> None:
    with pytest.raises(ValueError, match="p_low"):
        PercentileNormalizer(low, high)
