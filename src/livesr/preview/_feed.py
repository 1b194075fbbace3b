"""The hand-off between the pipeline's threads and whatever draws the preview.

The pipeline emits its signals on the acquisition and inference threads. Their slots here only
store a reference to the newest image and bump a counter under a lock (O(1), no copy, no
drawing), so a slow or frozen viewer can never hold up acquisition. The viewer (Qt timer, at
most ~30 Hz) and the snapshot thread pull the newest state with :meth:`PreviewFeed.take`, and do
all the costly work (averaging, contrast, colour) on their own thread.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["LiveStatus", "PreviewFeed", "PreviewFrame"]

# Wide-field images kept per channel to pair with SR frames that lag behind.
_WF_KEEP = 16


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """What the status line shows.

    Attributes
    ----------
    t : int or None
        Time point of the newest SR frame (None before the first one).
    sr_fps : float
        SR frames per second over the last few seconds.
    latency_ms : float or None
        Last raw frame acquired -> SR frame ready, for the newest live SR frame, in ms.
    backlog : int
        Stacks waiting for reconstruction when the newest SR frame was made.
    skipped : int
        Stacks the live reconstruction skipped so far (backfilled from disk later).
    frames : int
        SR frames received so far.
    finished : bool
        The pipeline reported that it finished.
    quality : tuple of (channel, level)
        Traffic light of each channel's newest checked SR frame (``"ok"``, ``"warn"``,
        ``"bad"``; `livesr.pipeline.quality_level`), in channel order.
    warning : str
        Why the newest untrustworthy frame is not ok (``"561 t 3: rsp 0.62 < 0.8"``); empty
        while every channel's newest frame is ok.
    """

    t: int | None = None
    sr_fps: float = 0.0
    latency_ms: float | None = None
    backlog: int = 0
    skipped: int = 0
    frames: int = 0
    finished: bool = False
    quality: tuple[tuple[str, str], ...] = ()
    warning: str = ""

    def text(self) -> str:
        """One line for the window or a log: ``t 12 | SR 4.1 fps | latency 0.21 s | ...``."""
        t = "-" if self.t is None else str(self.t)
        latency = "-" if self.latency_ms is None else f"{self.latency_ms / 1e3:.2f} s"
        state = " | finished" if self.finished else ""
        lights = ""
        if self.quality:
            marks = {"ok": "ok", "warn": "WARN", "bad": "BAD"}
            lights = " | QC " + ", ".join(f"{ch} {marks.get(lv, lv)}" for ch, lv in self.quality)
        warning = f" | untrustworthy: {self.warning}" if self.warning else ""
        return (
            f"t {t} | SR {self.sr_fps:.1f} fps | latency {latency} | "
            f"backlog {self.backlog} | skipped {self.skipped}{lights}{warning}{state}"
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LiveStatus:
        """Inverse of `to_dict` (``status.json``)."""
        fields = dict(data)
        fields["quality"] = tuple(dict(fields.get("quality") or {}).items())
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``status.json`` next to headless snapshots)."""
        return {
            "t": self.t,
            "sr_fps": round(self.sr_fps, 3),
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "backlog": self.backlog,
            "skipped": self.skipped,
            "frames": self.frames,
            "finished": self.finished,
            "quality": dict(self.quality),
            "warning": self.warning,
        }


@dataclass(frozen=True, slots=True)
class PreviewFrame:
    """The newest images per channel and the status, as handed to a renderer.

    Attributes
    ----------
    version : int
        Increases with every update; pass it back to :meth:`PreviewFeed.take`.
    image_version : int
        Increases only when the images to draw changed.
    wf : list of (ndarray (Y, X) float32 or None)
        Wide-field image per channel index.
    sr : list of (ndarray (sY, sX) float32 or None)
        SR image per channel index.
    status : LiveStatus
    error_maps : list of (ndarray (Y, X) float32 or None)
        Newest quality error map per channel index, on the camera grid (NaN border; see
        `livesr.pipeline.QualityInfo.error_map`); empty when quality control is off.
    """

    version: int
    image_version: int
    wf: list[NDArray[np.float32] | None]
    sr: list[NDArray[np.float32] | None]
    status: LiveStatus
    error_maps: list[NDArray[np.float32] | None] = field(default_factory=list)


def _channel_list(items: dict[int, Any]) -> list[Any]:
    return [items.get(i) for i in range(max(items) + 1)] if items else []


