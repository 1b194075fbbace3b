"""Feeding the preview from a run store on disk (``livesr preview run.zarr``).

Works for a finished store and for one that another process is still writing: every poll
re-opens the store (zarr caches array shapes, and a growing run resizes its arrays), finds the
newest time point whose SR frames of the shown position and z plane are written for every
channel, and pushes it, with the quality error maps where the run made them, into a
:class:`~livesr.preview.PreviewFeed`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr.io import SRStore, open_store

from ._feed import PreviewFeed

__all__ = ["StoreWatcher"]


class StoreWatcher:
    """Polls a run store and pushes its newest (or a chosen) time point into a feed.

    Parameters
    ----------
    path : str or Path
        The ``*.zarr`` run store.
    feed : PreviewFeed
        Receives wide-field and SR images per channel and the status.
    sr_name : str
        SR image to show (``"sr"`` or ``"sr_<model>"``).
    position : int
        Stage position (series) to show.
    z : int or None
        Z plane to show; None: the middle one.
    poll_interval_s : float
        Minimum seconds between two reads of the store; :meth:`poll` is cheap to call often.

    Notes
    -----
    Not thread-safe: call from one thread (the GUI thread, via the window's ``poll``).
    """

    def __init__(
        self,
        path: str | Path,
        feed: PreviewFeed,
        *,
        sr_name: str = "sr",
        position: int = 0,
        z: int | None = None,
        poll_interval_s: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self.feed = feed
        self.sr_name = sr_name
        self.poll_interval_s = poll_interval_s
        self.follow = True
        self.shown: int | None = None
        self.n_timepoints = 0
        self._last_poll = -np.inf
        store = open_store(self.path)
        if sr_name not in store.info["sr_images"]:
            known = sorted(store.info["sr_images"])
            raise KeyError(f"{self.path} has no SR image {sr_name!r}; it has {known}")
        self.channels = store.channels
        if not 0 <= position < store.n_positions:
            raise IndexError(
                f"{self.path} has positions 0..{store.n_positions - 1} "
                f"({', '.join(store.positions)}), not {position}"
            )
        self.z = store.n_z // 2 if z is None else z
        if not 0 <= self.z < store.n_z:
            raise IndexError(f"{self.path} has z planes 0..{store.n_z - 1}, not {self.z}")
        self.position = position

    def newest_complete(self) -> int | None:
        """Newest time point with SR of the position and z plane for every channel, or None."""
        store = open_store(self.path)
        done = store.sr_done(self.sr_name)[:, self.position, self.z]  # (T, C)
        self.n_timepoints = int(done.shape[0])
        complete = np.nonzero(done.all(axis=1))[0] if done.size else np.array([], int)
        return int(complete[-1]) if complete.size else None

    def poll(self, *, force: bool = False) -> bool:
        """In follow mode, show the newest complete time point if it changed.

        Returns whether new images were pushed.
        """
        now = time.monotonic()
        if not force and now - self._last_poll < self.poll_interval_s:
            return False
        self._last_poll = now
        newest = self.newest_complete()
        if not self.follow or newest is None or newest == self.shown:
            return False
        self._show(newest)
        return True

    def show(self, t: int) -> None:
        """Show time point `t` and stop following the newest (until `t` is the newest)."""
        newest = self.newest_complete()
        self.follow = newest is None or t >= newest
        self._show(t)

    def _show(self, t: int) -> None:
        store = open_store(self.path)
        n_t = store.n_timepoints
        if not 0 <= t < n_t:
            raise IndexError(f"time point {t} is outside this store's 0..{n_t - 1}")
        p, z = self.position, self.z
        done = store.sr_done(self.sr_name)[:, p, z]  # (T, C)
        missing = store.missing_sr(self.sr_name)
        sr = store.sr_array(self.sr_name, p)
        wf = store.wf_array(p)
        checked = store.has_quality(self.sr_name)
        for c in range(len(self.channels)):
            self.feed.push_wf(np.asarray(wf[t, c, z], np.float32), channel=c, t=t)
            if t < done.shape[0] and done[t, c]:
                image = np.asarray(sr[t, c, z], np.float32)
                self.feed.push_sr(image, channel=c, t=t, replace=True)
            if checked:
                self.feed.push_error_map(
                    _error_map(store, (t, p, z, c), self.sr_name), channel=c, t=t, replace=True
                )
        # The run's live SR rate as its summary defines it (None while the run is going on).
        sr_fps = (store.info.get("summary") or {}).get("sr_fps")
        self.feed.set_status(
            t=t, backlog=len(missing), finished=store.status != "running", skipped=0,
            **({} if sr_fps is None else {"sr_fps": float(sr_fps)}),
        )  # fmt: skip
        self.shown = t


def _error_map(store: SRStore, key: tuple[int, int, int, int], name: str) -> NDArray[Any] | None:
    """The stored error map of SR frame `key`, or None where none was made (all NaN)."""
    try:
        image = store.error_map(key, name)
    except IndexError:  # a growing run has not resized its quality arrays to t yet
        return None
    return None if np.isnan(image).all() else image
