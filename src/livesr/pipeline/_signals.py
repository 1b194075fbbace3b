"""Signals of the live pipeline, their typed payloads, and the end-of-run summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from psygnal import Signal, SignalGroup

from livesr.io import StackKey

__all__ = [
    "PipelineSignals",
    "PipelineSummary",
    "QualityInfo",
    "QualityLevel",
    "SRFrameInfo",
    "SkipReason",
    "StackInfo",
    "StackSkipped",
]

#: Why a stack got no live SR: ``"backlog"`` (reconstruction fell behind), ``"error"`` (the
#: reconstructor raised), ``"incomplete"`` (raw frames missing).
SkipReason = Literal["backlog", "error", "incomplete"]


@dataclass(frozen=True, slots=True)
class _Keyed:
    """A stack's `StackKey` (t, p, z, c) and channel name; ``t``, ``p``, ``z``, ``c`` read it."""

    key: StackKey
    channel: str

    @property
    def t(self) -> int:
        """Time point index."""
        return StackKey(*self.key).t

    @property
    def c(self) -> int:
        """Channel index (into the sequence's channels)."""
        return StackKey(*self.key).c

    @property
    def p(self) -> int:
        """Position index."""
        return StackKey(*self.key).p

    @property
    def z(self) -> int:
        """Z plane index."""
        return StackKey(*self.key).z


@dataclass(frozen=True, slots=True)
class StackInfo(_Keyed):
    """Payload of ``stackAssembled``: which raw stack is complete and on disk.

    Attributes
    ----------
    key : StackKey
        (t, p, z, c) of the stack; also readable as ``t``, ``p``, ``z``, ``c``.
    channel : str
        Channel name (the sequence's channel config).
    """


@dataclass(frozen=True, slots=True)
class SRFrameInfo(_Keyed):
    """Payload of ``srFrameReady``: where an SR frame comes from and how long it took.

    Attributes
    ----------
    key : StackKey
        (t, p, z, c) of the raw stack; also readable as ``t``, ``p``, ``z``, ``c``.
    channel : str
        Channel name.
    latency_ms : float or None
        Last raw frame of the stack acquired -> SR frame ready, in ms; None when backfilled.
    reconstruct_ms : float
        Time of the reconstructor call alone, in ms.
    backfill : bool
        False for a live frame, True for one reconstructed from disk after the acquisition.
    provenance : dict
        What made the frame, as the SR writer stores it: reconstructor name, backend,
        ``weights_sha256``, device, precision, normalisation, raw frames.
    """

    latency_ms: float | None
    reconstruct_ms: float
    backfill: bool
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)


#: Traffic light of an SR frame (thresholds: `livesr.pipeline.quality_level`).
QualityLevel = Literal["ok", "warn", "bad"]


