"""Live quality control: a `livesr.qc` record and error map for every SR frame.

The checks run on a thread of their own (``livesr-qc``), fed by the inference worker after
each SR frame, live or backfilled. Why a thread and not the inference thread itself: the
inference thread only waits while a channel's reconstructor thread works, so checking frame
n there would hold up frame n+1; on the QC thread the check of frame n overlaps the
reconstruction of frame n+1 (numpy/scipy FFTs release the interpreter lock). The queue in
front of it is small and blocking: when the checks are slower than reconstruction they set
the SR pace (the inference worker's own latest-wins queue keeps acquisition unaffected and
backfills what it skips), so no SR frame goes unchecked; ``PipelineConfig.qc_every`` decimates
(every n-th time point) where that costs too much, and 0 turns the checks off.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from livesr._host import lower_current_thread_priority
from livesr._logger import exceptions_logged, logger
from livesr.config import PipelineConfig
from livesr.io import StackKey

from ._signals import QualityInfo, QualityLevel

if TYPE_CHECKING:
    from livesr.qc import QualityChecker, QualityRecord
    from livesr.reconstruct.conventional import SIMParameters

__all__ = ["QUALITY_THRESHOLDS", "QualitySink", "QualityWorker", "quality_level"]

#: Traffic-light thresholds: (warn beyond, bad beyond) per measure. rsp: SQUIRREL Pearson
#: correlation of the blurred SR with the wide-field (below is worse); chi2_max: worst
#: orientation's raw re-synthesis reduced chi^2 (about 1 when the SR explains the raw frames
#: down to noise); out_of_band: SR energy beyond the SIM passband, where raw data hold none.
#: A pattern fit that fell back to nominal values warns; a rejected one is bad. A measure that
#: could not be made (NaN) does not count.
QUALITY_THRESHOLDS: dict[str, tuple[float, float]] = {
    "rsp": (0.9, 0.8),
    "chi2_max": (2.0, 4.0),
    "out_of_band": (0.1, 0.25),
}

_FIT_ORDER = ("ok", "calibration", "nominal", "rejected")


def quality_level(
    record: QualityRecord, fit_status: str | None = None
) -> tuple[QualityLevel, tuple[str, ...]]:
    """Traffic light of a frame and the reasons it is not "ok" (`QUALITY_THRESHOLDS`).

    "bad": rsp < 0.8, chi^2 > 4 or out-of-band energy > 25 %, or a rejected pattern fit;
    "warn": rsp < 0.9, chi^2 > 2, out-of-band > 10 %, a nominal pattern, or no rsp at all
    (no signal to compare); "ok" otherwise.
    """
    bad: list[str] = []
    warn: list[str] = []
    values = {"rsp": record.rsp, "chi2_max": record.chi2_max, "out_of_band": record.out_of_band}
    for name, value in values.items():
        w, b = QUALITY_THRESHOLDS[name]
        if not math.isfinite(value):
            continue
        lower_is_worse = name == "rsp"
        if (value < b) if lower_is_worse else (value > b):
            bad.append(f"{name} {value:.3g} {'<' if lower_is_worse else '>'} {b:g}")
        elif (value < w) if lower_is_worse else (value > w):
            warn.append(f"{name} {value:.3g} {'<' if lower_is_worse else '>'} {w:g}")
    if not math.isfinite(record.rsp):
        warn.append("no rsp (no signal in the wide-field)")
    if fit_status == "rejected":
        bad.append("pattern fit rejected")
    elif fit_status == "nominal":
        warn.append("pattern not fitted (nominal values)")
    if bad:
        return "bad", (*bad, *warn)
    if warn:
        return "warn", tuple(warn)
    return "ok", ()


class QualitySink(Protocol):
    """Where `QualityWorker` puts each record and error map.

    The live `SRWriter`, or a ``livesr reprocess`` worker's collector (which writes them).
    """

    def put_quality(
        self, key: StackKey, values: Mapping[str, Any], error_map: NDArray[np.float32] | None
    ) -> None:
        """Take the record `values` (`livesr.io.QC_FIELDS`, chi2, modulation) of frame `key`."""


class _Item:
    __slots__ = ("backfill", "key", "params", "raw", "sr")

    def __init__(
        self,
        key: StackKey,
        sr: NDArray[np.float32],
        raw: NDArray[np.uint16],
        params: SIMParameters | None,
        backfill: bool,
    ) -> None:
        self.key, self.sr, self.raw, self.params, self.backfill = key, sr, raw, params, backfill


class _Channel:
    """One channel's checker and what describes the pattern it assumes."""

    def __init__(
        self,
        checker: QualityChecker,
        params: SIMParameters | None,
        source: str,
        fit_status: str | None,
        fit_confidence: float,
        drift_pct: float,
    ) -> None:
        self.checker = checker
        self.params = params
        self.source = source
        self.fit_status = fit_status
        self.fit_confidence = fit_confidence
        self.drift_pct = drift_pct


