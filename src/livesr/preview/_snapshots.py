"""Headless preview: periodic composite PNG snapshots next to the store, for remote monitoring.

A long run on a microscope PC is often watched from elsewhere (ssh, a shared drive, a web
page that shows a PNG). :class:`SnapshotWriter` writes, every `interval_s` seconds and only
when something changed, ``latest.png`` (the same ``[wide-field | SR]`` composite the window
shows, with the quality error maps in red over the SR when asked), ``status.json`` (the status
line as data) and, optionally, one ``t000012.png`` per snapshot, into ``<run>.preview/``
beside ``<run>.zarr``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from livesr._logger import exceptions_logged, logger

from ._composite import render_panels
from ._feed import PreviewFeed
from ._png import write_png

__all__ = ["SnapshotWriter", "snapshot_dir"]


def snapshot_dir(store_path: str | Path) -> Path:
    """Folder for the snapshots of the store at `store_path`: ``run.zarr`` -> ``run.preview``."""
    path = Path(store_path)
    return path.with_name(f"{path.stem if path.suffix == '.zarr' else path.name}.preview")


class SnapshotWriter:
    """Writes composite PNG snapshots of a :class:`PreviewFeed` on its own thread.

    Parameters
    ----------
    feed : PreviewFeed
        Source of the images and status.
    directory : str or Path
        Output folder (created).
    interval_s : float
        Seconds between snapshots.
    keep_all : bool
        Also keep one PNG per snapshot, named by time point, besides ``latest.png``.
    qc_overlay : bool
        Draw each channel's newest quality error map in red over the SR, as the window's
        "error map" overlay does.

    Notes
    -----
    Use as a context manager or call :meth:`start` and :meth:`stop`; :meth:`stop` writes a final
    snapshot so the last state of the run is on disk.
    """

    def __init__(
        self,
        feed: PreviewFeed,
        directory: str | Path,
        *,
        interval_s: float = 10.0,
        keep_all: bool = True,
        qc_overlay: bool = False,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.feed = feed
        self.directory = Path(directory)
        self.interval_s = float(interval_s)
        self.keep_all = keep_all
        self.qc_overlay = qc_overlay
        self.written: list[Path] = []
        self._version = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def write_now(self) -> Path | None:
        """Write a snapshot if the feed changed since the last one; returns the PNG path."""
        frame = self.feed.take(self._version)
        if frame is None:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        status = frame.status.to_dict()
        status_path = self.directory / "status.json"
        tmp = status_path.with_name(".status.json.tmp")
        tmp.write_text(json.dumps(status, indent=1))
        os.replace(tmp, status_path)
        self._version = frame.version
        if not any(c is not None for c in frame.sr) and not any(c is not None for c in frame.wf):
            return None
        rgb = render_panels(
            frame.wf, frame.sr, error_maps=frame.error_maps if self.qc_overlay else None
        )
        latest = write_png(self.directory / "latest.png", rgb)
        self.written.append(latest)
        if self.keep_all and frame.status.t is not None:
            self.written.append(write_png(self.directory / f"t{frame.status.t:06d}.png", rgb))
        return latest

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            with exceptions_logged("preview snapshot"):
                self.write_now()

    def start(self) -> SnapshotWriter:
        """Start the snapshot thread (a daemon, so it never keeps a finished run alive)."""
        if self._thread is not None:
            raise RuntimeError("this SnapshotWriter is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="livesr-snapshots", daemon=True)
        self._thread.start()
        logger.info(
            "writing preview snapshots to %s every %.1f s", self.directory, self.interval_s
        )
        return self

    def stop(self) -> None:
        """Stop the thread and write a last snapshot."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with exceptions_logged("final preview snapshot"):
            self.write_now()

    def __enter__(self) -> SnapshotWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