@dataclass(frozen=True, slots=True)
class QualityInfo(_Keyed):
    """Payload of ``qualityReady``: how far one SR frame can be trusted.

    Attributes
    ----------
    key : StackKey
        (t, p, z, c) of the stack; also readable as ``t``, ``p``, ``z``, ``c``.
    channel : str
        Channel name.
    level : {"ok", "warn", "bad"}
        Traffic light (`livesr.pipeline.quality_level` documents the thresholds).
    reasons : tuple of str
        Why the level is not "ok" (``"rsp 0.62 < 0.8"``); empty when ok.
    record : dict
        `livesr.qc.QualityRecord.to_dict()` (rsp, rse, chi2 per orientation, out_of_band,
        photons, modulation, pattern_ok; NaN as None) plus ``chi2_max``, ``fit_status``,
        ``fit_confidence``, ``carrier_drift_pct``, ``pattern_source`` and ``photons_rel``
        (photons relative to the first checked frame of this position, plane and channel).
    backfill : bool
        Whether the SR frame was reconstructed after the acquisition.
    qc_ms : float
        Time of the check, in ms.
    error_map : ndarray, float32, shape (Y, X), or None
        SQUIRREL-style error map on the camera grid: ``|wide-field - fitted blurred SR|`` in
        wide-field counts, NaN in the ignored border (the array stored at ``<p>/sr_qc_map``;
        do not modify it). None where no map was made.
    """

    level: QualityLevel
    reasons: tuple[str, ...] = ()
    record: dict[str, Any] = field(default_factory=dict, compare=False)
    backfill: bool = False
    qc_ms: float = 0.0
    error_map: NDArray[np.float32] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class StackSkipped(_Keyed):
    """Payload of ``stackSkipped``: a stack that gets no live SR, and why.

    Attributes
    ----------
    key : StackKey
        (t, p, z, c) of the stack; also readable as ``t``, ``p``, ``z``, ``c``.
    channel : str
        Channel name.
    reason : {"backlog", "error", "incomplete"}
        ``"backlog"``: reconstruction fell behind; ``"error"``: the reconstructor raised (both
        are backfilled from disk after the acquisition); ``"incomplete"``: raw frames are
        missing, there is nothing to reconstruct.
    detail : str
        The exception (``"RuntimeError: ..."``) or the missing frames; empty for a backlog.
    """

    reason: SkipReason
    detail: str = ""

    @property
    def backfilled(self) -> bool:
        """Whether the stack is reconstructed from disk after the acquisition."""
        return self.reason != "incomplete"

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


@dataclass
class PipelineSummary:
    """Counts and timings of one run.

    Attributes
    ----------
    status : str
        ``"finished"``: every raw stack is on disk and every SR frame is done;
        ``"finished with errors"``: the acquisition ran to its end but stacks are incomplete
        or SR frames are missing (counts below; ``livesr reprocess`` completes the SR);
        ``"interrupted"``: stopped early (Ctrl-C, SIGTERM, a GUI's cancel); ``"failed"``: the
        raw writer failed and the acquisition was stopped.
    stopped_by : str or None
        The signal that stopped the run (``"SIGINT"``, ``"SIGTERM"``), else None.
    frames_acquired, frames_written : int
        Raw frames received from the camera and written to the store.
    stacks_assembled, stacks_incomplete : int
        Complete stacks, and stacks given up because frames were missing.
    stacks_on_disk, raw_missing : int
        Complete stacks marked on disk (read back from the store), and complete stacks that
        are not.
    sr_missing : int
        Stacks with raw data on disk but no SR frame (read back from the store).
    raw_lag_p50_ms, raw_lag_p99_ms, raw_lag_max_ms : float or None
        Raw frame queued on the acquisition thread -> its chunk written to disk.
    sr_live, sr_backfilled, sr_failed : int
        SR frames made while acquiring, after the acquisition, and not made at all.
    stacks_skipped : int
        Stacks the live worker skipped (backlog or reconstructor error).
    latency_p50_ms, latency_p95_ms : float or None
        Last raw frame of a stack -> its live srFrameReady.
    reconstruct_ms_mean : float or None
        Mean reconstructor call time.
    qc_checked, qc_failed : int
        SR frames given a quality record, and checks that raised (``PipelineConfig.qc_every``
        decides which frames are checked).
    qc_levels : dict of str -> int
        Checked frames per traffic light ("ok", "warn", "bad").
    qc_ms_mean : float or None
        Mean time of one check (quality thread).
    sr_fps : float or None
        Live SR frames per second, from the first to the last live SR frame.
    camera_fps : float or None
        Raw frames per second from first to last frame.
    duration_s : float
        Wall time from entering the pipeline to finished.
    inference : dict of str -> str
        Where each channel was reconstructed at the end: ``"process (pid N)"`` or
        ``"thread"`` (see ``PipelineConfig.inference_mode``).
    errors : list of str
        What went wrong, if anything.
    """

    status: str = "finished"
    stopped_by: str | None = None
    frames_acquired: int = 0
    frames_written: int = 0
    stacks_assembled: int = 0
    stacks_incomplete: int = 0
    stacks_on_disk: int = 0
    raw_missing: int = 0
    sr_missing: int = 0
    sr_live: int = 0
    sr_backfilled: int = 0
    sr_failed: int = 0
    stacks_skipped: int = 0
    raw_lag_p50_ms: float | None = None
    raw_lag_p99_ms: float | None = None
    raw_lag_max_ms: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    reconstruct_ms_mean: float | None = None
    qc_checked: int = 0
    qc_failed: int = 0
    qc_levels: dict[str, int] = field(default_factory=dict)
    qc_ms_mean: float | None = None
    sr_fps: float | None = None
    camera_fps: float | None = None
    duration_s: float = 0.0
    inference: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    def __str__(self) -> str:
        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f} ms"

        by = f" by {self.stopped_by}" if self.stopped_by else ""
        lines = [
            f"status: {self.status}{by} in {self.duration_s:.1f} s",
            f"raw frames: {self.frames_acquired} acquired, {self.frames_written} written"
            + (f" ({self.camera_fps:.1f} fps)" if self.camera_fps else "")
            + f"; disk lag p50 {ms(self.raw_lag_p50_ms)}, p99 {ms(self.raw_lag_p99_ms)}",
            f"stacks: {self.stacks_assembled} assembled, {self.stacks_on_disk} on disk, "
            f"{self.stacks_incomplete} incomplete",
            f"SR frames: {self.sr_live} live, {self.sr_backfilled} backfilled, "
            f"{self.sr_failed} failed, {self.sr_missing} missing "
            f"({self.stacks_skipped} skipped live)",
            f"latency last raw frame -> SR: p50 {ms(self.latency_p50_ms)}, "
            f"p95 {ms(self.latency_p95_ms)}; reconstruct {ms(self.reconstruct_ms_mean)}"
            + (f"; {self.sr_fps:.2f} SR fps live" if self.sr_fps else ""),
        ]
        if self.qc_checked or self.qc_failed:
            levels = ", ".join(f"{n} {lv}" for lv, n in self.qc_levels.items())
            lines.append(
                f"quality: {self.qc_checked} checked ({levels}), {self.qc_failed} failed; "
                f"{ms(self.qc_ms_mean)} per check"
            )
        if self.inference:
            lines.append(
                "inference: " + ", ".join(f"{c} in {m}" for c, m in self.inference.items())
            )
        lines += [f"error: {e}" for e in self.errors]
        return "\n".join(lines)