class QualityWorker:
    """Check SR frames on a thread of its own; records go to the SR writer, then qualityReady.

    Parameters
    ----------
    config : PipelineConfig
        Optics, pattern, camera and calibration; ``qc_every`` decimates.
    channels : tuple of str
        Channel names by index.
    raw_shape : (Y, X)
        Camera frame shape.
    scale : int
        SR pixels per camera pixel.
    sr_writer : QualitySink
        Writes records and maps (`SRWriter.put_quality` in a live run).
    emit : callable
        ``qualityReady`` emitter, called on this thread.
    nice : int
        Nice increment of this thread (like the reconstructor threads).
    maxsize : int
        Frames waiting for a check before `submit` blocks.
    """

    def __init__(
        self,
        config: PipelineConfig,
        channels: tuple[str, ...],
        raw_shape: tuple[int, int],
        scale: int,
        sr_writer: QualitySink,
        emit: Callable[[QualityInfo], None],
        nice: int = 0,
        maxsize: int = 4,
    ) -> None:
        self.config = config
        self.every = int(config.qc_every)
        self.channels = channels
        self.raw_shape = raw_shape
        self.scale = scale
        self._writer = sr_writer
        self._emit = emit
        self._nice = nice
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=max(1, maxsize))
        self._checkers: dict[int, _Channel] = {}
        self._first_photons: dict[tuple[int, int, int], float] = {}
        self.checked = 0
        self.failed = 0
        self.levels: Counter[str] = Counter()
        self.qc_ms: list[float] = []
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="livesr-qc", daemon=True)

    def wanted(self, key: StackKey) -> bool:
        """Whether stack `key` is checked (every `qc_every`-th time point)."""
        return self.every > 0 and key.t % self.every == 0

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def submit(
        self,
        key: StackKey,
        sr: NDArray[np.float32],
        raw: NDArray[np.uint16],
        params: SIMParameters | None = None,
        backfill: bool = False,
    ) -> None:
        """Queue a check of SR frame `key` (inference thread; blocks while the queue is full)."""
        if self.wanted(key) and self._thread.is_alive():
            self._queue.put(_Item(key, sr, raw, params, backfill))

    def check_now(
        self,
        key: StackKey,
        sr: NDArray[np.float32],
        raw: NDArray[np.uint16],
        params: SIMParameters | None = None,
        backfill: bool = True,
    ) -> None:
        """Check SR frame `key` on the calling thread, unqueued and undecimated (reprocessing).

        The same check as the thread's: record and map to the sink, `QualityInfo` to `emit`;
        unlike on the thread, an exception reaches the caller.
        """
        self._check(_Item(key, sr, raw, params, backfill))

    def close(self, timeout: float | None = None) -> None:
        """Check what is queued, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        lower_current_thread_priority(self._nice)
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._check(item)
            except Exception as exc:
                self.failed += 1
                logger.warning("quality check of SR frame %s failed: %s", item.key, exc)
                if len(self.errors) < 5:
                    self.errors.append(f"quality check of {item.key} failed: {exc}")

    def _channel(self, c: int, params: SIMParameters | None) -> _Channel:
        state = self._checkers.get(c)
        if state is not None and state.params is params:
            return state
        from livesr.qc import PatternState, QualityChecker, pattern_state

        cfg = self.config
        name = self.channels[c]
        optics_channel = name if name in cfg.optics.emission_um else None
        cal_params = self._calibrated(name)
        fit_status: str | None = None
        confidence = math.nan
        drift = math.nan
        if params is not None:
            pattern, source = pattern_state(params), "reconstructor"
            statuses = [f.status for f in params.fits]
            if statuses:
                fit_status = max(statuses, key=_FIT_ORDER.index)
            scores = [f.confidence for f in params.fits if f.confidence is not None]
            confidence = float(min(scores)) if scores else math.nan
            if cal_params is not None and cal_params.n_angles == params.n_angles:
                k_fit = np.hypot(*params.k_per_um.T)
                k_cal = np.hypot(*cal_params.k_per_um.T)
                rel = 100 * (k_fit - k_cal) / k_cal
                drift = float(rel[np.argmax(np.abs(rel))])
        elif cal_params is not None:
            pattern, source = pattern_state(cal_params), "calibration"
            pattern = PatternState(pattern.k_per_um, pattern.frame_phases, pattern.factors)
        else:
            pattern = PatternState.from_config(cfg.pattern, cfg.optics, optics_channel)
            source = "nominal"
        checker = QualityChecker(
            cfg.optics, self.raw_shape, scale=self.scale, channel=optics_channel,
            pattern=pattern, camera=cfg.camera,
        )  # fmt: skip
        state = _Channel(checker, params, source, fit_status, confidence, drift)
        self._checkers[c] = state
        return state

    def _calibrated(self, channel: str) -> SIMParameters | None:
        cal = self.config.calibration
        if cal is None:
            return None
        from livesr.reconstruct.conventional import calibration_parameters

        try:
            return calibration_parameters(cal, channel, self.raw_shape)
        except KeyError:
            return None

    def _check(self, item: _Item) -> None:
        key = item.key
        state = self._channel(key.c, item.params)  # built once per channel (not timed)
        t0 = time.perf_counter()
        result = state.checker.check(item.sr, raw=item.raw, map_grid="camera")
        ms = (time.perf_counter() - t0) * 1e3
        record = result.record
        level, reasons = quality_level(record, state.fit_status)
        first = self._first_photons.setdefault((key.p, key.z, key.c), record.photons)
        rel = record.photons / first if first and math.isfinite(first) else math.nan
        values: dict[str, Any] = {
            "rsp": record.rsp,
            "rse": record.rse,
            "chi2_max": record.chi2_max,
            "out_of_band": record.out_of_band,
            "photons": record.photons,
            "modulation_min": min(record.modulation) if record.modulation else math.nan,
            "fit_status": state.fit_status,
            "fit_confidence": state.fit_confidence,
            "carrier_drift_pct": state.drift_pct,
            "pattern_source": state.source,
            "level": level,
            "qc_ms": ms,
            "chi2": record.chi2,
            "modulation": record.modulation,
        }
        self._writer.put_quality(key, values, result.error_map)
        self.checked += 1
        self.levels[level] += 1
        self.qc_ms.append(ms)
        data = record.to_dict()
        data.update(
            chi2_max=_finite(record.chi2_max),
            fit_status=state.fit_status,
            fit_confidence=_finite(state.fit_confidence),
            carrier_drift_pct=_finite(state.drift_pct),
            pattern_source=state.source,
            photons_rel=_finite(rel),
        )
        info = QualityInfo(
            key, self.channels[key.c], level, reasons, data, backfill=item.backfill, qc_ms=ms,
            error_map=result.error_map,
        )  # fmt: skip
        with exceptions_logged("qualityReady slot"):
            self._emit(info)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
