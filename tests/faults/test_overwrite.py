"""Promise: nothing is deleted that livesr did not create (``--overwrite`` included)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("zarr")
pytest.importorskip("pymmcore_plus")

LIVESR = shutil.which("livesr") or str(Path(sys.executable).with_name("livesr"))
DEMO = ["demo", "--size", "64", "--timepoints", "1", "--backend", "wiener", "--channels", "488"]


def demo(out: str, *extra: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LIVESR, *DEMO, "--out", out, *extra],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LIVESR_DEBUG": "0"},
    )


def test_overwrite_refuses_a_folder_that_is_not_a_run_store(tmp_path: Path) -> None:
    user = tmp_path / "p"
    (user / "sub").mkdir(parents=True)
    (user / "thesis.txt").write_text("keep")

    done = demo("p", "--overwrite", cwd=tmp_path)

    assert done.returncode != 0
    assert "not a livesr run store" in done.stderr
    assert (user / "thesis.txt").read_text() == "keep"
    assert (user / "sub").is_dir()


def test_overwrite_refuses_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep")

    done = demo(".", "--overwrite", cwd=tmp_path)

    assert done.returncode != 0
    assert "current, home or root" in done.stderr
    assert (tmp_path / "notes.txt").read_text() == "keep"


def test_overwrite_keeps_a_store_that_holds_a_users_file(tmp_path: Path) -> None:
    assert demo("run.zarr", cwd=tmp_path).returncode == 0
    (tmp_path / "run.zarr" / "analysis.csv").write_text("keep")

    done = demo("run.zarr", "--overwrite", cwd=tmp_path)

    assert done.returncode != 0
    assert "analysis.csv" in done.stderr
    assert (tmp_path / "run.zarr" / "analysis.csv").read_text() == "keep"


def test_overwrite_replaces_a_run_store(tmp_path: Path) -> None:
    assert demo("run.zarr", cwd=tmp_path).returncode == 0
    first = (tmp_path / "run.zarr" / "zarr.json").stat().st_mtime_ns

    done = demo("run.zarr", "--overwrite", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run.zarr" / "zarr.json").stat().st_mtime_ns != first
