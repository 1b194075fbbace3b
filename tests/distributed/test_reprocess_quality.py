"""Reprocessing gives every SR frame the live run's quality record and error map (issue 17).

A real live run (demo microscope, Wiener SIM on two channels, the live QC thread on) is the
reference: reprocessing the same raw stacks with the same recorded reconstructors must store
the same numbers, frame by frame, and sum them up per channel.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

useq = pytest.importorskip("useq")
pytest.importorskip("pymmcore_plus")

from livesr.acquire import open_core  # noqa: E402
from livesr.config import PipelineConfig  # noqa: E402
from livesr.distributed import reprocess  # noqa: E402
from livesr.io import LEVEL_CODES, PATTERN_SOURCE_CODES, QC_FIELDS, open_store  # noqa: E402
from livesr.pipeline import run_live  # noqa: E402
from livesr.simulate import demo_calibration  # noqa: E402

T = 3
KEYS = [(t, 0, 0, c) for t in range(T) for c in range(2)]
#: Everything a record holds but the time the check took.
SAME = [f for f in (*QC_FIELDS, "chi2", "modulation") if f != "qc_ms"]


@pytest.fixture(scope="module")
def wiener_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished live run with a quality record and error map for each of its 6 SR frames."""
    core = open_core("demo")
    try:
        core.setProperty("Camera", "Size", 128)
        sequence = useq.MDASequence(channels=["488", "561"], time_plan={"interval": 0, "loops": T})
        out = tmp_path_factory.mktemp("live") / "wiener.zarr"
        config = PipelineConfig(calibration=demo_calibration())
        summary = run_live(core, sequence, out, models={"488": "wiener", "561": "wiener"},
                           config=config)  # fmt: skip
    finally:
        core.unloadAllDevices()
    assert summary.status == "finished" and summary.qc_checked == len(KEYS)
    return out


@pytest.fixture
def run(wiener_run: Path, tmp_path: Path) -> Path:
    """A copy of the live run for one test to change."""
    return Path(shutil.copytree(wiener_run, tmp_path / "run.zarr"))


def _assert_same_records(store_path: Path, name: str, keys: list[tuple[int, ...]]) -> None:
    store = open_store(store_path)
    live, again = store.quality("sr"), store.quality(name)
    for field in SAME:
        for key in keys:
            idx = (key[0], key[1], key[2], key[3])
            np.testing.assert_array_equal(again[field][idx], live[field][idx], err_msg=field)
    for key in keys:
        np.testing.assert_array_equal(store.error_map(key, name), store.error_map(key))


def test_reprocessed_frames_get_the_live_records_and_maps(run: Path) -> None:
    result = reprocess(run, name="sr_again", n_workers=2)

    assert sorted(result.reconstructed) == KEYS and not result.failed
    store = open_store(run)
    np.testing.assert_array_equal(store.sr_array("sr_again")[:], store.sr[:])
    # Every frame has a record and a map, and they are the live QC's numbers.
    q = store.quality("sr_again")
    assert np.isfinite(q["rsp"]).all() and np.isfinite(q["chi2"]).all()
    assert (q["pattern_source"] == PATTERN_SOURCE_CODES.index("reconstructor")).all()
    assert np.isfinite(q["carrier_drift_pct"]).all() and np.isfinite(q["qc_ms"]).all()
    for key in KEYS:
        emap = store.error_map(key, "sr_again")
        assert np.isfinite(emap[64, 64]) and np.isnan(emap[0, 0])
    _assert_same_records(run, "sr_again", KEYS)
    # A summary per channel, as the live run's.
    assert [s.channel for s in result.quality] == ["488", "561"]
    for summary in result.quality:
        assert summary.checked == T and summary.failed == 0 and summary.flagged == 0
        assert summary.levels == {"ok": T}
        live = q["rsp"][:, 0, 0, result.quality.index(summary)]
        assert summary.rsp == pytest.approx(float(np.median(live)))
    assert "quality 488: 3 checked (3 ok, 0 warn, 0 bad), 0 failed; median rsp" in str(result)


def test_completing_a_crashed_run_restores_its_lost_records(run: Path) -> None:
    live = open_store(run).quality()
    crashed = open_store(run, mode="r+")
    crashed.group["0/sr_done"][2] = False  # the process died before SR of t=2 was written
    crashed.sr[2] = 0.0
    crashed.group["0/sr_qc/rsp"][2] = np.nan
    crashed.group["0/sr_qc/level"][2] = 0
    crashed.group["0/sr_qc_map"][2] = np.nan

    result = reprocess(run, n_workers=1, scheduler="processes")

    assert result.name == "sr" and sorted(result.reconstructed) == [(2, 0, 0, 0), (2, 0, 0, 1)]
    assert [s.checked for s in result.quality] == [1, 1]
    again = open_store(run).quality()
    for field in SAME:
        np.testing.assert_array_equal(again[field], live[field], err_msg=field)
    assert (again["level"] == LEVEL_CODES.index("ok")).all()
    assert np.isfinite(open_store(run).error_map((2, 0, 0, 1))[64, 64])


def test_cli_prints_a_quality_line_per_channel_and_no_qc_skips_them(run: Path) -> None:
    from typer.testing import CliRunner

    from livesr.cli import app

    args = ["reprocess", str(run), "--workers", "1", "--no-progress"]
    out = CliRunner().invoke(app, [*args, "--name", "sr_cli"])
    assert out.exit_code == 0, out.output
    lines = [line for line in out.output.splitlines() if line.startswith("quality ")]
    assert [line.split(":")[0] for line in lines] == ["quality 488", "quality 561"]
    assert all("3 checked (3 ok, 0 warn, 0 bad), 0 failed" in line for line in lines)
    _assert_same_records(run, "sr_cli", KEYS)

    bare = CliRunner().invoke(app, [*args, "--name", "sr_bare", "--no-qc"])
    assert bare.exit_code == 0, bare.output
    assert "quality " not in bare.output
    store = open_store(run)
    assert store.sr_done("sr_bare").all() and not store.has_quality("sr_bare")


def test_a_store_without_optics_is_reprocessed_without_records(
    tmp_path: Path, weights: Path, write_raw_run, reconstruct_live
) -> None:
    store = write_raw_run(tmp_path / "bare.zarr")  # raw frames only: no config, no optics
    reconstruct_live(store, weights, [])

    result = reprocess(store.path, weights, n_workers=1)

    assert len(result.reconstructed) == 16 and result.quality == ()
    assert not open_store(store.path).has_quality()
