"""The live window on ndv, offscreen: what its two viewers hold is what the feed holds."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("qtpy")
pytest.importorskip("ndv")

from livesr.preview import PreviewFeed, PreviewWindow, ensure_app
from viewer_helpers import same_images, settle


def _blobs(shape: tuple[int, int], seed: int) -> np.ndarray:
    """A few bright Gaussian spots."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = np.zeros(shape, np.float32)
    for cy, cx in rng.uniform(0.1, 0.9, (6, 2)) * shape:
        image += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (shape[0] / 20) ** 2))
    return image


def test_window_shows_the_newest_wf_and_sr_of_two_channels_side_by_side():
    app = ensure_app()
    feed = PreviewFeed()
    window = PreviewWindow(feed, max_fps=30)
    window.show()
    for t in range(3):
        sr = [_blobs((64, 64), 10 * t + 1), _blobs((64, 64), 10 * t + 2)]
        wf = [_blobs((32, 32), 10 * t + 3), _blobs((32, 32), 10 * t + 4)]
        for c in (0, 1):
            feed.push_wf(wf[c], channel=c, t=t)
            feed.push_sr(sr[c], channel=c, t=t, latency_ms=250, backlog=1)
        window.refresh()
        app.processEvents()
    shown_wf, shown_sr = settle(window, wf, sr)
    # The newest time point of both channels, in both panels.
    assert same_images(shown_wf, wf) and same_images(shown_sr, sr)
    # Composite: two colours, one per channel; WF drawn at the SR scale beside the SR.
    for panel in (window.wf_panel, window.sr_panel):
        model = panel.viewer.display_model
        assert str(model.channel_mode) == "composite"
        assert [model.luts[c].cmap.name for c in (0, 1)] == ["cmap:green", "cmap:magenta"]
    assert window.wf_panel.viewer.display_model.scales[2] == 2.0
    assert window.sr_panel.viewer.display_model.scales[2] == 1.0
    # Contrast follows the data (blobs peak near 1), re-estimated at most twice a second.
    clims = window.sr_panel.viewer.display_model.luts[0].clims
    assert 0.0 <= clims.min < clims.max < 2.0
    assert window.status_text.startswith("t 2 |")
    assert "latency 0.25 s" in window.status_text
    window.close()


def test_a_channel_that_appears_later_joins_the_composite():
    ensure_app()
    feed = PreviewFeed()
    window = PreviewWindow(feed)
    first = _blobs((16, 16), 1)
    feed.push_sr(first, channel=0, t=0)  # channel 1's first SR frame is still on its way
    window.refresh()
    settle(window, [], [first])
    luts = window.sr_panel.viewer.display_model.luts
    assert luts[0].cmap.name.endswith(":gray")
    second = _blobs((16, 16), 2)
    feed.push_sr(second, channel=1, t=0)
    window.refresh()
    shown = settle(window, [], [first, second])[1]
    assert same_images(shown, [first, second])
    assert [luts[c].cmap.name for c in (0, 1)] == ["cmap:green", "cmap:magenta"]
    window.close()


def test_contrast_set_by_the_user_is_kept():
    from ndv.models import ClimsManual

    ensure_app()
    feed = PreviewFeed()
    window = PreviewWindow(feed)
    feed.push_sr(_blobs((16, 16), 1), t=0)
    window.refresh()
    luts = window.sr_panel.viewer.display_model.luts
    luts[0].clims = ClimsManual(min=0.0, max=123.0)  # what dragging ndv's LUT slider does
    feed.push_sr(_blobs((16, 16), 2) * 5, t=1)
    window._limits_time = -1.0  # due for a new estimate
    window.refresh()
    assert (luts[0].clims.min, luts[0].clims.max) == (0.0, 123.0)
    window.close()


def test_redraws_only_when_something_changed():
    app = ensure_app()
    feed = PreviewFeed()
    window = PreviewWindow(feed)
    feed.push_sr(np.ones((8, 8), np.float32), t=0)
    assert window.refresh()
    assert not window.refresh()
    feed.push_sr(np.ones((8, 8), np.float32), t=1)
    assert window.refresh()
    app.processEvents()
    window.close()


