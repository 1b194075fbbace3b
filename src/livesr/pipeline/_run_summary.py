"""End-of-run accounting: the `PipelineSummary` counted from the run's parts and its store.

Called once, on the closing thread, after the raw writer and the inference worker stopped:
what they counted, what the store holds when read back, and the status these add up to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from livesr.io import SRStore

from ._assembler import StackAssembler
from ._channel import ChannelReconstructor
from ._process import ProcessReconstructor
from ._raw_writer import RawWriter
from ._signals import PipelineSummary
from ._worker import InferenceWorker

__all__ = ["count_inference", "count_on_disk", "count_parts", "settle_status"]


def count_parts(
    s: PipelineSummary,
    assembler: StackAssembler,
    writer: RawWriter,
    worker: InferenceWorker,
    frame_span: tuple[float | None, float | None],
) -> None:
    """Fill `s` with what the assembler, raw writer and inference worker counted.

    Parameters
    ----------
    s : PipelineSummary
        Filled in place: frame, stack and SR counts, latencies, quality checks, raw-frame
        lag, camera and SR rates; the writer's stalls and the worker's errors are appended.
    assembler, writer, worker : StackAssembler, RawWriter, InferenceWorker
        The run's parts, stopped.
    frame_span : (float or None, float or None)
        `time.perf_counter` of the first and last frame (None: no frame came).
    """
    w = worker
    s.frames_acquired = assembler.n_frames
    s.frames_written = writer.frames_written
    s.stacks_assembled = assembler.n_stacks
    s.stacks_incomplete = assembler.n_incomplete
    s.sr_live, s.sr_backfilled, s.sr_failed = w.sr_live, w.sr_backfilled, w.sr_failed
    s.stacks_skipped = w.skipped
    if w.latencies_ms:
        s.latency_p50_ms = float(np.percentile(w.latencies_ms, 50))
        s.latency_p95_ms = float(np.percentile(w.latencies_ms, 95))
    if w.reconstruct_ms:
        s.reconstruct_ms_mean = float(np.mean(w.reconstruct_ms))
    if w.quality is not None:
        q = w.quality
        s.qc_checked, s.qc_failed = q.checked, q.failed
        s.qc_levels = {lv: q.levels[lv] for lv in ("ok", "warn", "bad") if q.levels[lv]}
        s.qc_ms_mean = float(np.mean(q.qc_ms)) if q.qc_ms else None
    s.raw_lag_p50_ms = writer.lag_ms(50)
    s.raw_lag_p99_ms = writer.lag_ms(99)
    s.raw_lag_max_ms = writer.lag_max_ms if s.frames_written else None
    if writer.stalls:
        s.errors.append(
            f"the disk could not keep up: acquisition waited {writer.stall_s:.1f} s "
            f"in {writer.stalls} stalls for the raw writer"
        )
    t_first, t_last = frame_span
    if t_first is not None and t_last is not None:
        span = t_last - t_first
        if span > 0:
            s.camera_fps = (s.frames_acquired - 1) / span
        if w.sr_live > 1 and w.first_sr is not None and w.last_sr is not None:
            # Throughput like camera_fps: intervals between the first and last live SR
            # frame (the time to the first one is latency, reported on its own).
            s.sr_fps = (w.sr_live - 1) / max(w.last_sr - w.first_sr, 1e-9)
    s.errors += w.errors


def count_inference(
    s: PipelineSummary, recs: Mapping[int, ChannelReconstructor], channels: tuple[str, ...]
) -> None:
    """Record where each channel reconstructed (a child process or a thread) and why not.

    Parameters
    ----------
    s : PipelineSummary
        ``inference`` is filled in place; a child's fallback reason is appended to errors.
    recs : mapping of channel index -> ChannelReconstructor
        The run's reconstructors, after `move_to_processes`.
    channels : tuple of str
        Channel names by index.
    """
    for c, rec in recs.items():
        proc = rec if isinstance(rec, ProcessReconstructor) else None
        s.inference[channels[c]] = proc.mode if proc else "thread"
        if proc is not None and proc.fallback_reason:
            s.errors.append(f"channel {channels[c]}: {proc.fallback_reason}")


def count_on_disk(
    s: PipelineSummary, store: SRStore, sr_channels: Iterable[int], out: Path
) -> None:
    """What the store holds, read back: raw stacks marked done, SR missing for them.

    Parameters
    ----------
    s : PipelineSummary
        ``stacks_on_disk``, ``raw_missing`` and ``sr_missing`` are set in place (counted
        against ``stacks_assembled``, which must be set); a store that cannot be read back
        counts every stack as missing its raw data.
    store : SRStore
        The run's store.
    sr_channels : iterable of int
        Indices of the channels that get SR (indices outside the store are ignored).
    out : Path
        The store's path, for the message.
    """
    try:
        raw = store.raw_done()
        done = store.sr_done()
    except Exception as exc:
        s.errors.append(f"could not read back what {out} holds: {exc}")
        s.raw_missing = s.stacks_assembled
        return
    s.stacks_on_disk = int(raw.sum())
    s.raw_missing = max(0, s.stacks_assembled - s.stacks_on_disk)
    wanted = np.zeros(raw.shape[1], bool)
    wanted[[c for c in sr_channels if 0 <= c < raw.shape[1]]] = True
    n = min(raw.shape[0], done.shape[0])
    s.sr_missing = int((raw[:n] & ~done[:n] & wanted[None, :]).sum())
    s.sr_missing += int((raw[n:] & wanted[None, :]).sum())


def settle_status(s: PipelineSummary, writer: RawWriter, stopped_early: bool, out: Path) -> None:
    """Set the run's status from the counts, with what went wrong and what completes it.

    Parameters
    ----------
    s : PipelineSummary
        Its counts (`count_parts`, `count_on_disk`) decide ``status``, set in place:
        ``"failed"`` when the raw writer failed, ``"interrupted"`` when the run stopped
        early, ``"finished with errors"`` when stacks lack raw data or SR, else
        ``"finished"``. The writer's error and the ``livesr reprocess`` hint are appended.
    writer : RawWriter
        The run's raw writer, stopped.
    stopped_early : bool
        Whether the run was interrupted, canceled or stopped by a signal.
    out : Path
        The store's path, for the hint.
    """
    if writer.error is not None:
        s.status = "failed"
        s.errors.append(
            f"raw writer: {writer.error}; {writer.frames_discarded} frames were not written"
        )
    elif stopped_early:
        s.status = "interrupted"
    elif s.raw_missing or s.sr_missing or s.stacks_incomplete or s.sr_failed:
        s.status = "finished with errors"
    else:
        s.status = "finished"
    if s.sr_missing and s.status != "finished":
        s.errors.append(f"{s.sr_missing} stacks have raw data but no SR: livesr reprocess {out}")
