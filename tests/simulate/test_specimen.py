from __future__ import annotations

import numpy as np
import pytest

from livesr.simulate import STRUCTURES, Specimen, simulate_sample


@pytest.mark.parametrize("structure", STRUCTURES)
def test_density_is_exact_at_any_pixel_size(structure: str) -> None:
    specimen = Specimen(structure, 6.0, seed=11)
    coarse = specimen.density(0.0, (60, 60), 0.05, origin_um=(1.0, 1.0))
    fine = specimen.density(0.0, (120, 120), 0.025, origin_um=(1.0, 1.0))
    assert coarse.max() > 0
    # Every other fine pixel centre is a coarse pixel centre: the same analytic value.
    np.testing.assert_allclose(fine[::2, ::2], coarse, rtol=1e-4, atol=1e-3 * coarse.max())


@pytest.mark.parametrize("structure", STRUCTURES)
def test_same_seed_same_stack_other_seed_other_stack(structure: str) -> None:
    a = simulate_sample(structure, size=32, level=5, seed=4)
    b = simulate_sample(structure, size=32, level=5, seed=4)
    c = simulate_sample(structure, size=32, level=5, seed=5)
    np.testing.assert_array_equal(a.raw, b.raw)
    np.testing.assert_array_equal(a.gt, b.gt)
    assert a.params == b.params
    assert not np.array_equal(a.raw, c.raw)


def test_specimen_moves_and_puncta_turn_over() -> None:
    specimen = Specimen("ccps", 8.0, seed=1)
    d0 = specimen.density(0.0, (128, 128), 0.0625)
    d1 = specimen.density(1.0, (128, 128), 0.0625)
    d60 = specimen.density(60.0, (128, 128), 0.0625)
    corr = [np.corrcoef(d0.ravel(), d.ravel())[0, 1] for d in (d1, d60)]
    assert corr[0] > 0.9  # a second later: nearly the same
    assert corr[1] < 0.6  # a minute later: pits have appeared, faded and moved
    n0, n60 = (np.count_nonzero(specimen.points(t)[2]) for t in (0.0, 60.0))
    assert n0 != n60
    frozen = Specimen("microtubules", 8.0, seed=1, motion=0.0)
    np.testing.assert_array_equal(
        frozen.density(0.0, (32, 32), 0.25), frozen.density(50.0, (32, 32), 0.25)
    )


def test_bad_specimen_arguments_give_clear_errors() -> None:
    with pytest.raises(ValueError, match="choose one of microtubules, ccps, er, f-actin"):
        Specimen("mitochondria", 5.0, seed=0)
    with pytest.raises(ValueError, match="field_um"):
        Specimen("er", 0.0, seed=0)
    with pytest.raises(ValueError, match="pixel_size_um"):
        Specimen("er", 5.0, seed=0).density(0.0, (8, 8), 0.0)


@pytest.mark.parametrize("structure", ["microtubules", "er"])
def test_blurred_rendering_equals_blurring_the_rendering(structure: str) -> None:
    # Rendering with blur_um widens every Gaussian (and spaces filament chains wider); it must
    # equal the sharp rendering blurred numerically.
    specimen = Specimen(structure, 4.0, seed=6)
    n, pixel, blur = 400, 0.01, 0.03
    sharp = specimen.density(0.0, (n, n), pixel).astype(np.float64)
    blurred = specimen.density(0.0, (n, n), pixel, blur_um=blur)
    q = np.fft.fftfreq(n, pixel)
    gauss = np.exp(-2 * np.pi**2 * blur**2 * (q[:, None] ** 2 + q[None, :] ** 2))
    reference = np.real(np.fft.ifft2(np.fft.fft2(sharp) * gauss))
    inner = (slice(20, -20), slice(20, -20))  # the FFT wraps the edges
    err = np.abs(blurred[inner] - reference[inner]).max()
    # Left: Gaussians are cut at 4 sigma (3e-4 of each peak), which adds up in dense parts.
    assert err < 3e-3 * reference[inner].max()
