"""The demo microscope's sample moves physically: smooth in time, steady in density."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from livesr.simulate import Specimen

pytest.importorskip("pymmcore_plus")


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.fixture(scope="module")
def demo_frames() -> dict[tuple[int, str], np.ndarray]:
    """(t, channel) -> raw stack (9, 64, 64) of a 3-time-point two-colour demo run."""
    import useq

    from livesr.acquire import open_core, sim_events

    core = open_core("demo")
    frames: dict[tuple[int, str], dict[int, np.ndarray]] = defaultdict(dict)

    def on_frame(img: np.ndarray, event: Any, *_: Any) -> None:
        i = event.index
        frames[(i["t"], event.channel.config)][i["a"] * 3 + i["ph"]] = img.astype(np.float32)

    try:
        core.setProperty("Camera", "Size", 64)
        core.setProperty("Camera", "Photons", 2000.0)
        core.setExposure(5.0)
        seq = useq.MDASequence(channels=["488", "561"], time_plan={"interval": 0.5, "loops": 3})
        core.mda.events.frameReady.connect(on_frame)
        core.mda.run(list(sim_events(seq)))
    finally:
        core.unloadAllDevices()
    return {key: np.stack([f[k] for k in range(9)]) for key, f in frames.items()}


def test_frames_of_a_stack_show_the_same_sample(demo_frames: dict) -> None:
    # The three phases of one angle sum to the wide-field image (the pattern cancels), so the
    # per-angle wide-fields of one stack must agree if the sample did not jump mid-stack.
    for (t, channel), stack in demo_frames.items():
        per_angle = stack.reshape(3, 3, *stack.shape[1:]).mean(1)
        for a in (1, 2):
            assert _corr(per_angle[0], per_angle[a]) > 0.95, (t, channel, a)


def test_time_points_show_the_same_field_moving_slowly(demo_frames: dict) -> None:
    for channel in ("488", "561"):
        wf = [demo_frames[(t, channel)].mean(0) for t in range(3)]
        assert _corr(wf[0], wf[1]) > 0.95, channel
        assert _corr(wf[1], wf[2]) > 0.95, channel
        # Pattern-matched raw frames of consecutive time points agree too.
        assert _corr(demo_frames[(0, channel)][4], demo_frames[(1, channel)][4]) > 0.9


def _pits(density: np.ndarray, threshold: float) -> int:
    from scipy.ndimage import maximum_filter

    peaks = (density == maximum_filter(density, size=5)) & (density > threshold)
    return int(np.count_nonzero(peaks))


def test_pit_density_is_steady_and_the_sample_keeps_changing() -> None:
    specimen = Specimen("ccps", 12.0, seed=3)

    def image(t: float) -> np.ndarray:
        return specimen.density(t, (120, 120), 0.1, blur_um=0.1)

    threshold = 0.3 * float(np.percentile(image(0.0), 99.5))
    counts = [_pits(image(t), threshold) for t in np.arange(0.0, 600.0, 20.0)]
    assert min(counts) > 30 and max(counts) / min(counts) < 1.5, counts
    assert _corr(image(0.0), image(120.0)) < 0.6  # pits formed and faded in two minutes


def test_microtubules_move_well_under_a_pixel_per_burst() -> None:
    fil = Specimen("microtubules", 8.0, seed=1)._points.__self__  # type: ignore[attr-defined]
    y0, x0, _ = fil.nodes(10.0)
    y1, x1, _ = fil.nodes(10.045)  # a 9-frame burst at 5 ms exposure
    assert np.hypot(y1 - y0, x1 - x0).max() < 0.25 * 0.0626  # um: a quarter pixel
