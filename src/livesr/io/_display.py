"""Display windows of a run store's images, set from the data when a run ends.

Viewers (napari-ome-zarr, OMERO) show each channel with the OMERO ``window`` of its image;
a live run cannot know it before its frames exist, so `DisplayWindows.update_display`
computes it from a sample of written frames (`SRStore.set_status`, ``livesr reprocess``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._ome import display_window
from ._store_layout import to_jsonable
from ._store_parts import StoreParts

if TYPE_CHECKING:
    import zarr

__all__ = ["DisplayWindows"]

#: Frames per channel sampled from the data for a display window.
_WINDOW_SAMPLES = 6


class DisplayWindows(StoreParts):
    """The display half of `SRStore` (a mixin: the store supplies group, info and arrays)."""

    if TYPE_CHECKING:

        def raw_done(self) -> NDArray[np.bool_]: ...
        def sr_done(self, name: str = "sr") -> NDArray[np.bool_]: ...
        def sr_names(self) -> tuple[str, ...]: ...
        def _image_path(self, name: str, p: int) -> str: ...
        def _image_array(self, name: str, p: int) -> zarr.Array: ...
        def _write_ome_xml(self) -> None: ...

    def update_display(self) -> None:
        """Set every image's OMERO windows from its data and the OME-XML sizes.

        Per image and channel, one window for all positions (so positions compare), from the
        0.1-99.9 percentiles of a few written frames spread over the run. Images without data
        keep their windows.
        """
        raw_done = self.raw_done()
        images: list[tuple[str, NDArray[np.bool_]]] = [("wf", raw_done)]
        images += [(name, self.sr_done(name)) for name in self.sr_names()]
        for name, done in images:
            windows = []
            for c in range(len(self.channels)):
                keys = np.argwhere(done[..., c])
                n = min(len(keys), _WINDOW_SAMPLES)
                picks = keys[np.linspace(0, len(keys) - 1, n).astype(int)] if n else keys
                arrays = [self._image_array(name, int(p)) for p in range(self.n_positions)]
                samples = [np.asarray(arrays[p][t, c, z]) for t, p, z in picks]
                windows.append(display_window(samples))
            for p in range(self.n_positions):
                group = self._group[self._image_path(name, p)]
                ome: dict[str, Any] = to_jsonable(group.attrs["ome"])
                omero: dict[str, Any] = ome["omero"]
                channels: list[dict[str, Any]] = omero["channels"]
                for ch, window in zip(channels, windows, strict=True):
                    if window is not None:
                        ch["window"] = window
                omero["channels"] = channels
                ome["omero"] = omero
                group.attrs["ome"] = ome
        self._write_ome_xml()
