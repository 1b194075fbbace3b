"""Live quality control: a record and an error map for every SR frame (issue 17, points 2-3)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import useq
from numpy.typing import NDArray

from livesr.config import PipelineConfig
from livesr.io import LEVEL_CODES, PATTERN_SOURCE_CODES, open_store
from livesr.pipeline import LivePipeline, QualityInfo, run_live
from livesr.reconstruct import ReconstructorInfo
from livesr.reconstruct.conventional import WienerReconstructor
from livesr.simulate import demo_calibration


class PaintedWiener:
    """Wiener SIM, then bright beads painted where the sample has none: a fake structure.

    Exposes the wrapped reconstructor's fitted `params`, as the pipeline reads them for the
    pattern the checks assume. `delay_s` makes it slower than the camera (skips, backfill).
    """

    def __init__(self, config: PipelineConfig, beads: int = 0, delay_s: float = 0.0) -> None:
        self.inner = WienerReconstructor(
            config.pattern, config.optics, calibration=config.calibration, workers=1
        )
        self.beads = beads
        self.delay_s = delay_s
        self._rng = np.random.default_rng(7)

    @property
    def info(self) -> ReconstructorInfo:
        return self.inner.info

    @property
    def params(self) -> Any:
        return self.inner.params

    def warmup(self) -> None:
        self.inner.warmup()

    def close(self) -> None:
        self.inner.close()

    def __call__(self, stacks: NDArray[np.float32]) -> NDArray[np.float32]:
        if self.delay_s:
            time.sleep(self.delay_s)
        out = self.inner(stacks)
        if self.beads:
            sy, sx = out.shape[-2:]
            yy, xx = np.mgrid[:sy, :sx]
            peak = float(np.percentile(out, 99.9))
            for y, x in self._rng.uniform(0.25, 0.75, (self.beads, 2)) * (sy, sx):
                out[..., :, :] += peak * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 1.5**2))
        return out


def _sequence(n_t: int, channels: tuple[str, ...] = ("488",)) -> useq.MDASequence:
    return useq.MDASequence(channels=list(channels), time_plan={"interval": 0, "loops": n_t})


def _config(**kw: Any) -> PipelineConfig:
    return PipelineConfig(calibration=demo_calibration(), **kw)


def test_demo_run_stores_a_record_and_a_map_for_every_sr_frame(core: Any, tmp_path: Path) -> None:
    from livesr.preview import PipelineTap

    core.setProperty("Camera", "Size", 128)
    got: list[QualityInfo] = []
    sr_frames: list[Any] = []
    taps: list[Any] = []

    def connect(pipe: LivePipeline) -> None:
        pipe.signals.qualityReady.connect(got.append)
        pipe.signals.srFrameReady.connect(lambda img, info: sr_frames.append(info.key))
        taps.append(PipelineTap(pipe))

    summary = run_live(
        core, _sequence(3, ("488", "561")), tmp_path / "run.zarr",
        models={"488": "wiener", "561": "wiener"}, config=_config(), connect=connect,
    )  # fmt: skip
    assert summary.status == "finished", summary
    store = open_store(tmp_path / "run.zarr")
    q = store.quality()
    done = store.sr_done()
    assert done.all() and q["rsp"].shape == done.shape == (3, 1, 1, 2)
    # A record for every SR frame: rsp, chi^2, out-of-band energy, photons, fit, light.
    assert np.isfinite(q["rsp"]).all() and (q["rsp"] > 0.9).all()
    assert np.isfinite(q["chi2_max"]).all() and np.isfinite(q["chi2"]).all()
    assert q["chi2"].shape == (3, 1, 1, 2, 3)
    assert np.isfinite(q["out_of_band"]).all() and (q["photons"] > 0).all()
    assert np.isfinite(q["modulation_min"]).all() and np.isfinite(q["fit_confidence"]).all()
    # The calibration is known: the carrier drift of the fitted pattern against it, in %.
    assert np.isfinite(q["carrier_drift_pct"]).all() and (abs(q["carrier_drift_pct"]) < 2).all()
    assert (q["pattern_source"] == PATTERN_SOURCE_CODES.index("reconstructor")).all()
    assert (q["level"] == LEVEL_CODES.index("ok")).all()
    assert q["photons_rel"][0].tolist() == [[[1.0, 1.0]]]
    assert np.isfinite(q["photons_rel"]).all()
    # Error maps on the camera grid beside sr: finite inside, NaN in the ignored border.
    for key in [(t, 0, 0, c) for t in range(3) for c in range(2)]:
        emap = store.error_map(key)
        assert emap.shape == (128, 128) and emap.dtype == np.float32
        assert np.isfinite(emap[64, 64]) and np.isnan(emap[0, 0])
    # qualityReady once per SR frame, after its srFrameReady.
    assert sorted(i.key for i in got) == sorted(sr_frames) and len(got) == 6
    assert all(i.level == "ok" and i.record["rsp"] > 0.9 for i in got)
    assert summary.qc_checked == 6 and summary.qc_levels == {"ok": 6}
    # The preview's status shows a light per channel.
    status = taps[0].feed.status()
    assert dict(status.quality) == {"488": "ok", "561": "ok"}
    assert "QC 488 ok, 561 ok" in status.text() and status.to_dict()["quality"]["561"] == "ok"


def test_painted_structure_lowers_rsp_and_the_light(core: Any, tmp_path: Path) -> None:
    core.setProperty("Camera", "Size", 128)
    config = _config()
    levels: dict[str, list[QualityInfo]] = {}
    for name, beads in (("plain", 0), ("painted", 40)):
        rec = PaintedWiener(config, beads=beads)
        got = levels.setdefault(name, [])
        with LivePipeline(
            core, _sequence(2), tmp_path / f"{name}.zarr", reconstructors={"488": rec},
            config=config,
        ) as pipe:  # fmt: skip
            pipe.signals.qualityReady.connect(got.append)
            pipe.run()
    plain = open_store(tmp_path / "plain.zarr").quality()
    painted = open_store(tmp_path / "painted.zarr").quality()
    assert (painted["rsp"] < plain["rsp"] - 0.05).all()
    assert (painted["chi2_max"] > plain["chi2_max"]).all()
    assert all(i.level == "ok" for i in levels["plain"])
    assert all(i.level in ("warn", "bad") and i.reasons for i in levels["painted"])
    assert (painted["level"] > plain["level"]).all()


def test_backfilled_frames_get_records_and_decimation(core: Any, tmp_path: Path) -> None:
    config = _config(max_backlog=1)
    rec = PaintedWiener(config, delay_s=0.05)
    got: list[QualityInfo] = []
    with LivePipeline(
        core, _sequence(6), tmp_path / "run.zarr", reconstructors={"488": rec}, config=config
    ) as pipe:
        pipe.signals.qualityReady.connect(got.append)
        summary = pipe.run()
    summary = pipe.summary
    assert summary.sr_backfilled > 0 and summary.status == "finished"
    q = open_store(tmp_path / "run.zarr").quality()
    assert np.isfinite(q["rsp"]).all() and len(got) == 6
    assert sum(i.backfill for i in got) == summary.sr_backfilled
    # Every other time point, and none at all.
    for every, n in ((2, 3), (0, 0)):
        out = tmp_path / f"every{every}.zarr"
        cfg = _config(qc_every=every)
        with LivePipeline(
            core, _sequence(6), out, reconstructors={"488": PaintedWiener(cfg)}, config=cfg
        ) as pipe:
            pipe.run()
        assert pipe.summary.qc_checked == n
        store = open_store(out)
        if every:
            rsp = store.quality()["rsp"][:, 0, 0, 0]
            assert np.isfinite(rsp[::2]).all() and np.isnan(rsp[1::2]).all()
        else:
            assert store.quality() == {} and not store.has_quality()


def test_quality_level_thresholds() -> None:
    from livesr.pipeline import quality_level
    from livesr.qc import QualityRecord

    ok = QualityRecord(rse=1, rsp=0.97, alpha=1, beta=0, sigma_um=0.1, chi2=(1.0, 1.1, 0.9))
    assert quality_level(ok) == ("ok", ())
    assert quality_level(ok, "nominal")[0] == "warn"
    assert quality_level(ok, "rejected")[0] == "bad"
    warn = QualityRecord(rse=1, rsp=0.85, alpha=1, beta=0, sigma_um=0.1)
    assert quality_level(warn) == ("warn", ("rsp 0.85 < 0.9",))
    bad = QualityRecord(rse=1, rsp=0.95, alpha=1, beta=0, sigma_um=0.1, chi2=(6.0,))
    assert quality_level(bad)[0] == "bad"
    empty = QualityRecord(rse=math.nan, rsp=math.nan, alpha=1, beta=0, sigma_um=0.1)
    assert quality_level(empty)[0] == "warn"


def test_frames_from_a_child_process_are_checked_against_the_pattern_they_were_made_with(
    core: Any, tmp_path: Path
) -> None:
    # --method auto runs in a child process: the frames' own pattern (from their provenance),
    # not the calibration, is what their chi^2 assumes.
    core.setProperty("Camera", "Size", 64)
    children: list[dict[str, int]] = []

    def connect(pipe: LivePipeline) -> None:
        pipe.signals.srFrameReady.connect(
            lambda img, info: children.append(pipe.inference_processes)
        )

    summary = run_live(
        core, _sequence(2), tmp_path / "run.zarr", models={"488": "auto"},
        config=_config(inference_mode="process"), connect=connect,
    )  # fmt: skip
    assert summary.status == "finished", summary
    assert children and all(c.get("488") for c in children)  # it did run in a child
    q = open_store(tmp_path / "run.zarr").quality()
    assert (q["pattern_source"] == PATTERN_SOURCE_CODES.index("reconstructor")).all()
    assert np.isfinite(q["fit_confidence"]).all() and np.isfinite(q["carrier_drift_pct"]).all()
