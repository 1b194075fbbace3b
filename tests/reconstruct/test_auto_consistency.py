"""``--method auto`` refuses a network output less consistent with the raw frames than Wiener's.

Real parts: the shipped physics-informed network (torch), Wiener SIM, the `livesr.qc` raw
re-synthesis chi^2, simulated raw stacks. The only stand-in paints bright fake beads onto the
network's output for chosen stacks of a batch: structure the raw frames do not hold.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

pytest.importorskip("torch")

from livesr.config import OpticsConfig, PatternConfig
from livesr.reconstruct import ReconstructorInfo, StackReconstructor
from livesr.reconstruct._physics_rec import CHI2_MARGIN, REFUSED
from livesr.simulate import simulate_sample

SIZE = 64


class PaintedNetwork:
    """The network backend, with 40 bright beads painted onto the outputs of `stacks`."""

    def __init__(self, inner: Any, stacks: tuple[int, ...]) -> None:
        self.inner = inner
        self.stacks = stacks
        self._rng = np.random.default_rng(7)

    @property
    def info(self) -> ReconstructorInfo:
        return self.inner.info  # type: ignore[no-any-return]

    def warmup(self) -> None:
        self.inner.warmup()

    def close(self) -> None:
        self.inner.close()

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        out = np.array(self.inner(batch))
        sy, sx = out.shape[-2:]
        yy, xx = np.mgrid[:sy, :sx]
        for i in self.stacks:
            peak = float(np.percentile(out[i], 99.9))
            for y, x in self._rng.uniform(0.25, 0.75, (40, 2)) * (sy, sx):
                out[i] += peak * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 1.5**2))
        return out


def _auto(**extra: Any) -> StackReconstructor:
    micro = {"pattern": PatternConfig(), "optics": OpticsConfig(), "allow_nominal": True}
    return StackReconstructor.create(
        "auto", "torch", frame_shape=(SIZE, SIZE), microscope=micro, **extra
    )


def _stacks() -> NDArray[np.uint16]:
    """Two dim stacks (20 photons): the held-out table gives both to the network."""
    return np.stack([
        simulate_sample(s, size=SIZE, photons=20.0, seed=3, motion=0.0).raw[0]
        for s in ("microtubules", "ccps")
    ])  # fmt: skip


def _reconstruct(rec: StackReconstructor, stacks: NDArray[Any]) -> tuple[Any, list[Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rec.reconstruct_batch(stacks)


def test_a_normal_network_output_is_kept_and_its_check_recorded() -> None:
    srs, provs = _reconstruct(_auto(), _stacks())

    assert [p["method"] for p in provs] == ["network", "network"]
    for prov in provs:
        c = prov["consistency"]
        assert c["chi2_margin"] == CHI2_MARGIN
        assert 0.5 < c["chi2_wiener"] <= c["chi2_network"] <= (1 + CHI2_MARGIN) * c["chi2_wiener"]
    assert np.isfinite(srs).all()


def test_a_painted_network_output_is_refused_for_wiener_and_recorded() -> None:
    from livesr.qc import QualityChecker, pattern_state
    from livesr.reconstruct.conventional import repair_hot_pixels

    stacks = _stacks()
    plain, _ = _reconstruct(_auto(), stacks)
    rec = _auto()
    auto: Any = rec.reconstructor
    auto.network.network = PaintedNetwork(auto.network.network, stacks=(1,))

    srs, provs = _reconstruct(rec, stacks)

    # Per stack: the unpainted one keeps the network, the painted one gets Wiener's output.
    assert [p["method"] for p in provs] == ["network", REFUSED] == auto.last_choices
    np.testing.assert_allclose(srs[0], plain[0], rtol=1e-5, atol=1e-3)
    repaired = repair_hot_pixels(stacks[1].astype(np.float32))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wiener = auto.wiener_rec(repaired[None])[0, 0]
    np.testing.assert_array_equal(srs[1], wiener)
    c = provs[1]["consistency"]
    assert c["chi2_network"] > (1 + CHI2_MARGIN) * c["chi2_wiener"]
    # The recorded chi^2 is the qc module's, on the frames both methods saw.
    checker = QualityChecker(
        OpticsConfig(), (SIZE, SIZE), scale=2, pattern=pattern_state(auto.params)
    )
    assert c["chi2_wiener"] == pytest.approx(np.mean(checker.chi2(srs[1], repaired)), abs=1e-4)
    assert auto.report()["auto_choices"] == ["network", REFUSED]


def test_the_check_can_be_switched_off() -> None:
    rec = _auto(check_consistency=False)
    auto: Any = rec.reconstructor
    auto.network.network = PaintedNetwork(auto.network.network, stacks=(0, 1))

    _, provs = _reconstruct(rec, _stacks())

    assert [p["method"] for p in provs] == ["network", "network"]
    assert all("consistency" not in p for p in provs)
    assert auto.wiener_rec is None  # no Wiener reconstruction was paid for
    # The choice is part of the recorded spec: a rebuild (reprocess) keeps it off.
    assert rec.spec is not None and rec.spec.sim is not None
    assert rec.spec.sim.consistency_check is False
    rebuilt: Any = StackReconstructor.from_spec(rec.spec).reconstructor
    assert rebuilt.check_consistency is False
    assert _auto().spec.sim.consistency_check is True  # type: ignore[union-attr]


def test_a_non_finite_network_output_is_refused() -> None:
    rec = _auto()
    auto: Any = rec.reconstructor
    inner = auto.network.network

    class NaNNetwork(PaintedNetwork):
        def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
            out = np.array(self.inner(batch))
            out[:, :, :4, :4] = np.nan
            return out

    auto.network.network = NaNNetwork(inner, ())
    srs, provs = _reconstruct(rec, _stacks())

    assert [p["method"] for p in provs] == [REFUSED, REFUSED]
    assert provs[0]["consistency"]["chi2_network"] is None and np.isfinite(srs).all()
