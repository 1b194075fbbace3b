"""Promise: bad input to any command ends with one clear line and a non-zero exit.

Each case runs the real ``livesr`` console script in a child process, as a user would. A
traceback appears only with ``--debug``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

LIVESR = shutil.which("livesr") or str(Path(sys.executable).with_name("livesr"))


def livesr(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LIVESR_DEBUG": "0"}
    return subprocess.run(
        [LIVESR, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


@pytest.fixture
def raw_tif(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "raw.tif"
    tifffile.imwrite(path, rng.poisson(200, (9, 32, 32)).astype(np.uint16))
    return path


@pytest.fixture
def broken_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "train.yaml"
    path.write_text("model:\n  architecture: dfcan\n  in_frames: [9\n")
    return path


CASES = {
    "misspelt model in demo": (
        ["demo", "--model", "dfcan-simm", "--timepoints", "1"],
        "dfcan-simm",
    ),
    "unknown backend": (["demo", "--backend", "cuda-magic", "--timepoints", "1"], "cuda-magic"),
    "reversed frame range": (["reconstruct", "{raw}", "--frames", "5:2"], "--frames"),
    "output in a missing folder": (
        ["reconstruct", "{raw}", "--method", "wf", "--out", "{tmp}/no/such/dir/out.tif"],
        "no/such/dir",
    ),
    "YAML syntax error": (["train", "--config", "{yaml}"], "train.yaml at line"),
    "unknown command": (["reconstrct"], "reconstrct"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_gives_one_line_naming_the_problem(
    case: str, raw_tif: Path, broken_yaml: Path, tmp_path: Path
) -> None:
    args, named = CASES[case]
    fill = {"raw": str(raw_tif), "yaml": str(broken_yaml), "tmp": str(tmp_path)}
    done = livesr(*(a.format(**fill) for a in args), cwd=tmp_path)

    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert named in lines[0]
    assert "Traceback" not in done.stdout + done.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = livesr("reconstruct", str(tmp_path / "missing.tif"), "--debug", cwd=tmp_path)
    assert done.returncode != 0
    done = livesr("demo", "--model", "nosuch", "--timepoints", "1", "--debug", cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" in done.stderr


@pytest.mark.parametrize("command", ["demo", "acquire"])
def test_a_misspelt_model_is_refused_before_the_microscope_starts(
    command: str, tmp_path: Path
) -> None:
    seq = tmp_path / "seq.yaml"
    seq.write_text("channels: ['488']\ntime_plan: {interval: 0, loops: 1}\n")
    args = ["--config", "demo", "--sequence", str(seq)] if command == "acquire" else []
    done = livesr(command, *args, "--model", "488=dfcan-simm", "--out", "run.zarr",
                  "--backend", "wiener", cwd=tmp_path)  # fmt: skip

    assert done.returncode != 0 and "dfcan-simm" in done.stderr
    assert done.stdout == "" and not (tmp_path / "run.zarr").exists()  # nothing started


def test_out_in_a_missing_folder_is_created_for_a_live_run(tmp_path: Path) -> None:
    done = livesr("demo", "--size", "64", "--timepoints", "1", "--channels", "488",
                  "--backend", "wiener", "--out", "new/folder/run.zarr", cwd=tmp_path)  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "new" / "folder" / "run.zarr" / "zarr.json").is_file()


def test_a_rejected_fit_warns_once_per_orientation_in_one_line(raw_tif: Path) -> None:
    # Pure noise has no carrier: with --allow-nominal each orientation falls back, and says so
    # once (the log record), without a second copy from Python's warnings and its source line.
    done = livesr(
        "reconstruct", str(raw_tif), "--method", "wiener", "--allow-nominal",
        "--out", str(raw_tif.with_name("sr.tif")), cwd=raw_tif.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    for d in range(3):
        about = [line for line in lines if f"orientation {d}: SIM fit rejected" in line]
        assert len(about) == 1, lines
    assert len(lines) == 3, lines  # nothing else: no source line, no second copy