class PreviewFeed:
    """Thread-safe mailbox of the newest WF and SR images and the live status.

    Writers (any thread, O(1)): :meth:`push_sr`, :meth:`push_raw`, :meth:`push_wf`,
    :meth:`push_quality`, :meth:`push_error_map`, :meth:`push_skipped`, :meth:`mark_finished`.
    Reader (one renderer thread): :meth:`take`.

    Parameters
    ----------
    fps_window_s : float
        Span over which the SR rate is averaged.
    clock : callable, optional
        Monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(self, fps_window_s: float = 3.0, clock: Any = time.perf_counter) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._window = fps_window_s
        self._version = 0
        # Bumped only when what would be drawn changes (not for a WF image that runs ahead of
        # the SR on screen, nor for status changes): renderers skip redrawing otherwise.
        self._image_version = 0
        # Per channel: (time point, SR image) of the newest time point seen.
        self._sr: dict[int, tuple[int | None, NDArray[Any]]] = {}
        # Per channel: the last few wide-field images by time point, so the window pairs an SR
        # frame with the WF of the same time point although SR lags behind. Raw stacks are kept
        # as references and averaged to WF by the reader, not the writer.
        self._wf: dict[int, OrderedDict[int | None, tuple[NDArray[Any], bool]]] = {}
        # Per channel: (time point, error map) of the newest checked SR frame.
        self._maps: dict[int, tuple[int | None, NDArray[Any]]] = {}
        self._times: deque[float] = deque(maxlen=1024)
        self._status = LiveStatus()
        self._fixed_fps: float | None = None
        #: Optional callable returning the current backlog (stacks waiting); called by the
        #: reader, so the status shows the backlog now rather than at the last SR frame.
        self.backlog_source: Callable[[], int] | None = None

    # -- writers: called from pipeline threads; O(1), never raise into the caller ----------
    def push_sr(
        self,
        image: NDArray[Any],
        *,
        channel: int = 0,
        t: int | None = None,
        latency_ms: float | None = None,
        backlog: int | None = None,
        replace: bool = False,
    ) -> None:
        """Store the newest SR frame.

        Parameters
        ----------
        image : ndarray, float32, shape (sY, sX) (or (1, sY, sX))
            The SR frame; kept by reference, so the caller must not reuse its buffer.
        channel : int
            Channel index.
        t : int, optional
            Time point (`livesr.pipeline.SRFrameInfo.t`).
        latency_ms : float, optional
            Last raw frame -> SR frame ready (`SRFrameInfo.latency_ms`; None when backfilled).
        backlog : int, optional
            Stacks waiting for reconstruction; None keeps the last value.
        replace : bool
            Show this frame even if a later time point is on screen (browsing a store).
        """
        c = channel
        now = self._clock()
        with self._lock:
            shown = self._sr.get(c)
            # A late frame (backfilled after a skip) is counted but does not replace a newer
            # time point on screen.
            if replace or shown is None or t is None or shown[0] is None or t >= shown[0]:
                self._sr[c] = (t, image)
                self._image_version += 1
            self._times.append(now)
            s = self._status
            self._status = LiveStatus(
                t=s.t if t is None else max(t, -1 if s.t is None else s.t),
                sr_fps=s.sr_fps,
                latency_ms=s.latency_ms if latency_ms is None else float(latency_ms),
                backlog=s.backlog if backlog is None else int(backlog),
                skipped=s.skipped,
                frames=s.frames + 1,
                finished=s.finished,
                quality=s.quality,
                warning=s.warning,
            )
            self._version += 1

    def push_raw(self, stack: NDArray[Any], *, channel: int = 0, t: int | None = None) -> None:
        """Store a raw SIM stack (F, Y, X) of time point `t`; the reader averages it to WF."""
        self._push_wf(stack, channel, t, is_stack=True)

    def push_wf(self, image: NDArray[Any], *, channel: int = 0, t: int | None = None) -> None:
        """Store the wide-field image (Y, X) of time point `t`."""
        self._push_wf(image, channel, t, is_stack=False)

    def _push_wf(self, image: NDArray[Any], c: int, t: int | None, *, is_stack: bool) -> None:
        with self._lock:
            recent = self._wf.setdefault(c, OrderedDict())
            recent.pop(t, None)
            recent[t] = (image, is_stack)
            while len(recent) > _WF_KEEP:
                recent.popitem(last=False)
            shown = self._sr.get(c)
            if shown is None or shown[0] is None or shown[0] == t:
                self._image_version += 1
            self._version += 1

    def push_skipped(self, count: int = 1) -> None:
        """Count stacks the live reconstruction skipped."""
        with self._lock:
            s = self._status
            self._status = _replace(s, skipped=s.skipped + count)
            self._version += 1

    def push_quality(
        self, channel: str, level: str, *, t: int | None = None, reasons: tuple[str, ...] = ()
    ) -> None:
        """Show the traffic light of `channel`'s newest checked SR frame (any thread; O(1)).

        A "warn" or "bad" frame sets the status warning (with its reasons); an "ok" frame of
        the channel that warned clears it.
        """
        with self._lock:
            s = self._status
            lights = dict(s.quality)
            lights[channel] = level
            warning = s.warning
            if level in ("warn", "bad"):
                where = channel if t is None else f"{channel} t {t}"
                warning = f"{where}: {'; '.join(reasons) or level}"
            elif warning.startswith(f"{channel} ") or warning.startswith(f"{channel}:"):
                warning = ""
            self._status = _replace(s, quality=tuple(lights.items()), warning=warning)
            self._version += 1

    def push_error_map(
        self,
        image: NDArray[Any] | None,
        *,
        channel: int = 0,
        t: int | None = None,
        replace: bool = False,
    ) -> None:
        """Store the quality error map of `channel`'s SR frame `t` (any thread; O(1)).

        Parameters
        ----------
        image : ndarray, float32, shape (Y, X), or None
            Camera-grid error map (`livesr.pipeline.QualityInfo.error_map`), kept by
            reference; None forgets the channel's map (a browsed frame without one).
        channel : int
            Channel index.
        t : int, optional
            Time point of the SR frame it checks.
        replace : bool
            Keep this map even if one of a later time point is held (browsing a store).
        """
        with self._lock:
            held = self._maps.get(channel)
            if image is None:
                self._maps.pop(channel, None)
            elif replace or held is None or t is None or held[0] is None or t >= held[0]:
                self._maps[channel] = (t, image)
            else:
                return  # a late map (a backfilled frame) does not replace a newer one
            self._image_version += 1
            self._version += 1

    def set_status(self, **fields: Any) -> None:
        """Overwrite status fields (``t``, ``backlog``, ``skipped``, ...) directly.

        A given ``sr_fps`` is kept from then on instead of the rate of pushed frames (a
        finished store shows its run's live SR rate, not how fast it was browsed).
        """
        with self._lock:
            if fields.get("sr_fps") is not None:
                self._fixed_fps = float(fields["sr_fps"])
            self._status = _replace(self._status, **fields)
            self._version += 1

    def mark_finished(self) -> None:
        """Record that the pipeline finished (the status line says so)."""
        self.set_status(finished=True)

    # -- reader ------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Update counter; changes whenever something was pushed."""
        return self._version

    def status(self) -> LiveStatus:
        """The current status with the SR rate (and backlog, if known) evaluated now."""
        with self._lock:
            status = _replace(self._status, sr_fps=self._fps_locked())
        return self._with_backlog(status)

    def _with_backlog(self, status: LiveStatus) -> LiveStatus:
        if self.backlog_source is None:
            return status
        try:
            return _replace(status, backlog=int(self.backlog_source()))
        except Exception:  # a finished pipeline may have dropped its queues
            return status

    def _fps_locked(self) -> float:
        if self._fixed_fps is not None:
            return self._fixed_fps
        now = self._clock()
        recent = [t for t in self._times if now - t <= self._window]
        if len(recent) < 2:
            return 0.0
        span = max(now - recent[0], recent[-1] - recent[0])
        return (len(recent) - 1) / span if span > 0 else 0.0

    def take(self, since: int = -1) -> PreviewFrame | None:
        """The newest images and status, or None if nothing changed since version `since`.

        Called on the renderer's thread; averaging raw stacks to wide-field happens here.
        """
        with self._lock:
            if self._version == since:
                return None
            version = self._version
            image_version = self._image_version
            sr = dict(self._sr)
            wf: dict[int, tuple[NDArray[Any], bool]] = {}
            for c, recent in self._wf.items():
                if not recent:
                    continue
                t_sr = sr[c][0] if c in sr else None
                # The WF of the SR frame's time point when still kept, else the newest.
                wf[c] = recent[t_sr] if t_sr in recent else next(reversed(recent.values()))
            status = _replace(self._status, sr_fps=self._fps_locked())
            maps = {c: image for c, (_, image) in self._maps.items()}
        status = self._with_backlog(status)
        wf_images = {
            c: np.asarray(img, np.float32).mean(axis=0)
            if is_stack
            else np.asarray(img, np.float32)
            for c, (img, is_stack) in wf.items()
        }
        sr_images = {
            c: np.asarray(img, np.float32).reshape(img.shape[-2:]) for c, (_, img) in sr.items()
        }
        return PreviewFrame(
            version=version,
            image_version=image_version,
            wf=_channel_list(wf_images),
            sr=_channel_list(sr_images),
            status=status,
            error_maps=_channel_list({c: np.asarray(m, np.float32) for c, m in maps.items()}),
        )
