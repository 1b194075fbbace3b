from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("qtpy")

from livesr.preview import PreviewFeed, PreviewWindow, ensure_app, render_panels


def _blobs(shape: tuple[int, int], seed: int) -> np.ndarray:
    """A few bright Gaussian spots: an image whose layout a screenshot must reproduce."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = np.zeros(shape, np.float32)
    for cy, cx in rng.uniform(0.1, 0.9, (6, 2)) * shape:
        image += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (shape[0] / 20) ** 2))
    return image


def _pane_pixels(window: PreviewWindow, shot: np.ndarray, image_shape: tuple[int, ...]):
    """The part of the screenshot where the pane drew the composite (aspect ratio kept)."""
    pane = window._pane.geometry()
    h, w = image_shape[:2]
    scale = min(pane.width() / w, pane.height() / h)
    dw, dh = round(w * scale), round(h * scale)
    x0 = pane.x() + (pane.width() - dw) // 2
    y0 = pane.y() + (pane.height() - dh) // 2
    crop = shot[y0 : y0 + dh, x0 : x0 + dw].astype(np.float32)
    # Sample the crop back on the composite's grid.
    ys = ((np.arange(h) + 0.5) * dh / h).astype(int)
    xs = ((np.arange(w) + 0.5) * dw / w).astype(int)
    return crop[ys[:, None], xs[None, :]]


def test_offscreen_screenshot_shows_the_sr_image():
    app = ensure_app()
    feed = PreviewFeed()
    window = PreviewWindow(feed, max_fps=30)
    window.resize(800, 400)
    window.show()
    sr = [_blobs((64, 64), 1), _blobs((64, 64), 2)]
    wf = [_blobs((32, 32), 3), _blobs((32, 32), 4)]
    for c in (0, 1):
        feed.push_wf(wf[c], channel=c)
        feed.push_sr(sr[c], channel=c, t=7, latency_ms=250, backlog=1)
    app.processEvents()
    window.refresh()  # the timer may have drawn already
    assert window.redraws > 0
    app.processEvents()

    shot = window.screenshot()
    expected = render_panels(wf, sr)
    seen = _pane_pixels(window, shot, expected.shape)
    sr_seen = seen[:, -64:].reshape(-1)
    sr_expected = expected[:, -64:].astype(np.float32).reshape(-1)
    assert sr_seen.max() > 100  # not a black canvas
    assert np.corrcoef(sr_seen, sr_expected)[0, 1] > 0.95
    # Both colours are on screen: green (channel 0) and magenta (channel 1).
    assert seen[..., 1].max() > 100 and seen[..., 0].max() > 100
    assert window.status_text.startswith("t 7 |")
    assert "latency 0.25 s" in window.status_text
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
    newest = window.image.copy()

    window._slider.setValue(0)  # what dragging the slider does
    app.processEvents()
    assert window.status_text.startswith("t 0 |")
    assert not np.array_equal(window.image, newest)
    assert not watcher.follow
    window.close()
