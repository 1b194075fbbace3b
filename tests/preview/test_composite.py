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
