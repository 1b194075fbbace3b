"""The live window: two ndv viewers, wide-field | SR, channels composited, and a status line.

Needs the ``viewer`` extra (ndv with a canvas backend, qtpy) and a Qt binding, PyQt6 or
PySide6: everything goes through ``qtpy``, so the window lives in whichever binding the
application (pymmcore-gui, napari, ``livesr``) already runs. The viewers never receive images
from the pipeline directly: a ``QTimer`` on the GUI thread pulls the newest state from a
:class:`~livesr.preview.PreviewFeed` at most `max_fps` times per second and hands ndv one
(C, Y, X) array per panel, so the drawing rate is capped and the acquisition thread never
waits for the screen. An "error map" check box draws each channel's quality error map in red
over the SR panel (`livesr.preview.error_map_overlays`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from numpy.typing import NDArray
from qtpy import QtCore, QtWidgets

from ._composite import error_map_limits, error_map_overlays, panel_limits
from ._feed import PreviewFeed, PreviewFrame
from ._ndv_panel import NdvPanel

__all__ = ["PreviewWindow", "ensure_app"]


def ensure_app() -> QtWidgets.QApplication:
    """The running ``QApplication``, created if there is none (main thread only)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([])
    assert isinstance(app, QtWidgets.QApplication)
    return app


