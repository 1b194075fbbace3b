"""OME-Zarr 0.5 metadata of the run store: image attributes, display windows, series OME-XML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
from numpy.typing import NDArray

__all__ = ["IMAGE_AXES", "display_window", "ome_image_attrs", "series_ome_xml"]

_COLORS = ("00FF00", "FF00FF", "00FFFF", "FFFF00", "FF0000", "0000FF")

#: Axes of every image of the store (wf, sr, sr_<model>), in order.
IMAGE_AXES = ("t", "c", "z", "y", "x")

#: Window of a channel before any data were written: the whole uint16 range.
_NO_DATA_WINDOW = {"start": 0.0, "end": 65535.0, "min": 0.0, "max": 65535.0}


def ome_image_attrs(
    name: str,
    channels: Sequence[str],
    *,
    dt_s: float,
    pixel_size_um: float,
    z_step_um: float,
    windows: Sequence[Mapping[str, float]] | None = None,
) -> dict[str, Any]:
    """The ``ome`` attribute of a single-resolution (t, c, z, y, x) image group.

    Parameters
    ----------
    name : str
        Image name (``"sr"``, ``"wf"``, ``"sr_<model>"``).
    channels : sequence of str
        Channel labels along ``c`` (colours are assigned in order).
    dt_s : float
        Time step, seconds (> 0).
    pixel_size_um : float
        Pixel size of this image, um.
    z_step_um : float
        Distance between z planes, um (> 0).
    windows : sequence of mappings, optional
        Per channel OMERO ``window`` (``start``, ``end``, ``min``, ``max``); the uint16 range
        until data are written (see `display_window`).

    Returns
    -------
    dict
        ``{"version": "0.5", "multiscales": [...], "omero": {...}}``, dataset path ``"0"``.
    """
    axes = [
        {"name": "t", "type": "time", "unit": "second"},
        {"name": "c", "type": "channel"},
        {"name": "z", "type": "space", "unit": "micrometer"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    scale = [float(dt_s), 1.0, float(z_step_um), float(pixel_size_um), float(pixel_size_um)]
    multiscale: dict[str, Any] = {
        "name": name,
        "axes": axes,
        "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]}
        ],
    }
    omero: dict[str, Any] = {
        "name": name,
        "channels": [
            {
                "label": str(c),
                "color": _COLORS[i % len(_COLORS)],
                "active": True,
                "window": dict(windows[i]) if windows else dict(_NO_DATA_WINDOW),
            }
            for i, c in enumerate(channels)
        ],
        "rdefs": {"model": "color"},
    }
    return {"version": "0.5", "multiscales": [multiscale], "omero": omero}


def display_window(samples: Sequence[NDArray[Any]]) -> dict[str, float] | None:
    """An OMERO window from sample frames of one channel: 0.1-99.9 percentiles and the range.

    Returns None when there is nothing to sample.
    """
    if not samples:
        return None
    data = np.concatenate([np.asarray(s, np.float32).ravel() for s in samples])
    data = data[np.isfinite(data)]
    if data.size == 0:
        return None
    lo, hi = (float(v) for v in np.percentile(data, [0.1, 99.9]))
    if hi <= lo:
        hi = lo + 1.0
    return {"start": lo, "end": hi, "min": float(data.min()), "max": float(max(data.max(), hi))}


def series_ome_xml(images: Sequence[Mapping[str, Any]]) -> str:
    """A minimal OME-XML document naming the store's series (``OME/METADATA.ome.xml``).

    bioformats2raw readers (napari-ome-zarr, OMERO, Bio-Formats) find the images through it:
    ``Image:<i>`` is series ``i``, the group at path ``i``.

    Parameters
    ----------
    images : sequence of mappings
        Per series: ``name``, ``size`` (t, c, z, y, x), ``pixel_size_um``, ``z_step_um``,
        ``dt_s``, ``channels`` (names) and ``type`` (OME pixel type, e.g. ``"float"``).
    """
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 '
        'http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd">',
    ]
    for i, im in enumerate(images):
        t, c, z, y, x = (int(v) for v in im["size"])
        parts.append(f'  <Image ID="Image:{i}" Name={quoteattr(str(im["name"]))}>')
        parts.append(
            f'    <Pixels ID="Pixels:{i}" DimensionOrder="XYZCT" Type="{im["type"]}" '
            f'SizeX="{x}" SizeY="{y}" SizeZ="{z}" SizeC="{c}" SizeT="{t}" '
            f'PhysicalSizeX="{im["pixel_size_um"]}" PhysicalSizeY="{im["pixel_size_um"]}" '
            f'PhysicalSizeZ="{im["z_step_um"]}" TimeIncrement="{im["dt_s"]}">'
        )
        for j, ch in enumerate(im["channels"]):
            parts.append(
                f'      <Channel ID="Channel:{i}:{j}" Name={quoteattr(str(ch))} '
                'SamplesPerPixel="1"/>'
            )
        parts.append("      <MetadataOnly/>")
        parts.append("    </Pixels>")
        parts.append("  </Image>")
    parts.append("</OME>")
    return "\n".join(parts) + "\n"
