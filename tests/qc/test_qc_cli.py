"""``livesr qc`` through the real console script, as a user runs it on TIFFs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from livesr.config import OpticsConfig, PatternConfig
from livesr.reconstruct import WienerReconstructor
from livesr.reconstruct.conventional import SIMParameters
from livesr.simulate import simulate_sample

LIVESR = shutil.which("livesr") or str(Path(sys.executable).with_name("livesr"))
OPTICS = OpticsConfig.single(na=1.35, wavelength_um=0.6, pixel_size_um=0.07)
PATTERN = PatternConfig.linear(k0_fraction=0.85, angle_offset_deg=20.0, modulation=0.7)
FLAGS = [
    "--na", "1.35", "--wavelength", "0.6", "--pixel-size", "0.07", "--k0-fraction", "0.85",
    "--angle-offset", "20", "--modulation", "0.7",
]  # fmt: skip


def livesr(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LIVESR_DEBUG": "0"}
    return subprocess.run(
        [LIVESR, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("qc_cli")
    sample = simulate_sample(
        "ccps", size=48, level=5, optics=OPTICS, pattern=PATTERN, seed=5, motion=0.0
    )
    params = SIMParameters.nominal(PATTERN, OPTICS, (48, 48))
    sr = WienerReconstructor(PATTERN, OPTICS, params=params)(sample.raw.astype(np.float32))
    tifffile.imwrite(folder / "raw.tif", sample.raw[0])
    tifffile.imwrite(folder / "wf.tif", sample.wf[0])
    tifffile.imwrite(folder / "sr.tif", sr[0, 0])
    yy, xx = np.mgrid[:96, :96]
    bead = np.exp(-((yy - 40) ** 2 + (xx - 50) ** 2) / (2 * 1.5**2))
    amplitude = float(np.percentile(sr, 99.5) - np.median(sr))
    tifffile.imwrite(folder / "painted.tif", (sr[0, 0] + amplitude * bead).astype(np.float32))
    tifffile.imwrite(folder / "wf_cropped.tif", sample.wf[0, :40])
    (folder / "params.json").write_text(json.dumps(params.to_dict()))
    return folder


def test_qc_writes_the_map_and_the_numbers(files: Path) -> None:
    common = ["--widefield", "wf.tif", "--raw", "raw.tif", "--params", "params.json", *FLAGS]
    good = livesr("qc", "sr.tif", *common, "--out", "good", cwd=files)
    assert good.returncode == 0, good.stderr
    bad = livesr("qc", "painted.tif", *common, "--out", "bad", cwd=files)
    assert bad.returncode == 0, bad.stderr
    assert "rsp" in good.stdout and "chi2" in good.stdout
    report = json.loads((files / "good" / "qc.json").read_text())
    painted = json.loads((files / "bad" / "qc.json").read_text())
    assert {"rsp", "rse", "chi2", "out_of_band", "photons", "frames"} <= set(report)
    assert len(report["chi2"]) == 3 and all(0.8 < c < 1.25 for c in report["chi2"])
    assert painted["rsp"] < report["rsp"]
    assert min(painted["chi2"]) > max(report["chi2"])
    assert painted["out_of_band"] > report["out_of_band"]
    error = tifffile.imread(files / "bad" / "error_map.tif")
    assert error.shape == (96, 96) and error.dtype == np.float32
    assert np.unravel_index(np.argmax(error), error.shape) == pytest.approx((40, 50), abs=4)


def test_qc_without_raw_frames_and_mismatched_sizes(files: Path) -> None:
    alone = livesr("qc", "sr.tif", "--widefield", "wf.tif", *FLAGS, "--out", "alone", cwd=files)
    assert alone.returncode == 0, alone.stderr
    report = json.loads((files / "alone" / "qc.json").read_text())
    assert report["chi2"] == [] and report["rsp"] > 0.9
    wrong = livesr("qc", "sr.tif", "--widefield", "wf_cropped.tif", "--out", "x", cwd=files)
    assert wrong.returncode == 1
    lines = wrong.stderr.strip().splitlines()
    assert len(lines) == 1 and "integer multiple" in lines[0]
    missing = livesr("qc", "sr.tif", "--out", "x", cwd=files)
    assert missing.returncode == 1 and "--widefield" in missing.stderr


def test_qc_takes_the_instruments_calibration(files: Path) -> None:
    from livesr.reconstruct.conventional import calibrate

    bright = simulate_sample(
        "microtubules", size=96, level=9, optics=OPTICS, pattern=PATTERN, seed=11, motion=0.0
    )
    cal, _ = calibrate(bright.raw, PATTERN, OPTICS, channel="default")
    cal.to_yaml(files / "cal.yaml")
    args = ["--widefield", "wf.tif", "--raw", "raw.tif", "--calibration", "cal.yaml", *FLAGS]

    done = livesr("qc", "sr.tif", *args, "--out", "calibrated", cwd=files)

    assert done.returncode == 0, done.stderr
    report = json.loads((files / "calibrated" / "qc.json").read_text())
    assert report["pattern_source"] == "cal.yaml"
    assert len(report["chi2"]) == 3 and all(0.8 < c < 1.3 for c in report["chi2"])
