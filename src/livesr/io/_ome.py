"""OME-Zarr 0.5 image metadata of the run store's (t, c, y, x) images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["ome_image_attrs"]

_COLORS = ("00FF00", "FF00FF", "00FFFF", "FFFF00", "FF0000", "0000FF")


def ome_image_attrs(
    name: str, channels: Sequence[str], dt_s: float, pixel_size_um: float
) -> dict[str, Any]:
    """The ``ome`` attribute of a single-resolution (t, c, y, x) image group.

    Parameters
    ----------
    name : str
        Image name.
    channels : sequence of str
        Channel labels along ``c`` (colours are assigned in order).
    dt_s : float
        Time step, seconds (> 0).
    pixel_size_um : float
        Pixel size of this image, um.

    Returns
    -------
    dict
        ``{"version": "0.5", "multiscales": [...], "omero": {...}}``, dataset path ``"0"``.
    """
    axes = [
        {"name": "t", "type": "time", "unit": "second"},
        {"name": "c", "type": "channel"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    multiscale: dict[str, Any] = {
        "name": name,
        "axes": axes,
        "datasets": [
            {
                "path": "0",
                "coordinateTransformations": [
                    {"type": "scale", "scale": [dt_s, 1.0, pixel_size_um, pixel_size_um]}
                ],
            }
        ],
    }
    omero: dict[str, Any] = {
        "channels": [
            {
                "label": str(c),
                "color": _COLORS[i % len(_COLORS)],
                "active": True,
                "window": {"start": 0.0, "end": 1.0, "min": 0.0, "max": 65535.0},
            }
            for i, c in enumerate(channels)
        ],
        "rdefs": {"model": "color"},
    }
    return {"version": "0.5", "multiscales": [multiscale], "omero": omero}
