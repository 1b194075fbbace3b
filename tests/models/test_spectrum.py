"""The FFT-free spectrum equals the authors' numpy/TF semantics for any frame size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from livesr.models import SpectralMagnitude, legacy_resize_matrix


def authors_spectrum(x: np.ndarray, gamma: float, size_psc: int | None) -> np.ndarray:
    """DL-SR's FCA input written out with numpy: FFT, power, quadrant swap, TF1 resize."""
    spec = (np.abs(np.fft.fft2(x)) + 1e-8) ** gamma
    height, width = x.shape[-2:]
    # Quadrant swap: row j holds frequency (j + n // 2) mod n (= ifftshift for odd n).
    spec = spec[..., (np.arange(height) + height // 2) % height, :]
    spec = spec[..., (np.arange(width) + width // 2) % width]
    if size_psc is None:
        return spec
    for axis in (-2, -1):
        n_in = spec.shape[axis]
        rows = []
        for dst in range(size_psc):
            src = dst * n_in / size_psc  # legacy TF1 sampling: no half-pixel offset
            i0 = int(np.floor(src))
            i1 = min(i0 + 1, n_in - 1)
            frac = src - i0
            rows.append(np.take(spec, i0, axis) * (1 - frac) + np.take(spec, i1, axis) * frac)
        spec = np.stack(rows, axis)
    return spec


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize("mode", ["fft", "dft", "tiled"])
@pytest.mark.parametrize(
    ("height", "width", "size_psc"),
    [(32, 32, 16), (33, 31, 16), (48, 20, 16), (64, 48, 16), (10, 12, 16), (15, 17, None)],
)
def test_spectrum_matches_authors_definition(
    mode: str, height: int, width: int, size_psc: int | None
) -> None:
    x = np.random.default_rng(height * width).random((2, 3, height, width))
    expected = authors_spectrum(x, 0.8, size_psc)
    got = SpectralMagnitude(0.8, mode, size_psc)(torch.tensor(x, dtype=torch.float32))  # type: ignore[arg-type]
    assert got.dtype == torch.float32
    assert got.shape == expected.shape
    assert rel_err(got.numpy(), expected) < 1e-5


@pytest.mark.parametrize(("height", "width"), [(128, 128), (127, 130), (256, 384), (5, 7)])
def test_dft_and_tiled_match_torch_fft_at_authors_size(height: int, width: int) -> None:
    x = torch.rand(1, 4, height, width, generator=torch.Generator().manual_seed(height)) + 0.5
    reference = SpectralMagnitude(0.8, "fft", 128)(x)
    for mode in ("dft", "tiled"):
        got = SpectralMagnitude(0.8, mode, 128)(x)  # type: ignore[arg-type]
        assert rel_err(got.numpy(), reference.numpy()) < 1e-5, mode
    # DFGAN's gamma 0.1 magnifies fp32 round-off of tiny magnitudes (torch.fft's too), so its
    # exactness is checked in float64.
    x64 = x.double()
    reference = SpectralMagnitude(0.1, "fft", 128)(x64)
    for mode in ("dft", "tiled"):
        got = SpectralMagnitude(0.1, mode, 128)(x64)  # type: ignore[arg-type]
        assert rel_err(got.numpy(), reference.numpy()) < 1e-10, mode


def test_tiled_folds_multiples_of_size_psc() -> None:
    # At 4 x size_psc the tiled spectrum is a 16-point DFT of the folded image, computed on
    # half the columns and mirrored: same numbers as the full DFT.
    x = torch.rand(1, 2, 64, 48, dtype=torch.float64)
    tiled = SpectralMagnitude(0.8, "tiled", 16)(x)
    full = SpectralMagnitude(0.8, "dft", 16)(x)
    torch.testing.assert_close(tiled, full, rtol=1e-12, atol=1e-12)


def test_legacy_resize_is_identity_at_equal_size_and_asymmetric_otherwise() -> None:
    np.testing.assert_array_equal(legacy_resize_matrix(8, 8), np.eye(8))
    half = legacy_resize_matrix(8, 4)
    # src = dst * 2: picks every second sample, starting at 0 (no half-pixel offset).
    np.testing.assert_array_equal(half, np.eye(8)[::2])
    np.testing.assert_allclose(legacy_resize_matrix(5, 8).sum(axis=1), 1.0)


def test_gradient_is_finite_on_a_blank_image() -> None:
    x = torch.zeros(1, 2, 16, 16, requires_grad=True)
    SpectralMagnitude(0.8, "dft", 16)(x).sum().backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("mode", ["dft", "tiled"])
def test_training_works_after_live_inference_at_the_same_shape(mode: str) -> None:
    # Live reconstruction (inference_mode) first fills the process-wide matrix cache; a
    # training step at the same frame size in the same process must still backpropagate.
    spectrum = SpectralMagnitude(0.8, mode, 16)  # type: ignore[arg-type]
    with torch.inference_mode():
        spectrum(torch.rand(1, 2, 40, 44))
    x = torch.rand(1, 2, 40, 44, requires_grad=True)
    spectrum(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_unknown_mode_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="spectrum mode 'fftw' is unknown"):
        SpectralMagnitude(0.8, "fftw")  # type: ignore[arg-type]