class PreviewWindow(QtWidgets.QWidget):
    """Live preview of a run: ``[wide-field | SR]`` on ndv, channels composited, a status line.

    Each panel is an ``ndv.ArrayViewer`` in composite mode (channel 0 green, 1 magenta, ...);
    the wide-field panel is scaled by the SR factor so both show the same field at the same
    size. Contrast follows the data (robust percentiles, re-estimated twice a second) until
    the user sets a channel's limits in ndv; from then on that channel keeps the user's.

    Parameters
    ----------
    feed : PreviewFeed
        Where the newest images and status come from (filled by the pipeline's signals or by a
        :class:`~livesr.preview.StoreWatcher`).
    title : str
        Window title.
    max_fps : float
        Upper bound on redraws per second (default 30).
    poll : callable, optional
        Called on the GUI thread before each redraw check (a store watcher's ``poll``).
    seek : callable (int) -> None, optional
        Shows time point t; when given, the window gets a time slider.
    qc_overlay : bool
        Start with the error-map overlay on (the "error map" check box toggles it): each
        channel's newest quality error map, upsampled to the SR grid, in red over the SR
        image; none appear while the run has no quality control.
    parent : QWidget, optional

    Notes
    -----
    Create, show and close on the GUI (main) thread only. Usable as a widget inside another
    window (the `livesr.gui` MDA widget embeds one).
    """

    def __init__(
        self,
        feed: PreviewFeed,
        *,
        title: str = "livesr preview",
        max_fps: float = 30.0,
        poll: Callable[[], Any] | None = None,
        seek: Callable[[int], Any] | None = None,
        qc_overlay: bool = False,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        if max_fps <= 0:
            raise ValueError(f"max_fps must be positive, got {max_fps}")
        super().__init__(parent)
        self.setWindowTitle(title)
        self._feed = feed
        self._poll = poll
        self._seek = seek
        self._version = -1
        self._image_version = -1
        self.redraws = 0
        self._status_time = 0.0
        self._limits_time = -1.0
        self._n_present = (0, 0, False)

        self.wf_panel = NdvPanel("wide-field")
        self.sr_panel = NdvPanel("SR")
        panels = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        panels.addWidget(self.wf_panel)
        panels.addWidget(self.sr_panel)
        self._status = QtWidgets.QLabel(feed.status().text())
        self._status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(panels, stretch=1)
        self._slider: QtWidgets.QSlider | None = None
        if seek is not None:
            self._slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            self._slider.setRange(0, 0)
            self._slider.valueChanged.connect(self._on_slider)
            layout.addWidget(self._slider)
        self.error_map_box = QtWidgets.QCheckBox("error map")
        self.error_map_box.setToolTip(
            "Draw each channel's quality error map (|wide-field - blurred SR|, as SQUIRREL) in "
            "red over the SR image: red marks where the SR does not explain the wide-field."
        )
        self.error_map_box.setChecked(qc_overlay)
        self.sr_panel.set_overlay_visible(qc_overlay)
        self.error_map_box.toggled.connect(self._on_error_map_box)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self._status, stretch=1)
        bottom.addWidget(self.error_map_box)
        layout.addLayout(bottom)
        self.resize(1100, 560)

        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(max(1, round(1000.0 / max_fps)))
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    @property
    def qc_overlay(self) -> bool:
        """Whether the error-map overlay is on (the "error map" check box)."""
        return bool(self.error_map_box.isChecked())

    @qc_overlay.setter
    def qc_overlay(self, on: bool) -> None:
        self.error_map_box.setChecked(on)

    def _on_error_map_box(self, on: bool) -> None:
        self.sr_panel.set_overlay_visible(on)
        self._version = self._image_version = -1  # redraw now, with or without the maps
        self._limits_time = -1.0
        self.refresh()

    @property
    def status_text(self) -> str:
        """The status line as shown."""
        return str(self._status.text())

    def displayed(self) -> tuple[list[NDArray[Any] | None], list[NDArray[Any] | None]]:
        """(WF, SR) images per channel that ndv's canvases hold now (see `NdvPanel.displayed`)."""
        return self.wf_panel.displayed(), self.sr_panel.displayed()

    def displayed_error_maps(self) -> list[tuple[NDArray[Any], str, tuple[float, float]] | None]:
        """Per channel, the error map ndv draws over the SR: (data, colormap, limits) or None."""
        return self.sr_panel.displayed_overlays()

    def set_time_range(self, n_timepoints: int) -> None:
        """Let the slider reach time points 0 .. n_timepoints - 1."""
        if self._slider is not None and n_timepoints > 0:
            self._slider.setMaximum(n_timepoints - 1)

    def _show_time(self, t: int | None) -> None:
        """Move the slider to the time point on screen, without seeking again."""
        if self._slider is None or t is None or self._slider.isSliderDown():
            return
        blocked = self._slider.blockSignals(True)
        self._slider.setMaximum(max(self._slider.maximum(), t))
        self._slider.setValue(t)
        self._slider.blockSignals(blocked)

    def _on_slider(self, value: int) -> None:
        if self._seek is not None:
            self._seek(int(value))
            self.refresh()

    def refresh(self) -> bool:
        """Redraw if the feed changed since the last redraw; returns whether it did."""
        if self._poll is not None:
            self._poll()
        frame = self._feed.take(self._version)
        if frame is None:
            now = time.monotonic()
            if now - self._status_time > 0.5:
                # No new frame: still let the rate decay and the backlog move on screen.
                self._status.setText(self._feed.status().text())
                self._status_time = now
            return False
        self._status_time = time.monotonic()
        self._version = frame.version
        self._status.setText(frame.status.text())
        self._show_time(frame.status.t)
        if frame.image_version == self._image_version:
            return True  # only the status changed
        self._image_version = frame.image_version
        self._draw(frame)
        self.redraws += 1
        return True

    def _draw(self, frame: PreviewFrame) -> None:
        scale = _scale_between(frame.wf, frame.sr)
        self.wf_panel.set_scale(scale)
        self.wf_panel.set_channels(frame.wf)
        overlays = self._overlays(frame)
        self.sr_panel.set_channels(frame.sr, overlays)
        # Limits from a subsample twice a second (and when a channel first appears), not per
        # frame: cheap on the GUI thread, and the image does not flicker with each frame's noise.
        now = time.monotonic()
        present = (_count(frame.wf), _count(frame.sr), overlays is not None)
        if now - self._limits_time > 0.5 or present != self._n_present:
            wf_limits = panel_limits(frame.wf)
            sr_limits = panel_limits(frame.sr)
            if overlays is not None and sr_limits is not None:
                maps = (frame.error_maps + [None] * len(frame.sr))[: len(frame.sr)]
                sr_limits += error_map_limits(maps, wf_limits)
            self.wf_panel.set_limits(wf_limits)
            self.sr_panel.set_limits(sr_limits)
            self._limits_time = now
            self._n_present = present

    def _overlays(self, frame: PreviewFrame) -> list[NDArray[Any] | None] | None:
        """The error maps to hand the SR panel: upsampled when shown, None when never shown."""
        n = len(frame.sr)
        shape = next((im.shape[-2:] for im in frame.sr if im is not None), None)
        have_maps = any(m is not None for m in frame.error_maps)
        if shape is None or not self.qc_overlay or not have_maps:
            # Nothing to draw; a panel that has overlay channels keeps them (hidden, black).
            return [None] * n if self.sr_panel.has_overlays else None
        maps = (frame.error_maps + [None] * n)[:n]
        return error_map_overlays(maps, (int(shape[0]), int(shape[1])))


def _count(images: list[Any]) -> int:
    return sum(im is not None for im in images)


def _scale_between(wf: list[Any], sr: list[Any]) -> float:
    """SR pixels per WF pixel (1 until both kinds of image exist)."""
    wf_shape = next((im.shape for im in wf if im is not None), None)
    sr_shape = next((im.shape for im in sr if im is not None), None)
    if wf_shape is None or sr_shape is None:
        return 1.0
    return float(sr_shape[-1]) / float(wf_shape[-1])
