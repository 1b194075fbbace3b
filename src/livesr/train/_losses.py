"""Losses and validation metric of DFCAN/DFGAN training (torch).

The authors' "mse_ssim" loss: prediction and target are each min-max normalised over the whole
batch tensor, then ``MSE + w (1 - SSIM)`` with TensorFlow's SSIM (11x11 Gaussian window,
sigma 1.5, k1 0.01, k2 0.03, data range 1, "valid" windows). Tensors are (N, 1, H, W).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["batch_nrmse", "mse_ssim_loss", "ssim"]


def _gaussian_window(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    import torch

    coords = torch.arange(size, dtype=torch.float32, device=like.device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None].to(like.dtype)


def _minmax(x: torch.Tensor) -> torch.Tensor:
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo).clamp_min(1e-12)


def ssim(
    x: torch.Tensor, y: torch.Tensor, *, window: int = 11, sigma: float = 1.5
) -> torch.Tensor:
    """Mean SSIM of two (N, 1, H, W) tensors with data range 1 (scalar tensor).

    Raises
    ------
    ValueError
        If the images are smaller than the window.
    """
    import torch.nn.functional as F

    if x.shape[-1] < window or x.shape[-2] < window:
        raise ValueError(f"SSIM needs images of at least {window}x{window}, got {x.shape[-2:]}")
    w = _gaussian_window(window, sigma, x)
    c1, c2 = 0.01**2, 0.03**2
    mu_x, mu_y = F.conv2d(x, w), F.conv2d(y, w)
    sxx = F.conv2d(x * x, w) - mu_x**2
    syy = F.conv2d(y * y, w) - mu_y**2
    sxy = F.conv2d(x * y, w) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    return (num / den).mean()


def mse_ssim_loss(
    pred: torch.Tensor, target: torch.Tensor, ssim_weight: float = 0.1
) -> torch.Tensor:
    """``MSE + ssim_weight * (1 - SSIM)`` after batch-wide min-max normalisation (fp32).

    Parameters
    ----------
    pred : tensor, shape (N, 1, H, W)
        Network output.
    target : tensor, shape (N, 1, H, W)
        Ground truth.
    ssim_weight : float
        Weight of ``1 - SSIM``.

    Returns
    -------
    Scalar tensor, differentiable with respect to `pred`.
    """
    # The loss runs in fp32 even under autocast: SSIM's variance terms cancel badly in fp16.
    p, t = _minmax(pred.float()), _minmax(target.float())
    mse = ((p - t) ** 2).mean()
    return mse + ssim_weight * (1.0 - ssim(p, t))


def batch_nrmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image NRMSE ``||t - p|| / ||t||`` after per-image min-max normalisation.

    The authors' validation metric (and model-selection criterion).

    Returns
    -------
    Tensor, shape (N,)
    """
    n = pred.shape[0]
    p, t = pred.float().reshape(n, -1), target.float().reshape(n, -1)
    p = (p - p.min(1, keepdim=True).values) / (
        p.max(1, keepdim=True).values - p.min(1, keepdim=True).values
    ).clamp_min(1e-12)
    t = (t - t.min(1, keepdim=True).values) / (
        t.max(1, keepdim=True).values - t.min(1, keepdim=True).values
    ).clamp_min(1e-12)
    out: torch.Tensor = (t - p).norm(dim=1) / t.norm(dim=1).clamp_min(1e-12)
    return out
