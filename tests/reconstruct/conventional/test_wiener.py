from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from jin_data import JIN, JIN_OPTICS, JIN_PATTERN, raw_sampling

from livesr.config import OpticsConfig, PatternConfig
from livesr.evaluate import decorrelation_resolution, nrmse
from livesr.io import read_otf, read_stack
from livesr.reconstruct import (
    RadialOTF,
    Reconstructor,
    WienerReconstructor,
    create_reconstructor,
    estimate_parameters,
    fourier_upsample,
    richardson_lucy,
    widefield,
)
from livesr.simulate import simulate_sample

OTF = Path("dlsr/rDL-SIM/src/sim_fitting/OTF/TIRF488_cam1_0_z30_OTF2d.mrc")


@pytest.fixture(scope="module", params=[7, 9])
def upper_level(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return simulate_sample("microtubules", size=192, level=request.param, seed=21)


def test_is_a_reconstructor_with_the_promised_shapes() -> None:
    sample = simulate_sample("er", size=96, level=8, seed=3, timepoints=2)
    rec = WienerReconstructor(PatternConfig.linear(), OpticsConfig())
    assert isinstance(rec, Reconstructor)
    assert rec.info.scale == 2 and rec.info.in_frames == 9 and rec.info.backend == "wiener"
    out = rec(sample.raw.astype(np.float32))
    assert out.shape == (2, 1, 192, 192) and out.dtype == np.float32
    # Counts per SR pixel: the mean matches the wide-field mean.
    assert out[0, 0].mean() == pytest.approx(sample.wf[0].mean(), rel=0.02)
    with pytest.raises(ValueError, match=r"batch \(N, F, Y, X\)"):
        rec(sample.raw[0])
    rec.close()
    with pytest.raises(RuntimeError, match="closed"):
        rec(sample.raw)


def test_beats_widefield_resolution_and_error_at_high_signal(upper_level) -> None:  # type: ignore[no-untyped-def]
    raw, gt = upper_level.raw, upper_level.gt[0]
    rec = WienerReconstructor(PatternConfig.linear(), OpticsConfig())
    sr = rec(raw)[0, 0]
    assert rec.params is not None and rec.params.ok
    wf_res = decorrelation_resolution(widefield(raw[0]), 62.6)
    sr_res = decorrelation_resolution(sr, 31.3)
    assert wf_res / sr_res >= 1.7
    # Photometric NRMSE: the min-max ("authors") convention penalises Wiener's negative
    # ringing and is reported by the sweep, but it is not a fidelity measure.
    wf_up = widefield(raw[0], scale=2)
    assert nrmse(sr, gt, convention="photometric") < 0.5 * nrmse(
        wf_up, gt, convention="photometric"
    )


def test_parameters_are_estimated_once_and_cached() -> None:
    sample = simulate_sample("er", size=64, level=8, seed=4, timepoints=2)
    rec = WienerReconstructor(PatternConfig.linear(), OpticsConfig())
    params = rec.calibrate(sample.raw[0])
    first = rec(sample.raw[:1])
    assert rec.params is params
    again = rec(sample.raw[:1])
    np.testing.assert_array_equal(first, again)
    # A new frame size rebuilds the filters but keeps the (size-independent) parameters.
    crop = rec(sample.raw[:1, :, :48, :48])
    assert crop.shape == (1, 1, 96, 96) and rec.params is params
    report = rec.report()
    assert report["wiener"] == rec.wiener and report["ok"]
    assert len(report["angles"]) == 3


def test_openblas_runs_single_threaded_during_a_stack_and_is_restored_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The band separation's tiny products woke OpenBLAS's pool, whose spin-waiting threads
    # doubled the CPU cost per stack (bench: --wiener, cpu_ms_p50).
    from threadpoolctl import threadpool_info

    def openblas_threads() -> list[int]:
        return [
            lib["num_threads"] for lib in threadpool_info() if lib["internal_api"] == "openblas"
        ]

    if not openblas_threads():
        pytest.skip("numpy/scipy here are not built on OpenBLAS")
    sample = simulate_sample("er", size=64, level=8, seed=4)
    rec = WienerReconstructor(PatternConfig.linear(), OpticsConfig())
    rec.calibrate(sample.raw[0])
    before = openblas_threads()
    during: list[list[int]] = []
    original = WienerReconstructor._one

    def spy(self: WienerReconstructor, frames: np.ndarray) -> np.ndarray:
        during.append(openblas_threads())
        return original(self, frames)

    monkeypatch.setattr(WienerReconstructor, "_one", spy)
    rec(sample.raw[:2].astype(np.float32))
    assert during and all(set(threads) == {1} for threads in during)
    assert openblas_threads() == before


def test_fixed_parameters_and_the_factory_give_the_same_image() -> None:
    sample = simulate_sample("er", size=64, level=7, seed=5)
    pattern, optics = PatternConfig.linear(), OpticsConfig()
    params = estimate_parameters(sample.raw[0], pattern, optics)
    a = WienerReconstructor(pattern, optics, params=params, wiener=0.1)(sample.raw)
    b = create_reconstructor("wiener", pattern=pattern, optics=optics, params=params, wiener=0.1)
    np.testing.assert_allclose(a, b(sample.raw.astype(np.float32)), rtol=1e-5, atol=1e-3)


def test_real_3beam_data_resolves_better_than_the_widefield_average(shared_data: Path) -> None:
    frames = raw_sampling(read_stack(shared_data / JIN / "raw_high_light").data[:15])
    rec = WienerReconstructor(JIN_PATTERN, JIN_OPTICS, search="free", scale=2)
    sr = rec(frames[None])[0, 0]
    px = JIN_OPTICS.pixel_size_um
    assert decorrelation_resolution(sr, px / 2) < 0.9 * decorrelation_resolution(
        widefield(frames), px
    )


def test_nonlinear_5x5_gives_x3() -> None:
    sample = simulate_sample("f-actin", size=64, level=9, mode="nonlinear", seed=6)
    pattern = PatternConfig.nonlinear()
    rec = WienerReconstructor(pattern, OpticsConfig())
    sr = rec(sample.raw)[0, 0]
    assert sr.shape == (192, 192)
    assert rec.params is not None and rec.params.n_orders == 2
    gt = sample.gt[0]
    wf = widefield(sample.raw[0], scale=3)
    assert nrmse(sr, gt, convention="photometric") < nrmse(wf, gt, convention="photometric")


def test_measured_otf_and_richardson_lucy(shared_data: Path) -> None:
    # The measured OTF (rDL-SIM TIRF, 488 nm) is < 1 % beyond 5 cycles/um: keep k inside it.
    pattern = PatternConfig.linear(k0_fraction=0.75)
    sample = simulate_sample("microtubules", size=96, level=8, seed=8, pattern=pattern)
    optics = OpticsConfig.single(na=1.49, wavelength_um=0.525, pixel_size_um=0.0626)
    measured = read_otf(shared_data / OTF)
    otf = RadialOTF.from_optics(optics, measured=(measured.radial, measured.dk_per_um))
    rec = WienerReconstructor(pattern, optics, otf=otf)
    sr = rec(sample.raw)[0, 0]
    assert rec.params is not None and rec.params.ok
    assert np.isfinite(sr).all() and sr.shape == (192, 192)
    rl = richardson_lucy(widefield(sample.raw[0]), optics, iterations=15)
    assert rl.shape == (192, 192) and rl.min() >= 0
    gt = sample.gt[0]
    wf = fourier_upsample(widefield(sample.raw[0]), 2)
    assert nrmse(rl, gt, convention="photometric") < nrmse(wf, gt, convention="photometric")
    with pytest.raises(ValueError, match="iterations"):
        richardson_lucy(widefield(sample.raw[0]), optics, iterations=0)
