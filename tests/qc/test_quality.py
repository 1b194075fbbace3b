"""QC on a simulated, Wiener-reconstructed field: correct vs painted vs wrong pattern.

Non-default optics and pattern (NA 1.35, 600 nm, 70 nm pixels, k0 = 0.85 kc at 20 deg,
m = 0.7) so nothing relies on livesr's defaults.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pytest
from numpy.typing import NDArray

from livesr.config import OpticsConfig, PatternConfig
from livesr.qc import PatternState, QualityChecker, QualityRecord, SRGrid, pattern_state
from livesr.reconstruct import WienerReconstructor
from livesr.reconstruct.conventional import SIMFitWarning, SIMParameters
from livesr.simulate import simulate_sample

OPTICS = OpticsConfig.single(na=1.35, wavelength_um=0.6, pixel_size_um=0.07)
PATTERN = PatternConfig.linear(k0_fraction=0.85, angle_offset_deg=20.0, modulation=0.7)
SIZE = 64
BEADS = (70, 50)  # SR pixel where the fake beads are painted


class Field(NamedTuple):
    raw: NDArray[np.uint16]
    gt: NDArray[np.float32]
    sr: NDArray[np.float32]
    photons: float
    truth: PatternState


@pytest.fixture(scope="module")
def field() -> Field:
    sample = simulate_sample(
        "microtubules", size=SIZE, level=4, optics=OPTICS, pattern=PATTERN, seed=3, motion=0.0
    )
    params = SIMParameters.nominal(PATTERN, OPTICS, (SIZE, SIZE))  # the simulator's exact ones
    wiener = WienerReconstructor(PATTERN, OPTICS, params=params)
    sr = wiener(sample.raw[:1].astype(np.float32))[0, 0]
    truth = PatternState.from_config(PATTERN, OPTICS)
    return Field(sample.raw[0], sample.gt[0], sr, sample.params["photons"], truth)


@pytest.fixture(scope="module")
def checker(field: Field) -> QualityChecker:
    return QualityChecker(OPTICS, (SIZE, SIZE), pattern=field.truth)


def painted_beads(sr: NDArray[np.float32]) -> NDArray[np.float32]:
    yy, xx = np.mgrid[: sr.shape[0], : sr.shape[1]]
    amplitude = float(np.percentile(sr, 99.5) - np.median(sr))
    out = sr.copy()
    for dy, dx in [(0, 0), (6, 4), (-5, 7)]:
        r2 = (yy - BEADS[0] - dy) ** 2 + (xx - BEADS[1] - dx) ** 2
        out += np.float32(amplitude) * np.exp(-r2 / (2 * 1.5**2)).astype(np.float32)
    return out


def test_correct_sr_is_consistent_with_its_raw_frames(
    field: Field, checker: QualityChecker
) -> None:
    wiener = checker.check(field.sr, raw=field.raw).record
    gt = checker.check(field.gt, raw=field.raw).record
    assert wiener.rsp > 0.98 and gt.rsp > 0.98
    # chi^2 ~ 1: the frames are explained down to shot and read noise (measured: Wiener
    # 0.965-0.968, ground truth 0.994-1.005).
    assert all(0.9 < c < 1.1 for c in wiener.chi2 + gt.chi2), (wiener.chi2, gt.chi2)
    assert len(wiener.chi2) == PATTERN.n_angles
    assert wiener.out_of_band < 1e-3
    assert wiener.modulation == pytest.approx((0.7,) * 3)
    # Mean photons over the structure: signal plus the camera's 5 background photons.
    assert wiener.photons == pytest.approx(field.photons + 5.0, rel=0.1)


def test_painted_beads_light_up_the_map_and_lower_rsp(
    field: Field, checker: QualityChecker
) -> None:
    correct = checker.check(field.sr, raw=field.raw, map_grid="sr")
    painted = checker.check(painted_beads(field.sr), raw=field.raw, map_grid="sr")
    assert correct.error_map is not None and painted.error_map is not None
    assert painted.error_map.shape == field.sr.shape
    # Measured: rsp 0.988 -> 0.974; chi^2 0.97 -> 1.28.
    assert painted.record.rsp < correct.record.rsp - 0.005
    assert min(painted.record.chi2) > max(correct.record.chi2) + 0.15
    y, x = BEADS
    window = (slice(y - 8, y + 8), slice(x - 8, x + 8))
    assert painted.error_map[window].mean() > 3 * correct.error_map[window].mean()
    peak = np.unravel_index(np.argmax(painted.error_map), painted.error_map.shape)
    assert abs(peak[0] - y) <= 8 and abs(peak[1] - x) <= 8
    # On the camera grid too (the live map), NaN only in the ignored border.
    live = checker.check(painted_beads(field.sr), raw=field.raw).error_map
    assert live is not None and live.shape == (SIZE, SIZE)
    inner = checker.grid.interior
    assert np.isfinite(live[inner]).all() and np.isnan(live[0, 0])
    assert np.nanargmax(live) == np.ravel_multi_index((y // 2, x // 2), live.shape) or (
        live[y // 2 - 4 : y // 2 + 4, x // 2 - 4 : x // 2 + 4].max() == np.nanmax(live)
    )


def test_a_wrong_pattern_raises_chi2(field: Field, checker: QualityChecker) -> None:
    correct = checker.check(field.sr, raw=field.raw).record
    truth = field.truth
    wrong_k = replace(truth, k_per_um=truth.k_per_um * 1.03)
    record = QualityChecker(OPTICS, (SIZE, SIZE), pattern=wrong_k).check(field.sr, raw=field.raw)
    # Measured: 1.67, 1.25, 1.14 against 0.97.
    assert all(w > c + 0.1 for w, c in zip(record.record.chi2, correct.chi2, strict=True))
    # The map and rsp do not depend on the pattern.
    assert record.record.rsp == pytest.approx(correct.rsp)


def test_painted_texture_beyond_the_passband_raises_out_of_band_energy(
    field: Field, checker: QualityChecker
) -> None:
    yy, xx = np.mgrid[: field.sr.shape[0], : field.sr.shape[1]]
    patch = (np.abs(yy - 60) < 20) & (np.abs(xx - 60) < 20)
    amplitude = 0.3 * float(np.percentile(field.sr, 99.5) - np.median(field.sr))
    sr_px = OPTICS.pixel_size_um / 2
    texture = amplitude * np.cos(2 * np.pi * 11.0 * sr_px * (xx + 0.3 * yy)) * patch  # 11 /um
    correct = checker.check(field.sr, raw=field.raw).record
    painted = checker.check(field.sr + texture.astype(np.float32), raw=field.raw).record
    # Measured 2.4e-5 -> 8.8e-2; the texture is beyond the passband (8.3 /um), so chi^2,
    # which only sees what the raw frames can hold, stays put.
    assert painted.out_of_band > 100 * correct.out_of_band
    assert painted.chi2 == pytest.approx(correct.chi2, abs=0.05)


def test_fitted_parameters_and_a_given_reference(field: Field) -> None:
    wiener = WienerReconstructor(PATTERN, OPTICS, search="nominal")
    with warnings.catch_warnings():
        # A 64-pixel field can defeat the estimator for one angle: its fallback is a result.
        warnings.simplefilter("ignore", SIMFitWarning)
        sr = wiener(field.raw[np.newaxis].astype(np.float32))[0, 0]
    assert wiener.params is not None
    state = pattern_state(wiener.params)
    assert state.n_angles == 3 and state.fit_ok is not None
    checker = QualityChecker(OPTICS, (SIZE, SIZE), pattern=state)
    reference = field.raw.mean(axis=0)
    record = checker.check(sr, raw=field.raw, reference=reference).record
    assert all(0.85 < c < 1.2 for c in record.chi2), record.chi2
    # Without raw frames: SQUIRREL and out-of-band only.
    alone = checker.check(sr, reference=reference).record
    assert alone.chi2 == () and np.isnan(alone.photons)
    assert alone.rsp == pytest.approx(record.rsp)


def test_fitting_sigma_never_does_worse(field: Field) -> None:
    fixed = QualityChecker(OPTICS, (SIZE, SIZE)).check(field.sr, raw=field.raw).record
    fitted = QualityChecker(OPTICS, (SIZE, SIZE), fit_sigma=True).check(field.sr, raw=field.raw)
    assert fitted.record.rse <= fixed.rse * 1.001
    assert 0.5 * OPTICS.pixel_size_um <= fitted.record.sigma_um <= 10 * OPTICS.pixel_size_um
    assert fixed.sigma_um == pytest.approx(0.21 * 0.6 / 1.35)


def test_bad_inputs_are_explained(field: Field, checker: QualityChecker) -> None:
    with pytest.raises(ValueError, match="must be"):
        checker.check(field.sr[:-2], raw=field.raw)
    with pytest.raises(ValueError, match="NaN"):
        checker.check(np.full_like(field.sr, np.nan), raw=field.raw)
    with pytest.raises(ValueError, match="angle-major"):
        checker.check(field.sr, raw=field.raw[:5])
    with pytest.raises(ValueError, match="reference"):
        checker.check(field.sr)
    with pytest.raises(ValueError, match="too small"):
        QualityChecker(OPTICS, (16, 16))


def test_record_is_plain_numbers() -> None:
    record = QualityRecord(rse=1.0, rsp=0.9, alpha=2.0, beta=0.0, sigma_um=0.09, chi2=(1.0, 1.2))
    data = record.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["photons"] is None and data["chi2"] == [1.0, 1.2]
    assert record.chi2_max == 1.2


def test_grid_resampling_round_trips() -> None:
    grid = SRGrid((24, 20), 2, 0.07, 2, 1)
    yy, xx = np.mgrid[:24, :20]
    ramp = (3.0 * yy - 2.0 * xx + 5.0).astype(np.float32)
    up = grid.upsample_linear(ramp)
    assert up.shape == (48, 40)
    # SR pixels subdivide camera pixels: linear data are reproduced exactly off the edges.
    inner = (slice(1, -1), slice(1, -1))
    assert np.allclose(grid.block_mean(up)[inner], ramp[inner], atol=1e-4)
    assert up[2, 2] == pytest.approx(5.0 + 3.0 * 0.75 - 2.0 * 0.75)


def test_qc_imports_no_deep_learning_runtime() -> None:
    code = textwrap.dedent(
        """
        import sys
        import livesr.qc
        print(",".join(m for m in ("torch", "onnxruntime", "tensorrt") if m in sys.modules))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
