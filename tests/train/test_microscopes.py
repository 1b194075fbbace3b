"""The randomised-microscope simulator and the physics-informed training loop."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from livesr.reconstruct import WienerReconstructor
from livesr.train._microscopes import (
    draw_stack,
    make_field,
    random_microscope,
    random_photons,
)
from livesr.train._specimens import SPECIMEN_KINDS, random_specimen


def test_microscopes_span_the_recommended_ranges() -> None:
    rng = np.random.default_rng(0)
    scopes = [random_microscope(rng) for _ in range(300)]
    cutoffs = np.array([s.cutoff_per_px for s in scopes])
    fracs = np.array([s.k0_fraction for s in scopes])
    assert cutoffs.min() >= 0.28 and cutoffs.max() <= 0.42
    assert cutoffs.min() < 0.30 and cutoffs.max() > 0.40
    assert fracs.min() >= 0.75 and fracs.max() <= 0.99
    assert np.mean((fracs >= 0.90) & (fracs <= 0.98)) >= 0.5
    offsets = np.degrees([s.angles_rad[0] for s in scopes])
    assert offsets.min() < 10 and offsets.max() > 50
    photons = np.array([random_photons(rng) for _ in range(2000)])
    assert photons.min() >= 2 and photons.max() <= 200
    assert np.mean(photons <= 20) >= 0.5


@pytest.mark.parametrize("kind", sorted(SPECIMEN_KINDS))
def test_every_specimen_kind_is_a_positive_density_of_mean_one(kind: str) -> None:
    img = SPECIMEN_KINDS[kind](np.random.default_rng(1), (64, 64))
    assert img.shape == (64, 64) and np.isfinite(img).all() and img.min() >= 0
    mixed, _ = random_specimen(np.random.default_rng(2), (64, 64))
    assert mixed.mean() == pytest.approx(1.0, rel=1e-4)


def test_target_is_limited_to_the_sim_passband() -> None:
    rng = np.random.default_rng(3)
    field = make_field(rng, 64)
    scope = field.microscope
    spec = np.abs(np.fft.fft2(field.target))
    q = np.hypot(*np.meshgrid(np.fft.fftfreq(128), np.fft.fftfreq(128), indexing="ij")) * 2
    band = scope.cutoff_per_px * (1 + scope.k0_fraction)  # cycles per raw pixel
    assert spec[q > band * 1.01].max() < 1e-3 * spec[0, 0]


def test_true_parameters_follow_the_estimators_convention() -> None:
    """Wiener with the simulator's truth reconstructs its target (phase origin and sign)."""
    rng = np.random.default_rng(4)
    field = make_field(rng, 64)
    stack = draw_stack(rng, field, 2000.0, clean=True)
    scope = field.microscope
    from dataclasses import replace

    def corr(params) -> float:  # type: ignore[no-untyped-def]
        rec = WienerReconstructor(scope.pattern(), scope.optics(), params=params, wiener=0.1)
        out = rec(stack.raw[None])[0, 0]
        return float(np.corrcoef(out.ravel(), stack.target.ravel())[0, 1])

    # Half a pixel off in the phase origin: the convention the simulator once had wrong.
    shift = np.exp(1j * np.pi * scope.pixel_size_um * stack.params.k_per_um.sum(axis=1))
    moved = replace(stack.params, factors=stack.params.factors * shift[:, None])
    assert corr(stack.params) > 0.93
    assert corr(stack.params) > corr(moved) + 0.01


def test_camera_draws_have_offset_hot_pixels_and_integer_counts() -> None:
    rng = np.random.default_rng(5)
    field = make_field(rng, 64)
    stack = draw_stack(rng, field, 10.0)
    assert stack.raw.shape == (9, 64, 64)
    assert np.array_equal(stack.raw, np.round(stack.raw))
    assert stack.target.shape == (128, 128)


def test_training_steps_checkpoint_and_resume(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    from livesr.train._microscope_train import export_piunet, train_microscopes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row = train_microscopes(tmp_path, patches=8, compare_patches=4, batch=4, width=4,
                                buffer=2, crop=32, checkpoint_every=1)  # fmt: skip
        assert row["patches"] == {"pi": 8, "raw": 4}
        row = train_microscopes(tmp_path, patches=12, compare_patches=4, batch=4, width=4,
                                buffer=2, crop=32)  # fmt: skip
    assert row["patches"]["pi"] == 12  # resumed at 8
    path = export_piunet(tmp_path / "checkpoint_pi.pt", tmp_path / "m.safetensors")
    from livesr.models import read_card

    card = read_card(path)
    assert card.input == "wiener+widefield" and card.wiener_input is not None
    assert card.training_data["ranges"]["cutoff_cycles_per_px"] == [0.28, 0.42]
