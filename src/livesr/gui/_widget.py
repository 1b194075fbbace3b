"""`LiveSRWidget`: pymmcore-widgets' MDA widget with a "Live SR" switch and the ndv live view.

pymmcore-gui and napari-micromanager both build their MDA panel on
``pymmcore_widgets.MDAWidget``; this widget is that panel plus livesr. With "Live SR" on, Run
acquires the sequence the user set up as SIM (`livesr.acquire.sim_events` adds the pattern
events, so the user's sequence has no SIM axis) through a `LivePipeline`: raw, wide-field and SR
go to a run store, and the WF | SR view (`livesr.preview.PreviewWindow`, ndv) follows the run.
With it off, Run is the widget's ordinary MDA. Pause and Cancel are the MDA widget's own.

Why not a handler inside the GUI's own Run: the GUIs hand ``core.mda.run`` an output sized for
the plain sequence (pymmcore-gui's default is ``output="memory"``); nine pattern frames per event
overflow it (ome-writers raises ``IndexError`` and the MDA stops), and a frameReady handler
alone cannot add the pattern events. So live SR owns the Run it turns on.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy import QtCore, QtWidgets

from livesr._logger import logger
from livesr.preview import PipelineTap, PreviewFeed, attach
from livesr.preview._window import PreviewWindow

if TYPE_CHECKING:
    import useq
    from pymmcore_plus import CMMCorePlus

    from livesr.config import PipelineConfig
    from livesr.pipeline import LivePipeline, PipelineSummary

__all__ = ["LiveSRWidget"]

#: Model choices in the widget: label -> value passed to `run_live` for every channel
#: (None: `livesr.pipeline.default_model`, the bundled DFCAN weights where installed).
MODEL_CHOICES: dict[str, str | None] = {
    "bundled DFCAN (Wiener where none)": None,
    "Wiener SIM (conventional)": "wiener",
}


def _mda_widget_class() -> type:
    """pymmcore-widgets' ``MDAWidget`` whose Run defers to its `LiveSRWidget` when switched on."""
    from pymmcore_widgets import MDAWidget

    class _LiveSRMDAWidget(MDAWidget):
        def __init__(self, owner: LiveSRWidget, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._owner = owner

        def execute_mda(self, output: Any) -> None:
            if self._owner.live_sr:
                self._owner.start(self.value())
            else:
                super().execute_mda(output)

    return _LiveSRMDAWidget


class LiveSRWidget(QtWidgets.QWidget):
    """An MDA panel that runs the sequence as SIM with live SR, and shows WF | SR live on ndv.

    Parameters
    ----------
    mmcore : CMMCorePlus, optional
        The GUI's core (default: ``CMMCorePlus.instance()``, as pymmcore-widgets does). Its
        pattern device (``pattern_device``) and channel presets must be those of a SIM
        microscope (e.g. `livesr.acquire.open_core` ``("demo")``).
    store : str or Path
        Run store to write; an existing path gets a number (``run_001.zarr``, ...).
    model : str, optional
        ``"wiener"``, bundled weights name or ``.safetensors`` path for every channel; None
        picks `livesr.pipeline.default_model` per channel.
    backend : str
        Network backend (``"auto"``, ``"onnxruntime-cpu"``, ...).
    config : PipelineConfig, optional
        Optics, pattern, backlog, writer options.
    pattern_device : str
        Device whose Label selects the SIM pattern.
    parent : QWidget, optional

    Attributes
    ----------
    mda : pymmcore_widgets.MDAWidget
        The MDA panel (channels, time plan, positions ...; Run / Pause / Cancel).
    preview : PreviewWindow or None
        The live WF | SR view of the current (or last) run.

    Signals
    -------
    runFinished(object)
        On the GUI thread when a live SR run ends: its `PipelineSummary`, or the exception that
        stopped it.

    Notes
    -----
    GUI thread only. Importing pymmcore-widgets sets ``PYMM_SIGNALS_BACKEND=qt`` unless it is
    set (pymmcore-widgets' choice): cores made afterwards emit Qt signals, which the live
    pipeline connects to directly (`livesr.acquire.connect_direct`).
    """

    runFinished = QtCore.Signal(object)
    # Emitted on the run's thread; Qt queues it to the GUI thread, where the widget lives.
    _done = QtCore.Signal(object)

    def __init__(
        self,
        *,
        mmcore: CMMCorePlus | None = None,
        store: str | Path = "livesr_run.zarr",
        model: str | None = None,
        backend: str = "auto",
        config: PipelineConfig | None = None,
        pattern_device: str = "Pattern",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        from pymmcore_plus import CMMCorePlus

        self._mmc = mmcore or CMMCorePlus.instance()
        self._backend = backend
        self._config = config
        self._pattern_device = pattern_device
        self._thread: threading.Thread | None = None
        self._tap: PipelineTap | None = None
        self.preview: PreviewWindow | None = None
        self.feed: PreviewFeed | None = None
        self.last_store: Path | None = None

        self.mda = _mda_widget_class()(self, mmcore=self._mmc)
        # The run store replaces the MDA widget's own save options while live SR is on.
        self._switch = QtWidgets.QCheckBox("Live SR: acquire as SIM, reconstruct while acquiring")
        self._switch.setChecked(True)
        self._switch.toggled.connect(self._on_switch)
        self._store = QtWidgets.QLineEdit(str(store))
        self._model = QtWidgets.QComboBox()
        for label, value in MODEL_CHOICES.items():
            self._model.addItem(label, value)
        if model is not None and model not in MODEL_CHOICES.values():
            self._model.addItem(model, model)
        if model is not None:
            self._model.setCurrentIndex(self._model.findData(model))
        self._status = QtWidgets.QLabel("live SR idle")
        self._status.setWordWrap(True)

        options = QtWidgets.QFormLayout()
        options.addRow(self._switch)
        options.addRow("run store", self._store)
        options.addRow("reconstruction", self._model)
        self._options = QtWidgets.QGroupBox("livesr")
        self._options.setLayout(options)
        self._view_box = QtWidgets.QVBoxLayout()
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self._options)
        layout.addWidget(self.mda, stretch=1)
        layout.addWidget(self._status)
        layout.addLayout(self._view_box, stretch=2)
        self._done.connect(self._on_done)
        self._on_switch(True)

    @property
    def mmcore(self) -> CMMCorePlus:
        """The core this widget acquires with (the GUI's, when docked in pymmcore-gui)."""
        return self._mmc

    @property
    def live_sr(self) -> bool:
        """Whether Run acquires with live SR (the switch)."""
        return bool(self._switch.isChecked())

    @live_sr.setter
    def live_sr(self, on: bool) -> None:
        self._switch.setChecked(on)

    @property
    def running(self) -> bool:
        """A live SR run (acquisition, reconstruction, backfill) is still going."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def status_text(self) -> str:
        """The status line under the MDA panel."""
        return str(self._status.text())

    def _on_switch(self, on: bool) -> None:
        self.mda.save_info.setVisible(not on)
        self._store.setEnabled(on)
        self._model.setEnabled(on)

    def start(self, sequence: useq.MDASequence) -> None:
        """Acquire `sequence` as SIM with live SR on a background thread (what Run does).

        Raises
        ------
        RuntimeError
            If a run is still going.
        """
        from livesr.pipeline import run_live

        if self.running:
            raise RuntimeError("a live SR run is still going: wait for it or cancel it")
        out = _next_free(Path(self._store.text()).expanduser())
        model = self._model.currentData()
        models = {ch.config: model for ch in sequence.channels} if model else None
        self.feed = feed = PreviewFeed()
        self._show_preview(feed, out)
        self.last_store = out
        self._status.setText(f"live SR: starting -> {out}")

        def connect(pipe: LivePipeline) -> None:
            self._tap = attach(pipe, feed)

        def job() -> None:
            result: PipelineSummary | BaseException
            try:
                result = run_live(
                    self._mmc, sequence, out, models=models, backend=self._backend,
                    config=self._config, pattern_device=self._pattern_device, connect=connect,
                )  # fmt: skip
            except BaseException as exc:  # shown in the widget; the GUI keeps running
                logger.exception("live SR run into %s failed", out)
                result = exc
            self._done.emit(result)

        self._thread = threading.Thread(target=job, name="livesr-gui-run", daemon=True)
        self._thread.start()

    def _show_preview(self, feed: PreviewFeed, out: Path) -> None:
        if self.preview is not None:
            self.preview.close()
            self._view_box.removeWidget(self.preview)
            self.preview.deleteLater()
        self.preview = PreviewWindow(feed, title=f"livesr: {out.name}")
        self._view_box.addWidget(self.preview)

    def _on_done(self, result: Any) -> None:
        if self._thread is not None:
            self._thread.join()
        if self._tap is not None:
            self._tap.detach()
            self._tap = None
        if self.preview is not None:
            self.preview.refresh()
        if isinstance(result, BaseException):
            self._status.setText(f"live SR failed: {result}")
        else:
            self._status.setText(
                f"live SR {result.status}: {result.sr_live + result.sr_backfilled} SR frames "
                f"in {self.last_store}  (look at it: livesr preview {self.last_store})"
            )
        self.runFinished.emit(result)

    def closeEvent(self, event: Any) -> None:
        if self.running:
            self._mmc.mda.cancel()
        super().closeEvent(event)


def _next_free(path: Path) -> Path:
    """`path`, or ``<stem>_001<suffix>``, ``_002`` ... beside it when it exists."""
    if not path.exists():
        return path
    for i in range(1, 10_000):
        candidate = path.with_name(f"{path.stem}_{i:03d}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"no free run store name next to {path}")
