from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from livesr.evaluate import nrmse
from livesr.models import bundled_weights, read_card
from livesr.reconstruct import StackReconstructor, fourier_upsample, widefield
from livesr.simulate import simulate_sample


@pytest.mark.parametrize(("name", "frames"), [("dfcan-sim", 9), ("dfcan-sisr", 1)])
def test_bundled_cards_say_how_they_were_trained(name: str, frames: int) -> None:
    card = read_card(bundled_weights()[name])
    assert card.in_frames == frames and card.scale == 2
    assert "livesr train --config examples/configs/bundled_" in card.training_command
    assert card.training_data["source"] == "simulated"
    assert card.training_data["seed"] >= 1_000_000
    assert card.training_data["wall_time_s"] > 0
    assert "Reduced DFCAN" in card.description


def test_bundled_models_beat_widefield_on_a_held_out_low_light_field() -> None:
    sample = simulate_sample("microtubules", size=64, level=1, seed=7, motion=0.0)
    raw, gt = sample.raw[0], sample.gt[0]
    wf_error = nrmse(fourier_upsample(widefield(raw), 2), gt)
    for name in ("dfcan-sim", "dfcan-sisr"):
        sr, provenance = StackReconstructor.create(name, "torch")(raw)
        assert sr.shape == gt.shape and provenance["in_frames"] in (1, 9)
        assert nrmse(sr, gt) < wf_error, name


def test_sisr_model_sees_the_widefield_mean_of_a_raw_stack() -> None:
    sample = simulate_sample("ccps", size=48, level=5, seed=8, motion=0.0)
    raw = sample.raw[0]
    sr_fn = StackReconstructor.create("dfcan-sisr", "torch")
    from_raw, _ = sr_fn(raw)
    from_wf, _ = sr_fn(raw.mean(axis=0, dtype=np.float32)[None])
    np.testing.assert_allclose(from_raw, from_wf, rtol=1e-5, atol=1e-3)
