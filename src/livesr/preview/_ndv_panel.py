"""One preview panel: an ``ndv.ArrayViewer`` showing the newest image of every channel.

The viewer is built once, on a (C, Y, X) float32 array, in composite mode with the livesr
channel colours. Each new frame swaps the wrapped array (a new one every time, so a data
request ndv still runs on its worker thread never sees a half-written buffer) and emits
``data_changed`` (or ``dims_changed`` when the shape changed): ndv slices and uploads it on
the GUI thread, the one place its canvas may be touched.
"""

from __future__ import annotations

import warnings
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import NDArray
from qtpy import QtCore, QtWidgets

from ._composite import CHANNEL_COLORS

__all__ = ["NdvPanel"]

# ndv colormap names of CHANNEL_COLORS (green, magenta, cyan, yellow).
_CMAPS = ("green", "magenta", "cyan", "yellow")
assert len(_CMAPS) == len(CHANNEL_COLORS)


def _cmaps(n: int) -> list[str]:
    """One channel: grey, as in the snapshots; more: additive colours."""
    return ["gray"] if n == 1 else [_CMAPS[c % len(_CMAPS)] for c in range(n)]


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

    def set_channels(self, images: list[NDArray[Any] | None]) -> None:
        """Show the newest image per channel (None: no image yet, drawn black)."""
        present = [im for im in images if im is not None]
        if not present:
            return
        shape = present[0].shape[-2:]
        stack = np.zeros((len(images), *shape), np.float32)
        for c, image in enumerate(images):
            if image is not None and image.shape[-2:] == shape:
                stack[c] = image
        if self.viewer is None:
            self._create(stack)
            return
        if stack.shape[0] != self._wrapper.data.shape[0]:
            self._set_colors(stack)  # a channel appeared (its first SR frame)
        self._wrapper.swap(stack)

    def _create(self, stack: NDArray[np.float32]) -> None:
        import ndv
        from ndv.models import ClimsManual, LUTModel

        self._wrapper = _swappable_wrapper(stack)
        lo, hi = float(stack.min()), float(stack.max())
        clims = ClimsManual(min=lo, max=max(hi, lo + 1.0))
        luts: dict[int | None, Any] = {
            c: LUTModel(cmap=cmap, clims=clims) for c, cmap in enumerate(_cmaps(len(stack)))
        }
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

    def _set_colors(self, stack: NDArray[np.float32]) -> None:
        from ndv.models import ClimsManual, LUTModel

        luts = self.viewer.display_model.luts
        for c, cmap in enumerate(_cmaps(len(stack))):
            if c in luts:
                luts[c].cmap = cmap
            else:
                lo, hi = float(stack[c].min()), float(stack[c].max())
                luts[c] = LUTModel(cmap=cmap, clims=ClimsManual(min=lo, max=max(hi, lo + 1.0)))

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
        if self.viewer is None:
            return []
        # ndv keeps one controller per channel with the image handles it uploads to; there is
        # no public accessor (ndv 0.5), so this is the one place that reads it.
        controllers = getattr(self.viewer, "_lut_controllers", {})
        n = self._wrapper.data.shape[0]
        out: list[NDArray[Any] | None] = []
        for c in range(n):
            ctrl = controllers.get(c)
            handles = getattr(ctrl, "handles", None)
            out.append(np.asarray(handles[0].data()) if handles else None)
        return out

    def close_viewer(self) -> None:
        """Stop ndv's pending data requests (before the window goes away)."""
        if self.viewer is not None:
            self.viewer.close()
