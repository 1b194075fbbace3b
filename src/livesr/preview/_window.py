"""The Qt preview window: wide-field and SR side by side, two colours composited, a status line.

Needs a Qt binding (the ``viewer`` extra). The window never receives images from the pipeline
directly: a ``QTimer`` on the GUI thread pulls the newest state from a
:class:`~livesr.preview.PreviewFeed` at most `max_fps` times per second, so the drawing rate
is capped and the acquisition thread never waits for the screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from qtpy import QtCore, QtGui, QtWidgets

from ._composite import panel_limits, render_panels
from ._feed import PreviewFeed

__all__ = ["PreviewWindow", "ensure_app"]


def ensure_app() -> QtWidgets.QApplication:
    """The running ``QApplication``, created if there is none (main thread only)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([])
    assert isinstance(app, QtWidgets.QApplication)
    return app


class _ImagePane(QtWidgets.QWidget):
    """Draws one RGB image, scaled to fit with its aspect ratio kept, on a black background."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._qimage: QtGui.QImage | None = None
        self.setMinimumSize(256, 128)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding
        )

    def set_rgb(self, rgb: NDArray[np.uint8]) -> None:
        height, width = rgb.shape[:2]
        data = np.ascontiguousarray(rgb)
        # QImage wraps the buffer without copying; copy() gives it its own memory so `data`
        # can go away.
        fmt = QtGui.QImage.Format.Format_RGB888
        image = QtGui.QImage(data.data, width, height, 3 * width, fmt)
        self._qimage = image.copy()
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtCore.Qt.GlobalColor.black)
        if self._qimage is not None:
            keep = QtCore.Qt.AspectRatioMode.KeepAspectRatio
            size = self._qimage.size().scaled(self.size(), keep)
            x = (self.width() - size.width()) // 2
            y = (self.height() - size.height()) // 2
            target = QtCore.QRect(x, y, size.width(), size.height())
            # Nearest-neighbour keeps SR pixels crisp when enlarged.
            painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(target, self._qimage)
        painter.end()


class PreviewWindow(QtWidgets.QWidget):
    """Live preview of a run: ``[wide-field | SR]`` composite and a status line.

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
    parent : QWidget, optional

    Notes
    -----
    Create, show and close on the GUI (main) thread only.
    """

    def __init__(
        self,
        feed: PreviewFeed,
        *,
        title: str = "livesr preview",
        max_fps: float = 30.0,
        poll: Callable[[], Any] | None = None,
        seek: Callable[[int], Any] | None = None,
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
        self._rgb: NDArray[np.uint8] | None = None
        self.redraws = 0
        self._status_time = 0.0
        # Contrast limits are re-estimated twice a second, not per frame: cheaper, and the
        # image does not flicker with every frame's noise.
        self._limits: tuple[Any, Any] = (None, None)
        self._limits_time = -1.0

        self._header = QtWidgets.QLabel("wide-field  |  SR")
        self._header.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._pane = _ImagePane()
        self._status = QtWidgets.QLabel(feed.status().text())
        self._status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self._header)
        layout.addWidget(self._pane, stretch=1)
        self._slider: QtWidgets.QSlider | None = None
        if seek is not None:
            self._slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            self._slider.setRange(0, 0)
            self._slider.valueChanged.connect(self._on_slider)
            layout.addWidget(self._slider)
        layout.addWidget(self._status)
        self.resize(900, 520)

        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(max(1, round(1000.0 / max_fps)))
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    @property
    def image(self) -> NDArray[np.uint8] | None:
        """The composite last drawn, uint8 (H, W, 3), or None before the first image."""
        return self._rgb

    @property
    def status_text(self) -> str:
        """The status line as shown."""
        return str(self._status.text())

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
        if any(c is not None for c in frame.sr) or any(c is not None for c in frame.wf):
            now = time.monotonic()
            if now - self._limits_time > 0.5 or self._limits_changed(frame.wf, frame.sr):
                self._limits = (panel_limits(frame.wf), panel_limits(frame.sr))
                self._limits_time = now
            self._rgb = render_panels(
                frame.wf,
                frame.sr,
                wf_limits=self._limits[0],
                sr_limits=self._limits[1],
                max_height=max(64, self._pane.height()),
            )
            self._pane.set_rgb(self._rgb)
        self.redraws += 1
        return True

    @property
    def display_limits(self) -> tuple[Any, Any]:
        """(WF, SR) contrast limits per channel used for the last drawing."""
        return self._limits

    def _limits_changed(self, wf: list[Any], sr: list[Any]) -> bool:
        """A channel appeared (the first frames): estimate its limits right away."""

        def present(images: list[Any] | None) -> int:
            return 0 if images is None else sum(im is not None for im in images)

        old_wf, old_sr = self._limits
        return present(old_wf) != present(wf) or present(old_sr) != present(sr)

    def screenshot(self) -> NDArray[np.uint8]:
        """Render the whole window to an RGB array uint8 (H, W, 3) (works offscreen)."""
        image = self.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB888)
        width, height, stride = image.width(), image.height(), image.bytesPerLine()
        buffer = np.frombuffer(image.constBits(), np.uint8, count=stride * height)
        return buffer.reshape(height, stride)[:, : 3 * width].reshape(height, width, 3).copy()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self._timer.stop()
        super().closeEvent(event)
