"""`LivePipeline`: frameReady -> assembler -> raw writer + inference worker -> store, signals."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livesr._host import ThreadAffinity, active_tuning
from livesr._logger import exceptions_logged, logger
from livesr.acquire import connect_direct
from livesr.acquire._events import sim_events
from livesr.config import PatternConfig, PipelineConfig
from livesr.io import SRStore

from ._assembler import SIMStack, StackAssembler, stack_key
from ._channel import ChannelReconstructor
from ._process import ProcessReconstructor, move_to_processes
from ._quality import QualityWorker
from ._raw_writer import RawWriter
from ._run_store import create_run_store
from ._run_summary import count_inference, count_on_disk, count_parts, settle_status
from ._signals import PipelineSignals, PipelineSummary, StackInfo
from ._stop_signal import StopOnSignal
from ._validation import validate_run
from ._worker import InferenceWorker

if TYPE_CHECKING:
    import useq
    from pymmcore_plus import CMMCorePlus

__all__ = ["LivePipeline", "PipelineError"]


class PipelineError(RuntimeError):
    """The run stopped because a part of the pipeline failed (e.g. the raw writer).

    ``summary`` holds the run's `PipelineSummary` (status ``"failed"``, with counts), also
    when the store could not record it (a full disk).
    """

    def __init__(self, message: str, summary: PipelineSummary | None = None) -> None:
        super().__init__(message)
        self.summary = summary


class LivePipeline:
    """Run a useq MDASequence as SIM with live SR, writing an OME-Zarr run store.

    Use as a context manager around the acquisition::

        with LivePipeline(core, sequence, "run.zarr", reconstructors={"488": rec}) as pipe:
            core.mda.run(pipe.events)      # or pipe.run()
        print(pipe.summary)

    Entering validates everything (channels, pattern vs. models, output path) before a frame
    is taken, creates the store and starts the raw writer and inference threads, and connects
    to ``core.mda.events.frameReady``. The frameReady slot runs on the acquisition thread and
    only copies the frame into its stack and queues it (O(1)); a core with Qt signals (made
    while a QApplication runs, as in napari-micromanager) is connected directly too, so frames
    are never queued to the GUI thread. Nothing process-wide changes unless the application
    applied a `HostTuning` (``livesr._host.host_tuning``): then the run pins cores and lowers
    its inference priority as that says, and restores the cores at its end. Exiting waits for the
    acquisition, flushes raw frames, reconstructs what is queued, backfills every stack that
    was skipped or failed live from the raw store, records the summary and emits
    ``pipelineFinished``.

    What it promises (``tests/faults``):

    - **Raw frames reach disk within a bounded lag, in bounded memory.** At most
      ``config.writer.raw_backlog_mb`` (256 MB) of frames wait for the raw writer, so a
      frame's lag (queued -> chunk on disk) is at most that backlog drained at the disk's
      rate; the summary reports the measured p50/p99/max (``raw_lag_*_ms``; the demo at its
      full 200 fps: docs/benchmarks.md). A disk slower than the camera makes the acquisition
      thread wait for the writer (the camera's buffer holds the frames): counted, logged and
      in the summary, never unbounded memory, never a dropped frame.
    - **No SR without its raw data.** A live SR frame is written only after its raw stack is
      on disk and marked ``raw_done``, so ``kill -9`` never leaves SR without raw.
    - **Signals end a run in seconds.** Within the ``with`` on the main thread, SIGINT and
      SIGTERM cancel the MDA (at the next event boundary), flush the raw frames, leave stacks
      without SR to ``livesr reprocess`` (no backfill), and record status ``interrupted``.
    - **The status tells the truth** (`PipelineSummary.status`), counted from the store.
    - **Inference never hangs or starves the run**: a call longer than
      ``config.reconstruct_timeout_s`` abandons its channel; each channel has its own
      latest-wins queue, served in turn.

    Parameters
    ----------
    core : CMMCorePlus
        A loaded core (`open_core`).
    sequence : useq.MDASequence
        The experiment without SIM axes (channels, stage positions, z plan, time plan);
        `sim_events` expands it. Each stage position becomes an image (series) of the store,
        z planes its z axis.
    out : str or Path
        The run store to create (must not exist unless ``config.writer.overwrite``).
    reconstructors : mapping of channel name -> reconstructor, optional
        `StackReconstructor` or `Reconstructor` per channel; each is used only from the
        inference thread from then on, and closed at the end. Channels without one get raw
        and wide-field data only.
    config : PipelineConfig, optional
        Pattern, optics, backlog size; stored with the run.
    pattern_device : str
        Device whose ``Label`` selects the SIM pattern.

    Raises
    ------
    ValueError
        Bad input: unknown channels, a model that does not fit the pattern, axes the store
        cannot hold.
    FileExistsError
        If `out` exists.
    """

    def __init__(
        self,
        core: CMMCorePlus,
        sequence: useq.MDASequence,
        out: str | Path,
        *,
        reconstructors: Mapping[str, Any] | None = None,
        config: PipelineConfig | None = None,
        pattern_device: str = "Pattern",
    ) -> None:
        self.core = core
        self.sequence = sequence
        self.out = Path(out)
        self.config = config or PipelineConfig()
        self.pattern: PatternConfig = self.config.pattern
        self.pattern_device = pattern_device
        self.events = [*sim_events(sequence, self.pattern, pattern_device=pattern_device)]
        self.signals = PipelineSignals()
        self.summary = PipelineSummary()
        self.channels = tuple(ch.config for ch in sequence.channels) or ("default",)
        self._recs = {
            self.channels.index(name) if name in self.channels else -1: ChannelReconstructor(r)
            for name, r in (reconstructors or {}).items()
        }
        self._scale = validate_run(
            core, sequence, channels=self.channels, reconstructor_channels=reconstructors or {},
            recs=self._recs, pattern=self.pattern, out=self.out,
            overwrite=self.config.writer.overwrite, pattern_device=pattern_device,
        )  # fmt: skip
        self.store: SRStore | None = None
        self._assembler = StackAssembler(
            self.pattern, max_pending=max(8, 2 * len(self.channels)),
            on_incomplete=self._on_incomplete,
        )  # fmt: skip
        self._incomplete: list[SIMStack] = []
        self._t_enter = 0.0
        self._t_first_frame: float | None = None
        self._t_last_frame: float | None = None
        self._writer: RawWriter | None = None
        self._worker: InferenceWorker | None = None
        self._affinity: ThreadAffinity | None = None
        self._entered = False
        self._canceled = False
        self._stop = StopOnSignal(self.request_stop)
        #: Why the run stopped early: ``"SIGINT"``, ``"SIGTERM"`` or None.
        self.stopped_by: str | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LivePipeline:
        core = self.core
        self._t_enter = time.perf_counter()
        shape = (int(core.getImageHeight()), int(core.getImageWidth()))
        self.store = create_run_store(
            core, self.sequence, self.config, self.out,
            channels=self.channels, frame_shape=shape, scale=self._scale,
        )  # fmt: skip
        # Static provenance, once: how each channel's SR is made (Wiener SIM adds its
        # estimate once, from the SR writer thread).
        specs = {self.channels[c]: r.spec for c, r in self._recs.items()}
        self.store.set_reconstructor_specs("sr", specs)
        # Before the first frame: children import, build and warm up their reconstructors.
        # Pinning, priorities and malloc only where the application opted in (HostTuning).
        host = active_tuning()
        self._recs, acquisition_cpus = move_to_processes(
            self._recs, self.config.inference_mode, host.nice, pin=host.pin_threads,
            malloc=host.malloc,
        )  # fmt: skip
        self._start_threads(self.store, shape, host.nice)
        # On the acquisition thread also when the core's signals are Qt's (a GUI's core).
        connect_direct(core, core.mda.events.frameReady, self._on_frame)
        connect_direct(core, core.mda.events.sequenceCanceled, self._on_canceled)
        connect_direct(core, core.mda.events.sequenceStarted, self._on_started)
        if acquisition_cpus is not None:
            self._affinity = ThreadAffinity(acquisition_cpus)
        self._stop.install()
        self._entered = True
        return self

    def _start_threads(self, store: SRStore, shape: tuple[int, int], nice: int) -> None:
        """Make and start the raw writer, the inference worker and its quality checks.

        Parameters
        ----------
        store : SRStore
            The run's store, just created.
        shape : (Y, X)
            The camera's frame size.
        nice : int
            Nice increment of the inference and quality threads (`HostTuning`).
        """
        self._writer = RawWriter(
            store, self._on_stack_written, self._on_writer_error,
            max_bytes=int(self.config.writer.raw_backlog_mb * 2**20), track_channels=self._recs,
        )  # fmt: skip
        self._worker = InferenceWorker(
            store, self._recs, self.channels, self.config.max_backlog,
            self.signals.srFrameReady.emit, self.signals.stackSkipped.emit,
            nice=nice, timeout_s=self.config.reconstruct_timeout_s,
            raw_written=self._writer.wait_written,
        )  # fmt: skip
        if self.config.qc_every > 0 and self._recs:
            store.add_quality("sr", n_angles=self.pattern.n_angles)
            self._worker.quality = QualityWorker(
                self.config, self.channels, shape, self._scale, self._worker.sr_writer,
                self.signals.qualityReady.emit, nice=nice,
            )  # fmt: skip
        self._writer.start()
        self._worker.start()

    def run(self) -> PipelineSummary:
        """Run the expanded events on the core (blocks); must be inside the ``with``."""
        if not self._entered:
            raise RuntimeError("LivePipeline.run() must be called inside `with LivePipeline(...)`")
        if self.stopped_by is None:  # a stop asked for before the first frame: acquire nothing
            self.core.mda.run(self.events)
        return self.summary

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close(interrupted=exc is not None)

    def _close(self, interrupted: bool) -> None:
        assert self.store is not None and self._writer is not None and self._worker is not None
        try:
            if interrupted or self.stopped_by:
                self.core.mda.cancel()
            self._wait_for_mda(canceled=interrupted)
            self.core.mda.events.frameReady.disconnect(self._on_frame)
            self.core.mda.events.sequenceCanceled.disconnect(self._on_canceled)
            self.core.mda.events.sequenceStarted.disconnect(self._on_started)
            try:
                self._assembler.flush()
                self._writer.close()
                # An interrupted run ends in seconds: what has no SR yet is left to reprocess.
                early = interrupted or self._canceled or self.stopped_by is not None
                if not self._worker.finish(backfill=not early, timeout=_FINISH_TIMEOUT_S):
                    self.summary.errors.append(
                        f"inference did not stop within {_FINISH_TIMEOUT_S:.0f} s"
                    )
            finally:
                if self._affinity is not None:
                    self._affinity.restore()
            self._finalize(interrupted)
        finally:
            self._stop.restore()

    def _wait_for_mda(self, canceled: bool) -> None:
        """Wait until the MDA has finished (e.g. one started with block=False).

        Unbounded while it runs its course; once canceled (here or by a signal) bounded.
        """
        deadline: float | None = None
        while self.core.mda.is_running():
            if deadline is None and (canceled or self.stopped_by is not None):
                deadline = time.monotonic() + _MDA_STOP_TIMEOUT_S
            if deadline is not None and time.monotonic() > deadline:
                # e.g. a KeyboardInterrupt unwound the runner on this very thread: it will
                # never report finished. Stop the camera and go on closing.
                logger.error("the MDA did not finish after cancel; closing the run anyway")
                with exceptions_logged("stopping the camera"):
                    if self.core.isSequenceRunning():
                        self.core.stopSequenceAcquisition()
                self._canceled = True
                return
            time.sleep(0.01)

    def request_stop(self, reason: str) -> None:
        """Stop the run early, as SIGINT/SIGTERM do: cancel the MDA, flush raw, skip backfill.

        Any thread. The run then ends ``interrupted`` with ``stopped_by = reason``; the stacks
        without SR are left for ``livesr reprocess``. Asked before the MDA started (e.g. while
        the inference children load), the MDA is canceled as it starts, or not started by
        `run`.

        Parameters
        ----------
        reason : str
            Recorded as `stopped_by` (the signal's name, ``"SIGINT"``/``"SIGTERM"``, for
            signals).
        """
        logger.warning("%s: stopping the acquisition, writing what was acquired", reason)
        self.stopped_by = reason
        self.core.mda.cancel()
        if self._worker is not None:
            self._worker.abandon()

    def _on_started(self, *args: Any) -> None:
        # mda.cancel() does nothing before the runner starts: repeat it now.
        if self.stopped_by is not None:
            self.core.mda.cancel()

    def _finalize(self, interrupted: bool) -> None:
        """Count the run (`_run_summary`), record its status, announce it, raise if it failed."""
        assert self.store is not None and self._writer is not None and self._worker is not None
        s = self.summary
        frame_span = (self._t_first_frame, self._t_last_frame)
        count_parts(s, self._assembler, self._writer, self._worker, frame_span)
        s.duration_s = time.perf_counter() - self._t_enter
        count_inference(s, self._recs, self.channels)
        count_on_disk(s, self.store, self._recs, self.out)
        s.stopped_by = self.stopped_by
        early = bool(interrupted or self._canceled or self.stopped_by)
        settle_status(s, self._writer, early, self.out)
        try:
            self.store.set_status(s.status, summary=s.to_dict())
        except OSError as exc:  # disk full, read-only: the summary still reaches the caller
            s.errors.append(f"the run's status could not be recorded in {self.out}: {exc}")
            logger.error("could not record the run's status in %s: %s", self.out, exc)
        logger.info("pipeline finished:\n%s", s)
        self.signals.pipelineFinished.emit(s)
        if self._writer.error is not None:
            raise PipelineError(
                f"the raw writer failed, the acquisition was stopped: {self._writer.error}. "
                f"Everything written before is in {self.out}",
                summary=s,
            ) from self._writer.error

    # ------------------------------------------------------------------ acquisition thread
    def _on_frame(self, img: NDArray[Any], event: useq.MDAEvent, meta: Any = None) -> None:
        """Slot of frameReady (acquisition thread): copy, place, queue. O(1), no I/O."""
        now = time.perf_counter()
        if self._t_first_frame is None:
            self._t_first_frame = now
        self._t_last_frame = now
        assert self._writer is not None and self._worker is not None
        # The camera may hand out ring-buffer views: copy before the slot returns.
        frame = np.array(img, dtype=np.uint16, copy=True)
        stack = self._assembler.push(frame, event)
        idx = event.index
        pos = int(idx["a"]) * self.pattern.n_phases + int(idx["ph"])
        self._writer.put_frame(stack_key(idx), pos, frame)
        if stack is not None:
            self._writer.put_stack(stack)
            if stack.key.c in self._recs:
                self._worker.submit(stack)

    def _on_incomplete(self, stack: SIMStack) -> None:
        self._incomplete.append(stack)
        self.summary.errors.append(f"stack {stack.key} incomplete: missing {stack.missing}")
        assert self._worker is not None
        # Announced by the worker thread, never here on the acquisition thread.
        self._worker.announce_incomplete(stack.key, stack.missing)

    # ------------------------------------------------------------------ other threads
    def _on_stack_written(self, wf: NDArray[np.float32], stack: SIMStack) -> None:
        info = StackInfo(stack.key, self.channels[stack.key.c])
        self.signals.stackAssembled.emit(wf, info)

    def _on_canceled(self, *args: Any) -> None:
        self._canceled = True

    def _on_writer_error(self, exc: BaseException) -> None:
        self.core.mda.cancel()

    @property
    def inference_processes(self) -> dict[str, int]:
        """Channel -> process id of the child reconstructing it (channels in a child only)."""
        return {
            self.channels[c]: rec.pid
            for c, rec in self._recs.items()
            if isinstance(rec, ProcessReconstructor) and rec.pid is not None
        }

    @property
    def backlog(self) -> dict[str, int]:
        """Items waiting: raw frames to write, stacks to reconstruct, stacks still open."""
        return {
            "raw": self._writer.backlog if self._writer else 0,
            "inference": self._worker.backlog if self._worker else 0,
            "open_stacks": self._assembler.n_open,
        }


#: Longest the end of a run waits for the MDA to stop, and for inference to stop.
_MDA_STOP_TIMEOUT_S = 10.0
_FINISH_TIMEOUT_S = 60.0
