from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import normalized_root_mse, peak_signal_noise_ratio, structural_similarity

from livesr.evaluate import fit_affine, ms_ssim, normalize_minmax, nrmse, psnr, ssim


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:192, 0:192]
    truth = np.sin(x / 7.0) ** 2 + np.cos(y / 11.0) + 0.3 * np.sin((x + y) / 3.0)
    noisy = truth + rng.normal(0, 0.3, truth.shape)
    return noisy, truth


def test_authors_convention_matches_scikit_image_on_minmax_data(pair) -> None:  # type: ignore[no-untyped-def]
    image, truth = pair
    a, b = normalize_minmax(image), normalize_minmax(truth)
    assert nrmse(image, truth) == pytest.approx(normalized_root_mse(b, a), rel=1e-9)
    assert psnr(image, truth) == pytest.approx(peak_signal_noise_ratio(b, a, data_range=1))
    expected = structural_similarity(b, a, data_range=1.0, win_size=7)
    assert ssim(image, truth) == pytest.approx(expected, abs=1e-6)


def test_photometric_convention_ignores_gain_and_offset(pair) -> None:  # type: ignore[no-untyped-def]
    image, truth = pair
    scaled = 37.0 * image + 100.0
    assert nrmse(scaled, truth, convention="photometric") == pytest.approx(
        nrmse(image, truth, convention="photometric")
    )
    assert nrmse(5 * truth - 3, truth, convention="photometric") < 1e-9
    np.testing.assert_allclose(fit_affine(2 * truth + 1, truth), truth, atol=1e-9)
    with pytest.raises(ValueError, match="convention"):
        nrmse(image, truth, convention="other")  # type: ignore[arg-type]


def test_ms_ssim_orders_images_by_quality(pair) -> None:  # type: ignore[no-untyped-def]
    image, truth = pair
    assert ms_ssim(truth, truth) == pytest.approx(1.0)
    rng = np.random.default_rng(2)
    worse = truth + rng.normal(0, 0.8, truth.shape)
    assert 0 < ms_ssim(worse, truth) < ms_ssim(image, truth) < 1
    # Small images use fewer scales instead of failing.
    assert 0 < ms_ssim(image[:64, :64], truth[:64, :64]) < 1


def test_shapes_must_match(pair) -> None:  # type: ignore[no-untyped-def]
    image, truth = pair
    with pytest.raises(ValueError, match="same shape"):
        ssim(image[:-1], truth)
