"""``--qc-overlay`` on the commands: the error maps in red over the SR of a stored run's
snapshots, and one clear line where there is no preview to draw them on."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from livesr.cli import app
from livesr.io import SRStore


def _png_pixels(data: bytes) -> np.ndarray:
    """(H, W, 3) pixels of the unfiltered RGB PNGs livesr's snapshots are."""
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if tag == b"IHDR" else header
        idat += body if tag == b"IDAT" else b""
        pos += 12 + length
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + 3 * width)
    return rows[:, 1:].reshape(height, width, 3)


def _checked_store(path: Path) -> SRStore:
    """One channel, one time point, whose stored error map is high in the top-left corner."""
    store = SRStore.create(path, channels=["488"], n_patterns=9, frame_shape=(16, 16), scale=2)
    store.add_quality("sr")
    key = (0, 0, 0, 0)
    yy, xx = np.mgrid[:16, :16]
    wf = (100.0 + 1000.0 * ((yy + xx) % 5 == 0)).astype(np.float32)
    store.write_raw_frames(key, 0, np.zeros((9, 16, 16), np.uint16))
    store.write_wf(key, wf)
    store.write_sr(key, np.repeat(np.repeat(wf, 2, axis=0), 2, axis=1))
    error = np.full((16, 16), 5.0, np.float32)
    error[1:8, 1:8] = 600.0
    store.write_error_map(key, error)
    store.set_status("finished")
    return store


@pytest.mark.parametrize("overlay", [False, True])
def test_preview_snapshots_show_the_stored_error_map_with_qc_overlay(
    tmp_path: Path, overlay: bool
) -> None:
    store = _checked_store(tmp_path / "run.zarr")
    args = ["preview", str(store.path), "--headless", "--once"]
    result = CliRunner().invoke(app, [*args, "--qc-overlay"] if overlay else args)
    assert result.exit_code == 0, result.output
    shot = _png_pixels((tmp_path / "run.preview" / "latest.png").read_bytes()).astype(int)
    sr = shot[:, -32:]  # [WF | gap | SR]
    red = sr[..., 0] - sr[..., 1]
    if overlay:
        assert red[2:16, 2:16].max() > 100 and (red[16:, 16:] == 0).all()
    else:
        assert (red == 0).all()


@pytest.mark.parametrize("command", ["demo", "acquire"])
def test_qc_overlay_without_preview_is_one_clear_line(tmp_path: Path, command: str) -> None:
    args = [command, "--qc-overlay", "--out", str(tmp_path / "run.zarr")]
    if command == "acquire":
        args += ["--config", "demo", "--sequence", str(tmp_path / "seq.yaml")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "add --preview" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run.zarr").exists()
