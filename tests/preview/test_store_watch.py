from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from livesr.io import SRStore
from livesr.preview import PreviewFeed, StoreWatcher


def _store(path: Path) -> SRStore:
    store = SRStore.create(
        path, channels=["488", "561"], n_patterns=9, frame_shape=(8, 8), scale=2, positions=2
    )
    return store


def _write_t(store: SRStore, t: int, sr: bool = True, p: int = 1) -> None:
    for c in (0, 1):
        key = (t, p, 0, c)
        for f in range(9):
            store.write_raw_frame(key, f, np.full((8, 8), 100 + t, np.uint16))
        store.write_wf(key, np.full((8, 8), 10 * t + c, np.float32))
        if sr:
            store.write_sr(key, np.full((16, 16), 100 * t + c, np.float32))


def test_watcher_follows_a_growing_store_and_can_browse(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr")
    _write_t(store, 0)
    _write_t(store, 1)
    _write_t(store, 2, sr=False)  # raw on disk, SR not yet
    feed = PreviewFeed()
    with pytest.raises(IndexError, match=r"positions 0\.\.1"):
        StoreWatcher(store.path, feed, position=2)
    assert StoreWatcher(store.path, feed, position=0).newest_complete() is None  # empty
    watcher = StoreWatcher(store.path, feed, position=1, poll_interval_s=0.0)

    assert watcher.poll()
    frame = feed.take()
    assert frame.status.t == 1
    assert frame.sr[1][0, 0] == 101 and frame.wf[1][0, 0] == 11
    assert frame.status.backlog == 2  # t=2, both channels, wait for SR
    assert not frame.status.finished
    assert not watcher.poll()  # nothing new

    # The acquisition goes on (another writer): the watcher re-opens the store and follows.
    _write_t(store, 2)
    _write_t(store, 3)
    assert watcher.poll()
    assert feed.take().status.t == 3

    watcher.show(0)  # browse back: stop following
    frame = feed.take()
    assert frame.status.t == 0 and frame.sr[0][0, 0] == 0
    assert not watcher.follow
    _write_t(store, 4)
    assert not watcher.poll()
    store.set_status("finished")
    watcher.show(4)  # back at the newest: follow again
    assert watcher.follow and feed.take().status.finished


def test_watcher_names_missing_sr_images(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr")
    with pytest.raises(KeyError, match="no SR image 'sr_other'"):
        StoreWatcher(store.path, PreviewFeed(), sr_name="sr_other")


def test_cli_preview_headless_writes_a_snapshot_of_the_newest_time_point(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from livesr.cli import app

    store = _store(tmp_path / "run.zarr")
    _write_t(store, 0)
    _write_t(store, 1)
    store.set_status("finished")
    args = ["preview", str(store.path), "--position", "1", "--headless", "--once"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "run.preview"
    assert (folder / "latest.png").is_file() and (folder / "t000001.png").is_file()
    assert "t 1 |" in result.output and "finished" in result.output

    missing = CliRunner().invoke(app, ["preview", str(store.path), "--sr", "sr_x", "--headless"])
    assert missing.exit_code == 2 and "no SR image 'sr_x'" in missing.output


def test_watcher_shows_the_stored_error_maps_of_the_frame_it_shows(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr")
    store.add_quality("sr")
    for t in range(3):
        _write_t(store, t)
    error = np.full((8, 8), np.nan, np.float32)
    error[1:7, 1:7] = 7.0
    store.write_error_map((0, 1, 0, 1), error)  # only t 0, channel 1 was checked
    feed = PreviewFeed()
    watcher = StoreWatcher(store.path, feed, position=1, poll_interval_s=0.0)
    assert watcher.poll()
    assert feed.take().error_maps == []  # t 2: no map made
    watcher.show(0)
    maps = feed.take().error_maps
    assert maps[0] is None and np.array_equal(maps[1], error, equal_nan=True)
    watcher.show(1)  # a frame without maps does not keep t 0's
    assert feed.take().error_maps == []
