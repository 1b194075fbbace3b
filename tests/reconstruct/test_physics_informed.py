"""The physics-informed reconstructor (Wiener, then a network) and ``--method auto``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from livesr.config import OpticsConfig, PatternConfig  # noqa: E402
from livesr.reconstruct._physics_rec import measured_photons, network_wins  # noqa: E402
from livesr.simulate import simulate_sample  # noqa: E402

OPTICS = OpticsConfig(na=1.2, immersion_index=1.33, emission_um={"em": 0.6}, pixel_size_um=0.08)
PATTERN = PatternConfig(k0_fraction=0.8, angle_offset_deg=23.0, modulation=0.7)
TABLE = [
    {"photons": 5.0, "measured": 5.0, "network": 0.90, "wiener": 0.85},
    {"photons": 20.0, "measured": 20.0, "network": 0.95, "wiener": 0.94},
    {"photons": 200.0, "measured": 200.0, "network": 0.97, "wiener": 0.98},
]


def _weights(tmp_path: Path, table: list[dict[str, float]] | None = None) -> Path:
    from livesr.models import ModelCard, Normalisation, save_weights
    from livesr.models._piunet import PIUNet

    torch.manual_seed(0)
    net = PIUNet(2, 1, 4)
    torch.nn.init.normal_(net.out.weight, std=0.05)  # not the identity: the net acts
    card = ModelCard(
        name="tiny-pi", architecture="piunet", in_frames=2, scale=1,
        options=net.options, normalisation=Normalisation(method="none"),
        input="wiener+widefield", wiener_input=0.05, auto_table=table or TABLE,
    )  # fmt: skip
    path = tmp_path / "tiny-pi.safetensors"
    save_weights(net.eval(), path, card)
    return path


def _raw(photons: float, seed: int = 1) -> np.ndarray:
    s = simulate_sample("microtubules", size=64, photons=photons, seed=seed, motion=0.0,
                        optics=OPTICS, pattern=PATTERN)  # fmt: skip
    return s.raw[0]


def _create(model: str, **extra):  # type: ignore[no-untyped-def]
    from livesr.reconstruct import StackReconstructor

    micro = {"pattern": PATTERN, "optics": OPTICS, "allow_nominal": True}
    return StackReconstructor.create(model, "torch", frame_shape=(64, 64), microscope=micro,
                                     **extra)  # fmt: skip


def test_physics_informed_model_runs_wiener_first_and_rebuilds_from_its_spec(
    tmp_path: Path,
) -> None:
    from livesr.reconstruct import StackReconstructor

    path = _weights(tmp_path)
    raw = _raw(50.0)
    rec = _create(str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sr, prov = rec(raw)
    assert sr.shape == (128, 128) and np.isfinite(sr).all()
    assert "sim_parameters" in prov  # the Wiener step's estimate is recorded
    spec = rec.spec
    assert spec is not None and spec.sim is not None and spec.sim.parameters is not None
    again = StackReconstructor.from_spec(spec)
    sr2, _ = again(raw)
    np.testing.assert_allclose(sr2, sr, rtol=1e-5, atol=1e-4)


def test_physics_informed_model_without_the_instrument_says_what_it_needs(
    tmp_path: Path,
) -> None:
    from livesr.reconstruct import StackReconstructor

    with pytest.raises(TypeError, match="pattern=PatternConfig"):
        StackReconstructor.create(str(_weights(tmp_path)), "torch")


def test_output_does_not_move_when_a_few_hot_pixels_are_cleaned(tmp_path: Path) -> None:
    rec = _create(str(_weights(tmp_path)))
    raw = _raw(20.0)
    hot = raw.copy()
    rng = np.random.default_rng(0)
    ys, xs = rng.integers(4, 60, 5), rng.integers(4, 60, 5)
    hot[:, ys, xs] = 60000  # five hot pixels in every frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean, _ = rec(raw)
        dirty, _ = rec(hot)
    span = float(np.percentile(clean, 99.9) - np.percentile(clean, 0.1))
    assert np.abs(dirty - clean).max() < 0.05 * span
    assert np.corrcoef(dirty.ravel(), clean.ravel())[0, 1] > 0.999


def test_measured_photons_track_the_light_level() -> None:
    levels = [measured_photons(_raw(p).astype(np.float32)) for p in (10.0, 50.0, 200.0)]
    assert 3 < levels[0] < levels[1] < levels[2]
    assert levels[2] > 5 * levels[0]


def test_network_wins_interpolates_the_table() -> None:
    assert network_wins(TABLE, 3.0) and network_wins(TABLE, 10.0)
    assert not network_wins(TABLE, 150.0) and not network_wins(TABLE, 1000.0)
    assert not network_wins([], 10.0)


def test_auto_picks_per_stack_and_records_the_choice(tmp_path: Path) -> None:
    from livesr.models import WEIGHTS_DIR
    from livesr.reconstruct import StackReconstructor

    path = _weights(tmp_path)
    # "auto" resolves the shipped model by name: point it at the tiny one for the test.
    import livesr.reconstruct._physics_rec as pr

    old = pr.DEFAULT_PHYSICS_MODEL
    pr.DEFAULT_PHYSICS_MODEL = str(path)
    try:
        rec = _create("auto")
    finally:
        pr.DEFAULT_PHYSICS_MODEL = old
    assert WEIGHTS_DIR.is_dir()
    stacks = np.stack([_raw(5.0), _raw(2000.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        srs, provs = rec.reconstruct_batch(stacks)
    assert [p["method"] for p in provs] == ["network", "wiener"]
    assert provs[0]["signal_photons"] < provs[1]["signal_photons"]
    assert srs.shape == (2, 128, 128) and np.isfinite(srs).all()
    assert rec.spec is not None and rec.spec.model == "auto"
    assert isinstance(rec, StackReconstructor)
