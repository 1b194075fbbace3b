"""One preview panel: an ``ndv.ArrayViewer`` showing the newest image of every channel.

The viewer is built once, on a (C, Y, X) float32 array, in composite mode with the livesr
channel colours. Each new frame swaps the wrapped array (a new one every time, so a data
request ndv still runs on its worker thread never sees a half-written buffer) and emits
``data_changed`` (or ``dims_changed`` when the shape changed): ndv slices and uploads it on
the GUI thread, the one place its canvas may be touched.

An overlay (the quality error maps) is drawn as n more channels after the n image channels,
in red and additive like the others, named ``error map <c>`` in ndv's channel list. Once
shown they stay in the array and are hidden through their LUT's ``visible`` flag: ndv keeps
the layers of channels that disappear from the data, so shrinking the array would leave the
last map on screen.
"""

from __future__ import annotations

import warnings
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import NDArray
from qtpy import QtCore, QtWidgets

from ._composite import CHANNEL_COLORS, ERROR_MAP_COLOR

__all__ = ["NdvPanel"]

# ndv colormap names of CHANNEL_COLORS (green, magenta, cyan, yellow) and ERROR_MAP_COLOR.
_CMAPS = ("green", "magenta", "cyan", "yellow")
assert len(_CMAPS) == len(CHANNEL_COLORS)
_OVERLAY_CMAP = "red"
assert ERROR_MAP_COLOR == (1.0, 0.0, 0.0)


def _cmaps(n: int) -> list[str]:
    """One channel: grey, as in the snapshots; more: additive colours."""
    return ["gray"] if n == 1 else [_CMAPS[c % len(_CMAPS)] for c in range(n)]


def _roles(n_images: int, n_total: int) -> list[tuple[str, str]]:
    """(colormap, name) of every channel: the images', then their overlays' (if any)."""
    images = [(cmap, "") for cmap in _cmaps(n_images)]
    return images + [(_OVERLAY_CMAP, f"error map {c}") for c in range(n_total - n_images)]


def _swappable_wrapper(data: NDArray[Any]) -> Any:
    """An ndv `DataWrapper` of a numpy array whose array can be replaced (`swap`)."""
    from ndv.models._data_wrapper import ArrayLikeWrapper

    class _Swappable(ArrayLikeWrapper):
        # Lowest priority: ndv never picks it for other people's arrays.
        PRIORITY = 10_000

        @classmethod
        def supports(cls, obj: Any) -> TypeGuard[Any]:
            return False

        def swap(self, array: NDArray[Any]) -> None:
            reshaped = array.shape != self._data.shape
            self._data = array
            if reshaped:
                self.dims_changed.emit()
            # ndv requests data on data_changed only (not after a new shape is resolved).
            self.data_changed.emit()

    return _Swappable(data)