def test_window_browses_a_store_with_its_slider(tmp_path):
    from livesr.io import SRStore
    from livesr.preview import StoreWatcher

    store = SRStore.create(
        tmp_path / "run.zarr", channels=["488"], n_patterns=9, frame_shape=(16, 16), scale=2
    )
    for t in range(3):
        key = (t, 0, 0, 0)  # (t, p, z, c)
        store.write_raw_frames(key, 0, np.zeros((9, 16, 16), np.uint16))
        store.write_wf(key, _blobs((16, 16), 10 + t))
        store.write_sr(key, _blobs((32, 32), 20 + t))
    store.set_status("finished")
    app = ensure_app()
    feed = PreviewFeed()
    watcher = StoreWatcher(store.path, feed, poll_interval_s=0.0)
    window = PreviewWindow(feed, poll=watcher.poll, seek=watcher.show)
    window.refresh()
    window.set_time_range(watcher.n_timepoints)
    assert window.status_text.startswith("t 2 |")
    settle(window, [_blobs((16, 16), 12)], [_blobs((32, 32), 22)])

    window._slider.setValue(0)  # what dragging the slider does
    app.processEvents()
    assert window.status_text.startswith("t 0 |")
    _, shown_sr = settle(window, [_blobs((16, 16), 10)], [_blobs((32, 32), 20)])
    assert same_images(shown_sr, [_blobs((32, 32), 20)])
    assert not watcher.follow
    window.close()


def _bad_corner() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(wf 16x16, sr 32x32, error map 16x16): the error is high in the top-left corner only."""
    wf = 100.0 + 1000.0 * _blobs((16, 16), 5)
    sr = np.repeat(np.repeat(wf, 2, axis=0), 2, axis=1)
    error = np.full((16, 16), 5.0, np.float32)  # far below 5 % of the wide-field range
    error[1:8, 1:8] = 600.0  # above 25 % of it: full red
    error[0, :] = error[:, 0] = np.nan  # the border the check ignores
    return wf.astype(np.float32), sr.astype(np.float32), error


def _red_drawn(window: PreviewWindow) -> np.ndarray | None:
    """How much red ndv draws over the SR (0..1 per SR pixel), once its layers hold the map;
    None while no error map is drawn."""
    app = ensure_app()
    for _ in range(300):
        app.processEvents()
        (overlay,) = window.displayed_error_maps() or [None]
        if overlay is not None and overlay[0].shape == (32, 32) and overlay[0].max() > 0:
            data, cmap, (lo, hi) = overlay
            assert "red" in cmap
            return np.clip((data - lo) / (hi - lo), 0.0, 1.0)
        time.sleep(0.01)
    return None


def test_the_error_map_overlay_draws_red_where_the_frame_is_untrustworthy():
    ensure_app()
    wf, sr, error = _bad_corner()
    feed = PreviewFeed()
    feed.push_wf(wf, t=0)
    feed.push_sr(sr, t=0)
    feed.push_error_map(error, t=0)
    window = PreviewWindow(feed, qc_overlay=True)
    window.show()
    window.refresh()
    settle(window, [wf], [sr])
    red = _red_drawn(window)
    assert red is not None
    bad = np.zeros((32, 32), bool)
    bad[2:16, 2:16] = True
    assert (red[bad] == 1.0).all() and (red[~bad] == 0.0).all()
    assert same_images(window.displayed()[1], [sr])  # the SR itself is unchanged

    window.error_map_box.setChecked(False)  # what clicking the box does
    assert not window.qc_overlay and _red_drawn(window) is None
    window.qc_overlay = True
    assert _red_drawn(window) is not None
    window.close()


def test_without_the_overlay_the_error_map_is_not_drawn():
    ensure_app()
    wf, sr, error = _bad_corner()
    feed = PreviewFeed()
    feed.push_wf(wf, t=0)
    feed.push_sr(sr, t=0)
    feed.push_error_map(error, t=0)
    window = PreviewWindow(feed)
    window.refresh()
    shown_sr = settle(window, [wf], [sr])[1]
    assert same_images(shown_sr, [sr])
    assert not window.sr_panel.has_overlays and window.displayed_error_maps() == []
    window.qc_overlay = True
    red = _red_drawn(window)
    assert red is not None and red[2:16, 2:16].min() == 1.0
    window.close()
