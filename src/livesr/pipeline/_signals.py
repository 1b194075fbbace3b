"""Signals of the live pipeline and its end-of-run summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from psygnal import Signal, SignalGroup

__all__ = ["PipelineSignals", "PipelineSummary"]


class PipelineSignals(SignalGroup):
    """What a `LivePipeline` announces (psygnal; camelCase as in pymmcore-plus).

    Every signal is emitted from a pipeline thread, never from the acquisition thread, so a
    slow slot delays the pipeline, not the camera. A GUI should connect with
    ``thread="main"`` (or Qt queued connections) and keep only the latest image.

    Signals
    -------
    stackAssembled(image, info)
        A raw stack is complete and on disk. `image`: float32 (Y, X) wide-field (mean of the
        stack); `info`: dict with ``key`` (t, c, p, z), ``t``, ``c``, ``channel``.
    srFrameReady(image, info)
        A live SR frame. `image`: float32 (sY, sX) in raw-count units; `info`: dict with
        ``key``, ``t``, ``c``, ``channel``, ``latency_ms`` (last raw frame -> now),
        ``reconstruct_ms``, ``backfill`` (False live, True after the run) and ``provenance``.
    stackSkipped(key, reason)
        Stack `key` (t, c, p, z) gets no live SR: ``"backlog"`` (reconstruction fell behind;
        it will be backfilled), ``"error: ..."`` (the reconstructor raised; backfilled), or
        ``"incomplete: ..."`` (raw frames missing; nothing to reconstruct).
    pipelineFinished(summary)
        The run is complete (after backfill): a `PipelineSummary`.
    """

    stackAssembled = Signal(object, object)
    srFrameReady = Signal(object, object)
    stackSkipped = Signal(object, str)
    pipelineFinished = Signal(object)


@dataclass
class PipelineSummary:
    """Counts and timings of one run.

    Attributes
    ----------
    status : str
        ``"finished"``, ``"canceled"`` or ``"failed"``.
    frames_acquired, frames_written : int
        Raw frames received from the camera and written to the store.
    stacks_assembled, stacks_incomplete : int
        Complete stacks, and stacks given up because frames were missing.
    sr_live, sr_backfilled, sr_failed : int
        SR frames made while acquiring, after the acquisition, and not made at all.
    stacks_skipped : int
        Stacks the live worker skipped (backlog or reconstructor error).
    latency_p50_ms, latency_p95_ms : float or None
        Last raw frame of a stack -> its live srFrameReady.
    reconstruct_ms_mean : float or None
        Mean reconstructor call time.
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
    frames_acquired: int = 0
    frames_written: int = 0
    stacks_assembled: int = 0
    stacks_incomplete: int = 0
    sr_live: int = 0
    sr_backfilled: int = 0
    sr_failed: int = 0
    stacks_skipped: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    reconstruct_ms_mean: float | None = None
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

        lines = [
            f"status: {self.status} in {self.duration_s:.1f} s",
            f"raw frames: {self.frames_acquired} acquired, {self.frames_written} written"
            + (f" ({self.camera_fps:.1f} fps)" if self.camera_fps else ""),
            f"stacks: {self.stacks_assembled} assembled, {self.stacks_incomplete} incomplete",
            f"SR frames: {self.sr_live} live, {self.sr_backfilled} backfilled, "
            f"{self.sr_failed} failed ({self.stacks_skipped} skipped live)",
            f"latency last raw frame -> SR: p50 {ms(self.latency_p50_ms)}, "
            f"p95 {ms(self.latency_p95_ms)}; reconstruct {ms(self.reconstruct_ms_mean)}"
            + (f"; {self.sr_fps:.2f} SR fps live" if self.sr_fps else ""),
        ]
        if self.inference:
            lines.append(
                "inference: " + ", ".join(f"{c} in {m}" for c, m in self.inference.items())
            )
        lines += [f"error: {e}" for e in self.errors]
        return "\n".join(lines)