class PipelineSignals(SignalGroup):
    """What a `LivePipeline` announces (psygnal; camelCase as in pymmcore-plus).

    Every signal is emitted from a pipeline thread (raw writer or inference), never from the
    acquisition thread, so a slow slot delays the pipeline, not the camera. A GUI should
    connect with ``thread="main"`` (or Qt queued connections) and keep only the latest image.
    The images are not copied for each slot: do not modify them.
    """

    stackAssembled = Signal(np.ndarray, StackInfo)
    """Emits ``(image: np.ndarray, info: StackInfo)`` when a raw stack is complete and on disk.

    `image` is the float32 (Y, X) wide-field image (the mean of the stack). Raw writer thread.
    """
    srFrameReady = Signal(np.ndarray, SRFrameInfo)
    """Emits ``(image: np.ndarray, info: SRFrameInfo)`` for every SR frame, live or backfilled.

    `image` is float32 (sY, sX) in raw-count units. Inference thread.
    """
    stackSkipped = Signal(StackSkipped)
    """Emits ``(skip: StackSkipped)`` when a stack gets no live SR (see its ``reason``).

    Inference thread; backlog and error skips are followed by a backfilled ``srFrameReady``.
    """
    qualityReady = Signal(QualityInfo)
    """Emits ``(info: QualityInfo)`` for every checked SR frame (``PipelineConfig.qc_every``).

    Quality thread, after the frame's ``srFrameReady``; live and backfilled frames alike.
    """
    pipelineFinished = Signal(PipelineSummary)
    """Emits ``(summary: PipelineSummary)`` once the run is complete, after backfill."""
