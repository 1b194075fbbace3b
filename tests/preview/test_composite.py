from __future__ import annotations

import zlib

import numpy as np
import pytest

from livesr.preview import (
    auto_limits,
    composite,
    encode_png,
    panel_limits,
    render_panels,
    write_png,
)


def _decode_png(data: bytes) -> np.ndarray:
    """Minimal reader for the unfiltered 8-bit PNGs encode_png writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        tag = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        crc = int.from_bytes(data[pos + 8 + length : pos + 12 + length], "big")
        assert zlib.crc32(tag + body) & 0xFFFFFFFF == crc
        if tag == b"IHDR":
            header = body
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    width = int.from_bytes(header[0:4], "big")
    height = int.from_bytes(header[4:8], "big")
    planes = {0: 1, 2: 3}[header[9]]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * planes)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, planes).squeeze()


def test_auto_limits_ignore_outliers():
    rng = np.random.default_rng(0)
    image = rng.normal(100, 10, (256, 256)).astype(np.float32)
    image[0, :10] = 1e6  # a few hot pixels must not decide the contrast
    lo, hi = auto_limits(image, 1, 99)
    assert 60 < lo < 85
    assert 115 < hi < 140


def test_flat_image_gets_a_valid_range():
    lo, hi = auto_limits(np.full((8, 8), 7, np.uint16))
    assert hi > lo


def test_two_channels_are_green_and_magenta():
    a = np.zeros((4, 4), np.float32)
    b = np.zeros((4, 4), np.float32)
    a[0, 0] = 1.0
    b[3, 3] = 1.0
    rgb = composite([a, b], limits=[(0.0, 1.0), (0.0, 1.0)])
    assert rgb.dtype == np.uint8
    assert rgb.shape == (4, 4, 3)
    assert tuple(rgb[0, 0]) == (0, 255, 0)
    assert tuple(rgb[3, 3]) == (255, 0, 255)
    assert tuple(rgb[1, 1]) == (0, 0, 0)


def test_missing_channel_stays_black_and_mismatched_shapes_are_rejected():
    rgb = composite([None, np.ones((3, 3))], limits=[None, (0.0, 1.0)])
    assert rgb[..., 1].max() == 0  # channel 0 (green) has no image yet
    with pytest.raises(ValueError, match="one shape"):
        composite([np.ones((3, 3)), np.ones((4, 4))])


def test_panels_put_enlarged_wf_left_of_sr():
    wf = np.zeros((8, 8), np.float32)
    wf[:4, :4] = 1.0  # top-left quarter of the wide-field
    sr = np.zeros((16, 16), np.float32)
    sr[8:, 8:] = 1.0  # bottom-right quarter of the SR image
    panels = render_panels([wf], [sr], gap=2)
    assert panels.shape == (16, 16 + 2 + 16, 3)
    assert panels[:8, :8].min() == 255 and panels[8:, 8:16].max() == 0
    assert panels[:, 16:18].max() == 0
    right = panels[:, 18:]
    assert right[8:, 8:].min() == 255 and right[:8].max() == 0


def test_png_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (17, 23, 3), dtype=np.uint8)
    path = write_png(tmp_path / "x.png", rgb)
    np.testing.assert_array_equal(_decode_png(path.read_bytes()), rgb)
    grey = rgb[..., 0].copy()
    np.testing.assert_array_equal(_decode_png(encode_png(grey)), grey)
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed away


def test_png_needs_uint8():
    with pytest.raises(TypeError, match="uint8"):
        encode_png(np.zeros((4, 4), np.uint16))  # type: ignore[arg-type]


def test_png_opens_in_pillow(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    rgb = np.zeros((5, 7, 3), np.uint8)
    rgb[2, 3] = (10, 200, 30)
    write_png(tmp_path / "x.png", rgb)
    with image_module.open(tmp_path / "x.png") as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), rgb)


def test_panels_for_a_small_window_skip_pixels_but_keep_the_layout():
    sr = np.zeros((512, 512), np.float32)
    sr[256:, 256:] = 1.0
    wf = np.zeros((256, 256), np.float32)
    wf[:128, :128] = 1.0
    limits = panel_limits([sr])
    assert limits == [auto_limits(sr)]
    small = render_panels([wf], [sr], gap=2, max_height=128, sr_limits=limits)
    assert small.shape == (128, 128 + 2 + 128, 3)
    assert small[:64, :64].min() == 255 and small[64:, 64:128].max() == 0
    right = small[:, 130:]
    assert right[64:, 64:].min() == 255 and right[:64].max() == 0


def _scene_with_a_bad_corner() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(wf 16x16, sr 32x32, error map 16x16): a flat field whose error is high top-left only."""
    yy, xx = np.mgrid[:16, :16]
    wf = (100.0 + 1000.0 * ((yy + xx) % 5 == 0)).astype(np.float32)  # range about 1000
    sr = np.repeat(np.repeat(wf, 2, axis=0), 2, axis=1)
    error = np.full((16, 16), 5.0, np.float32)  # far below 5 % of the wide-field range
    error[1:8, 1:8] = 600.0  # above 25 %: full red
    error[0, :] = error[:, 0] = np.nan  # the border the check ignores
    return wf, sr, error


def test_error_map_overlay_is_red_where_the_error_is_high_and_only_when_asked():
    from livesr.preview import ERROR_MAP_RANGE, error_map_limits

    wf, sr, error = _scene_with_a_bad_corner()
    plain = render_panels([wf], [sr], gap=0)[:, 32:]  # the SR panel
    over = render_panels([wf], [sr], gap=0, error_maps=[error])[:, 32:]
    # Without the overlay the one channel is grey everywhere.
    assert (plain[..., 0] == plain[..., 1]).all() and (plain[..., 1] == plain[..., 2]).all()
    # With it: red added over the high-error corner (SR pixels 2..15), nothing elsewhere.
    bad = np.zeros((32, 32), bool)
    bad[2:16, 2:16] = True
    red = over[..., 0].astype(int) - over[..., 1].astype(int)
    assert (red[bad & (plain[..., 0] < 128)] > 100).all()
    assert (red[~bad] == 0).all()
    assert (over[..., 1:] == plain[..., 1:]).all()  # the SR itself is drawn as before
    # The map's range is tied to the wide-field's display range.
    lo, hi = auto_limits(wf)
    (limits,) = error_map_limits([error], [(lo, hi)])
    assert limits == pytest.approx(tuple(f * (hi - lo) for f in ERROR_MAP_RANGE))


def test_snapshots_draw_the_error_map_only_with_the_overlay_on(tmp_path):
    from livesr.preview import PreviewFeed, SnapshotWriter

    wf, sr, error = _scene_with_a_bad_corner()
    feed = PreviewFeed()
    feed.push_wf(wf, t=0)
    feed.push_sr(sr, t=0)
    feed.push_error_map(error, t=0)
    shots = {}
    for on in (False, True):
        writer = SnapshotWriter(feed, tmp_path / str(on), qc_overlay=on)
        png = writer.write_now()
        assert png is not None
        shots[on] = _decode_png(png.read_bytes())[:, -32:].astype(int)
    red = {on: shot[..., 0] - shot[..., 1] for on, shot in shots.items()}
    assert (red[False] == 0).all()
    assert red[True][2:16, 2:16].max() > 100 and (red[True][16:, 16:] == 0).all()
