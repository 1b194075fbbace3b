"""A dependency-free PNG writer for the headless snapshots.

Snapshots must work on a headless acquisition PC with the base install (no Pillow, no Qt), so
this module encodes 8-bit RGB or grey PNGs with zlib alone.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["encode_png", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(tag: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + tag
        + data
        + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    )


def encode_png(image: NDArray[np.uint8], *, level: int = 6) -> bytes:
    """Encode an image as PNG bytes.

    Parameters
    ----------
    image : ndarray, uint8, shape (Y, X) grey or (Y, X, 3) RGB
        The pixels, row 0 at the top.
    level : int
        zlib compression level (0-9).

    Returns
    -------
    bytes
    """
    if image.dtype != np.uint8:
        raise TypeError(f"PNG snapshots are 8-bit: got dtype {image.dtype}, expected uint8")
    if image.ndim == 2:
        color_type, planes = 0, 1
    elif image.ndim == 3 and image.shape[2] == 3:
        color_type, planes = 2, 3
    else:
        raise ValueError(f"expected a (Y, X) or (Y, X, 3) image, got shape {image.shape}")
    height, width = image.shape[:2]
    rows = np.ascontiguousarray(image).reshape(height, width * planes)
    # Filter type 0 (None) in front of every scanline.
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, level))
        + _chunk(b"IEND", b"")
    )


def write_png(path: str | Path, image: NDArray[np.uint8]) -> Path:
    """Write `image` as a PNG file atomically.

    The bytes go to a temporary file that is renamed over `path`, so a remote monitor that
    polls the file never reads half a snapshot.

    Parameters
    ----------
    path : str or Path
        Destination; its folder must exist.
    image : ndarray, uint8, shape (Y, X) or (Y, X, 3)
        The pixels, row 0 at the top.

    Returns
    -------
    Path
        `path`.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(encode_png(image))
    os.replace(tmp, path)
    return path
