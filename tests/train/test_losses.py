from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
skimage_metrics = pytest.importorskip("skimage.metrics")

from livesr.train._losses import batch_nrmse, mse_ssim_loss, ssim  # noqa: E402


def test_ssim_matches_scikit_image_gaussian_ssim() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((40, 40))
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1)
    expected = skimage_metrics.structural_similarity(
        a, b, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    got = ssim(torch.tensor(a)[None, None].float(), torch.tensor(b)[None, None].float())
    assert float(got) == pytest.approx(expected, abs=2e-3)


def test_loss_is_zero_for_a_perfect_prediction_and_grows_with_error() -> None:
    t = torch.rand(2, 1, 32, 32)
    assert float(mse_ssim_loss(t.clone(), t)) == pytest.approx(0.0, abs=1e-6)
    # Batch-wide min-max makes the loss blind to a global affine intensity change.
    assert float(mse_ssim_loss(3 * t + 1, t)) == pytest.approx(0.0, abs=1e-5)
    small = mse_ssim_loss(t + 0.05 * torch.randn_like(t), t)
    large = mse_ssim_loss(t + 0.3 * torch.randn_like(t), t)
    assert 0 < float(small) < float(large)


def test_loss_has_gradients() -> None:
    pred = torch.rand(1, 1, 16, 16, requires_grad=True)
    mse_ssim_loss(pred, torch.rand(1, 1, 16, 16)).backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()


def test_batch_nrmse_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    p, t = rng.random((3, 1, 8, 8)), rng.random((3, 1, 8, 8))

    def mm(x: np.ndarray) -> np.ndarray:
        return (x - x.min()) / (x.max() - x.min())

    expected = [np.linalg.norm(mm(t[i]) - mm(p[i])) / np.linalg.norm(mm(t[i])) for i in range(3)]
    got = batch_nrmse(torch.tensor(p), torch.tensor(t)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)
