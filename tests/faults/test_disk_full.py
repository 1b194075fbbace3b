"""Promise: a full or read-only disk ends a run with one clear line, and loses nothing written.

The raw writer's ``No space left on device`` stops the acquisition; the summary still reaches
the user (printed, with status ``failed``) even when the store cannot record it, the command
exits 1 with one ``error:`` line and no traceback, and every stack marked on disk reads
back. A read-only output folder is one line too. Needs root to mount a small tmpfs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fault_tools import LIVESR

from livesr.io import StackKey, open_store

pytest.importorskip("pymmcore_plus")


def _mount(path: Path, options: str) -> Iterator[Path]:
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mount(tmp_path / "disk", "size=2m")


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mount(tmp_path / "ro", "size=1m,ro")


def _demo(out: Path, timepoints: int) -> subprocess.CompletedProcess[str]:
    cmd = [LIVESR, "demo", "--size", "64", "--interval", "0", "--backend", "wiener"]
    return subprocess.run(
        [*cmd, "--timepoints", str(timepoints), "--out", str(out)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "LIVESR_DEBUG": "0"},
    )  # fmt: skip


def test_a_full_disk_is_one_line_and_keeps_what_was_written(small_disk: Path) -> None:
    out = small_disk / "run.zarr"
    done = _demo(out, 400)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0]
    assert "status: failed" in done.stdout  # the summary, though the store is full

    store = open_store(out)
    raw = store.raw_done()
    assert raw.sum() > 0
    for key in np.argwhere(raw):  # (t, p, z, c)
        assert (store.read_stack(StackKey(*map(int, key))) > 0).any(axis=(1, 2)).all()


def test_a_read_only_output_is_one_line(read_only_disk: Path) -> None:
    done = _demo(read_only_disk / "run.zarr", 2)

    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: Read-only file system")