class NdvPanel(QtWidgets.QWidget):
    """A title and an ndv viewer of the newest image per channel (composite).

    Parameters
    ----------
    title : str
        Shown above the canvas (``"wide-field"``, ``"SR"``).
    parent : QWidget, optional

    Notes
    -----
    GUI thread only. The canvas appears with the first image.
    """

    def __init__(self, title: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = QtWidgets.QLabel(title)
        self._title.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self._title)
        self.setMinimumSize(256, 256)
        self.viewer: Any = None  # ndv.ArrayViewer, made with the first image
        self._wrapper: Any = None
        self._scale = 1.0
        self._auto: dict[int, Any] = {}  # channel -> the ClimsManual livesr set last
        self._n_images = 0
        self._roles: list[tuple[str, str]] = []  # (colormap, name) per channel index
        self._overlay_visible = False

    @property
    def has_overlays(self) -> bool:
        """Whether the array holds overlay channels (they stay once shown, maybe hidden)."""
        return len(self._roles) > self._n_images

    def set_channels(
        self,
        images: list[NDArray[Any] | None],
        overlays: list[NDArray[Any] | None] | None = None,
    ) -> None:
        """Show the newest image per channel (None: no image yet, drawn black).

        Parameters
        ----------
        images : list of (ndarray (Y, X) or None)
            Image per channel.
        overlays : list of (ndarray (Y, X) or None), optional
            Overlay per image channel on the same grid (None: nothing drawn); when given the
            array gets one more channel per image channel (see `set_overlay_visible`).
        """
        present = [im for im in images if im is not None]
        if not present:
            return
        shape = present[0].shape[-2:]
        n = len(images)
        stack = np.zeros((2 * n if overlays is not None else n, *shape), np.float32)
        for c, image in enumerate(images):
            if image is not None and image.shape[-2:] == shape:
                stack[c] = image
        for c, overlay in enumerate((overlays or [])[:n]):
            if overlay is not None and overlay.shape[-2:] == shape:
                stack[n + c] = overlay
        roles = _roles(n, len(stack))
        self._n_images = n
        if self.viewer is None:
            self._create(stack, roles)
            return
        if roles != self._roles:
            self._set_colors(stack, roles)  # a channel or the overlay appeared
        self._wrapper.swap(stack)

    def set_overlay_visible(self, visible: bool) -> None:
        """Show or hide the overlay channels (also those added later)."""
        self._overlay_visible = visible
        if self.viewer is None:
            return
        luts = self.viewer.display_model.luts
        for c in range(self._n_images, len(self._roles)):
            if c in luts:
                luts[c].visible = visible

    def _create(self, stack: NDArray[np.float32], roles: list[tuple[str, str]]) -> None:
        import ndv
        from ndv.models import ClimsManual, LUTModel

        self._wrapper = _swappable_wrapper(stack)
        lo, hi = float(stack.min()), float(stack.max())
        clims = ClimsManual(min=lo, max=max(hi, lo + 1.0))
        luts: dict[int | None, Any] = {
            c: LUTModel(cmap=cmap, name=name, clims=clims, visible=self._shown(c))
            for c, (cmap, name) in enumerate(roles)
        }
        self._roles = roles
        with warnings.catch_warnings():
            # ndv's buttons fetch their icons from iconify.design; an offline microscope PC
            # gets a fallback icon and should not get a warning per button.
            warnings.filterwarnings("ignore", "Error fetching icon", UserWarning)
            self.viewer = ndv.ArrayViewer(
                self._wrapper,
                channel_axis=0,
                channel_mode="composite",
                luts=luts,
                scales={1: self._scale, 2: self._scale},
            )
            self._layout.addWidget(self.viewer.widget(), stretch=1)

    def _shown(self, c: int) -> bool:
        return c < self._n_images or self._overlay_visible

    def _set_colors(self, stack: NDArray[np.float32], roles: list[tuple[str, str]]) -> None:
        from ndv.models import ClimsManual, LUTModel

        luts = self.viewer.display_model.luts
        for c, (cmap, name) in enumerate(roles):
            if c < len(self._roles) and self._roles[c] == (cmap, name):
                continue  # unchanged: keep what the user set (visibility, limits)
            self._auto.pop(c, None)  # new limits for a channel with a new role
            lo, hi = float(stack[c].min()), float(stack[c].max())
            clims = ClimsManual(min=lo, max=max(hi, lo + 1.0))
            if c in luts:
                luts[c].cmap, luts[c].name, luts[c].visible = cmap, name, self._shown(c)
                luts[c].clims = clims
            else:
                luts[c] = LUTModel(cmap=cmap, name=name, clims=clims, visible=self._shown(c))
        self._roles = roles

    def set_scale(self, scale: float) -> None:
        """Display size of one pixel (the wide-field panel: the SR factor)."""
        if scale == self._scale:
            return
        self._scale = scale
        if self.viewer is not None:
            self.viewer.display_model.scales.update({1: scale, 2: scale})

    def set_limits(self, limits: list[tuple[float, float] | None] | None) -> None:
        """Contrast per channel, except where the user changed it in ndv since."""
        if self.viewer is None or limits is None:
            return
        from ndv.models import ClimsManual

        luts = self.viewer.display_model.luts
        for c, lim in enumerate(limits):
            if lim is None or c not in luts:
                continue
            current = luts[c].clims
            if c in self._auto and current != self._auto[c]:
                continue  # the user's choice wins
            self._auto[c] = ClimsManual(min=lim[0], max=lim[1])
            luts[c].clims = self._auto[c]

    def displayed(self) -> list[NDArray[Any] | None]:
        """The image per channel that ndv's canvas holds now (None before it has one).

        Read back from ndv's image layers (what the GPU draws), for tests and benchmarks:
        offscreen there may be no OpenGL context to render pixels from.
        """
        return [layer[0] for layer in self._layers(range(self._n_images))]

    def displayed_overlays(self) -> list[tuple[NDArray[Any], str, tuple[float, float]] | None]:
        """Per image channel, the overlay ndv draws now: (data, colormap name, (lo, hi)).

        None where no overlay is drawn (none yet, or hidden). Read back like `displayed`.
        """
        out: list[tuple[NDArray[Any], str, tuple[float, float]] | None] = []
        for data, handle in self._layers(range(self._n_images, len(self._roles))):
            if data is None or not handle.visible():
                out.append(None)
            else:
                lo, hi = handle.clims()
                out.append((data, handle.colormap().name, (float(lo), float(hi))))
        return out

    def _layers(self, channels: range) -> list[tuple[NDArray[Any] | None, Any]]:
        """(data, ndv image handle) of ndv's layer of each channel, (None, None) if none."""
        if self.viewer is None:
            return []
        # ndv keeps one controller per channel with the image handles it uploads to; there is
        # no public accessor (ndv 0.5), so this is the one place that reads it.
        controllers = getattr(self.viewer, "_lut_controllers", {})
        out: list[tuple[NDArray[Any] | None, Any]] = []
        for c in channels:
            handles = getattr(controllers.get(c), "handles", None)
            out.append((np.asarray(handles[0].data()), handles[0]) if handles else (None, None))
        return out

    def close_viewer(self) -> None:
        """Stop ndv's pending data requests (before the window goes away)."""
        if self.viewer is not None:
            self.viewer.close()
