from __future__ import annotations

import json
import threading

import numpy as np

from livesr.preview import PreviewFeed, SnapshotWriter, snapshot_dir


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_feed_reports_newest_frames_and_rate():
    clock = FakeClock()
    feed = PreviewFeed(fps_window_s=2.0, clock=clock)
    assert feed.take().sr == []  # nothing yet, but a first take always returns
    for t in range(10):
        clock.now = t * 0.25  # 4 SR frames per second
        feed.push_raw(np.full((9, 4, 4), t, np.uint16), channel=0)
        feed.push_sr(
            np.full((8, 8), t, np.float32), channel=0, t=t, latency_ms=100 + 10 * t, backlog=2
        )
    frame = feed.take()
    assert frame is not None
    assert frame.status.t == 9
    assert frame.status.frames == 10
    assert frame.status.backlog == 2
    assert abs(frame.status.latency_ms - 190) < 1e-9
    assert abs(frame.status.sr_fps - 4.0) < 1e-6
    assert frame.sr[0][0, 0] == 9
    assert frame.wf[0].shape == (4, 4) and frame.wf[0][0, 0] == 9  # raw stack averaged
    assert feed.take(frame.version) is None  # nothing new
    feed.push_skipped()
    assert feed.take(frame.version).status.skipped == 1
    assert "skipped 1" in feed.status().text()


def test_two_channels_fill_their_own_slots():
    feed = PreviewFeed()
    feed.push_sr(np.ones((4, 4), np.float32), channel=1, t=0)
    frame = feed.take()
    assert frame.sr[0] is None
    assert frame.sr[1] is not None


def test_writers_on_other_threads_do_not_block_or_corrupt():
    feed = PreviewFeed()
    image = np.zeros((16, 16), np.float32)

    def produce(c: int) -> None:
        for t in range(500):
            feed.push_sr(image, channel=c, t=t)

    threads = [threading.Thread(target=produce, args=(c,)) for c in (0, 1)]
    for th in threads:
        th.start()
    seen = 0
    while any(th.is_alive() for th in threads):
        if feed.take(seen) is not None:
            seen = feed.version
    for th in threads:
        th.join()
    assert feed.status().frames == 1000


def test_snapshots_are_written_beside_the_store(tmp_path):
    store = tmp_path / "run.zarr"
    out = snapshot_dir(store)
    assert out == tmp_path / "run.preview"
    feed = PreviewFeed()
    writer = SnapshotWriter(feed, out, interval_s=0.01)
    assert writer.write_now() is None  # no image yet: only status.json
    assert not (out / "latest.png").exists()
    sr = np.zeros((32, 32), np.float32)
    sr[8:24, 8:24] = 1.0
    feed.push_wf(np.ones((16, 16), np.float32))
    feed.push_sr(sr, t=3, backlog=1)
    with writer:
        pass  # stop() writes the final snapshot
    assert (out / "latest.png").is_file()
    assert (out / "t000003.png").is_file()
    status = json.loads((out / "status.json").read_text())
    assert status["t"] == 3 and status["backlog"] == 1 and status["frames"] == 1
    # Nothing changed: no new file is written.
    assert writer.write_now() is None


def test_late_frames_are_counted_but_do_not_replace_newer_ones():
    feed = PreviewFeed()
    feed.push_sr(np.full((4, 4), 5, np.float32), channel=0, t=5)
    feed.push_sr(np.full((4, 4), 2, np.float32), channel=0, t=2)  # backfilled
    frame = feed.take()
    assert frame.sr[0][0, 0] == 5
    assert frame.status.t == 5
    assert frame.status.frames == 2


def test_sr_is_paired_with_the_wide_field_of_its_time_point():
    feed = PreviewFeed()
    for t in range(4):  # wide-field runs ahead of SR
        feed.push_wf(np.full((2, 2), t, np.float32), channel=0, t=t)
    feed.push_sr(np.ones((4, 4), np.float32), channel=0, t=1)
    assert feed.take().wf[0][0, 0] == 1


def test_wide_field_running_ahead_of_sr_does_not_ask_for_a_redraw():
    feed = PreviewFeed()
    feed.push_wf(np.ones((2, 2), np.float32), channel=0, t=0)
    feed.push_sr(np.ones((4, 4), np.float32), channel=0, t=0)
    drawn = feed.take().image_version
    feed.push_wf(np.ones((2, 2), np.float32), channel=0, t=1)  # SR of t=1 not there yet
    feed.push_skipped()
    frame = feed.take()
    assert frame.image_version == drawn  # same picture: status line only
    assert frame.status.skipped == 1
    feed.push_sr(np.ones((4, 4), np.float32), channel=0, t=1)
    assert feed.take().image_version > drawn


def test_quality_lights_and_warning_in_the_status() -> None:
    from livesr.preview import LiveStatus

    feed = PreviewFeed()
    feed.push_quality("488", "ok", t=0)
    feed.push_quality("561", "bad", t=3, reasons=("rsp 0.62 < 0.8",))
    status = feed.status()
    assert status.quality == (("488", "ok"), ("561", "bad"))
    assert "QC 488 ok, 561 BAD" in status.text()
    assert "untrustworthy: 561 t 3: rsp 0.62 < 0.8" in status.text()
    data = status.to_dict()
    assert data["quality"] == {"488": "ok", "561": "bad"} and data["warning"]
    assert LiveStatus.from_dict(data) == status
    feed.push_sr(np.zeros((4, 4), np.float32), channel=0, t=4)  # keeps the lights
    feed.push_quality("561", "ok", t=4)
    status = feed.status()
    assert status.quality == (("488", "ok"), ("561", "ok")) and status.warning == ""


def test_error_maps_follow_the_newest_checked_frame_per_channel() -> None:
    feed = PreviewFeed()
    feed.push_sr(np.zeros((8, 8), np.float32), channel=1, t=5)
    assert feed.take().error_maps == []  # quality control off: no maps
    drawn = feed.take().image_version
    feed.push_error_map(np.full((4, 4), 5, np.float32), channel=1, t=5)
    frame = feed.take()
    assert frame.image_version > drawn  # an overlay may need a redraw
    assert frame.error_maps[0] is None and frame.error_maps[1][0, 0] == 5
    feed.push_error_map(np.full((4, 4), 2, np.float32), channel=1, t=2)  # backfilled, late
    assert feed.take().error_maps[1][0, 0] == 5
    feed.push_error_map(np.full((4, 4), 2, np.float32), channel=1, t=2, replace=True)  # browsing
    assert feed.take().error_maps[1][0, 0] == 2
    feed.push_error_map(None, channel=1, t=3, replace=True)  # a browsed frame without a map
    assert feed.take().error_maps == []
