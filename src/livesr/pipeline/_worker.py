"""The inference worker: live SR from assembled stacks, then backfill from the raw store."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr._logger import exceptions_logged, logger
from livesr.io import SRStore, StackKey, stack_values

from ._assembler import SIMStack
from ._channel import ChannelReconstructor
from ._channel_thread import ChannelThread
from ._quality import QualityWorker
from ._signals import SkipReason, SRFrameInfo, StackSkipped
from ._sr_writer import SRWriter

__all__ = ["InferenceWorker"]


#: Backfill of a channel stops after this many failures in a row (each would fail the same).
_MAX_BACKFILL_FAILURES = 3


class InferenceWorker:
    """Reconstruct stacks on a thread of its own, behind bounded latest-wins queues.

    Each channel has its own queue of at most `max_backlog` stacks, and the worker takes from
    the channels in turn, so when reconstruction is slower than the camera every channel gets
    its share of live SR. When a channel's queue is full its *oldest* waiting stack is
    skipped (preview stays current) and remembered for backfill; so is a stack whose
    reconstruction raised or returned the wrong shape. `finish` then reconstructs every
    remembered stack from the raw store. Each channel's reconstructor runs on a thread of its
    own (its owner, a `ChannelThread`), watched: a call that does not return within
    `timeout_s` abandons the channel for the rest of the run (counted, never a hang).

    Parameters
    ----------
    store : SRStore
        Read for backfill; its sr and sr_done are written by this worker's `SRWriter` thread.
    reconstructors : mapping of channel index -> ChannelReconstructor
    channels : tuple of str
        Channel names by index.
    max_backlog : int
        Stacks waiting per channel before that channel's oldest is skipped.
    emit_sr, emit_skipped : callable
        Signal emitters, called on this thread.
    nice : int
        Nice increment of the reconstructor threads (and the helper threads their
        reconstructors start) when a channel reconstructs in this process.
    timeout_s : float
        Longest one reconstructor call may take.
    raw_written : callable, optional
        ``(key) -> bool``: blocks until raw stack `key` is on disk (`RawWriter.wait_written`);
        a live SR frame is written only after its raw data.
    """

    def __init__(
        self,
        store: SRStore,
        reconstructors: Mapping[int, ChannelReconstructor],
        channels: tuple[str, ...],
        max_backlog: int,
        emit_sr: Callable[[NDArray[np.float32], SRFrameInfo], None],
        emit_skipped: Callable[[StackSkipped], None],
        nice: int = 0,
        timeout_s: float = 120.0,
        raw_written: Callable[[StackKey], bool] | None = None,
    ) -> None:
        self.store = store
        self._nice = nice
        self.timeout_s = timeout_s
        self.reconstructors = dict(reconstructors)
        self.channels = channels
        self._emit_sr = emit_sr
        self._emit_skipped = emit_skipped
        self._queues: dict[int, deque[SIMStack]] = {c: deque() for c in self.reconstructors}
        self._turn: deque[int] = deque(self.reconstructors)
        self._max_backlog = max_backlog
        self._cond = threading.Condition()
        self._skips: deque[StackSkipped] = deque()
        self._todo: list[StackKey] = []  # stacks to backfill
        self._stop = False
        self._abandon = False
        self.latencies_ms: list[float] = []
        self.reconstruct_ms: list[float] = []
        self.sr_live = 0
        self.sr_backfilled = 0
        self.sr_failed = 0
        self.skipped = 0
        #: Stacks left without SR because the run was interrupted (``livesr reprocess``).
        self.abandoned = 0
        self.first_sr: float | None = None
        self.last_sr: float | None = None
        self.errors: list[str] = []
        self.sr_writer = SRWriter(store, raw_written)
        #: Quality checks of every SR frame (`QualityWorker`, fed after srFrameReady); set
        #: before `start`, None: no checks.
        self.quality: QualityWorker | None = None
        self._callers = {
            c: ChannelThread(rec, channels[c], nice) for c, rec in self.reconstructors.items()
        }
        # The specs already in the store; a channel's new spec object is recorded once.
        self._specs = {c: rec.spec for c, rec in self.reconstructors.items()}
        self._thread = threading.Thread(target=self._main, name="livesr-inference", daemon=True)

    def start(self) -> None:
        """Start the threads (the worker warms every reconstructor up first)."""
        self.sr_writer.start()
        if self.quality is not None:
            self.quality.start()
        for caller in self._callers.values():
            caller.start()
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Stacks waiting for live reconstruction (all channels)."""
        return sum(len(q) for q in self._queues.values())

    def submit(self, stack: SIMStack) -> None:
        """Queue a stack (acquisition thread; O(1), never blocks)."""
        with self._cond:
            q = self._queues.get(stack.key.c)
            if q is None:
                return
            if len(q) >= self._max_backlog:
                old = q.popleft()
                self._skips.append(self._skipped(old.key, "backlog"))
            q.append(stack)
            self._cond.notify()

    def announce_incomplete(self, key: StackKey, missing: list[int]) -> None:
        """Have the worker emit stackSkipped for a stack with frames missing (no backfill)."""
        with self._cond:
            self._skips.append(self._skipped(key, "incomplete", f"missing frames {missing}"))
            self._cond.notify()

    def _skipped(self, key: StackKey, reason: SkipReason, detail: str = "") -> StackSkipped:
        return StackSkipped(key, self.channels[key.c], reason, detail)

    def finish(self, backfill: bool = True, timeout: float | None = None) -> bool:
        """Reconstruct what is queued, backfill every skipped stack, stop (blocks).

        With ``backfill=False`` (an interrupted run) the stacks still queued are left for
        ``livesr reprocess`` and only the call in progress is waited for. Returns False if
        the worker did not stop within `timeout`.
        """
        with self._cond:
            self._stop = True
            self._abandon = self._abandon or not backfill
            self._cond.notify()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def abandon(self) -> None:
        """Stop live SR and backfill as soon as the call in progress returns (any thread)."""
        with self._cond:
            self._abandon = True
            self._cond.notify()

    def _next(self) -> SIMStack | None:
        """The oldest waiting stack of the next channel in turn that has one (under lock)."""
        for _ in range(len(self._turn)):
            c = self._turn[0]
            self._turn.rotate(-1)
            if self._queues[c]:
                return self._queues[c].popleft()
        return None

    def _main(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a bug here is reported, never a silent dead thread
            logger.exception("inference worker failed")
            self.errors.append(f"inference worker failed: {exc!r}")
        finally:
            if self.quality is not None:
                self.quality.close()
                self.errors += self.quality.errors
            self.sr_writer.close()
            self.errors += self.sr_writer.errors
            for c, caller in self._callers.items():
                if caller.hung is None:
                    with exceptions_logged("reconstructor close"):
                        caller.call(self.reconstructors[c].close, self.timeout_s)
                caller.stop(1.0)

    def _run(self) -> None:
        for c, caller in self._callers.items():
            try:
                caller.call(caller.rec.warmup, max(self.timeout_s, 300.0))
            except Exception as exc:  # noqa: PERF203 - once per channel
                logger.error("warmup of channel %s failed: %s", self.channels[c], exc)
        while True:
            with self._cond:
                while not self.backlog and not self._stop and not self._skips:
                    if self._abandon:
                        break
                    self._cond.wait()
                skips = list(self._skips)
                self._skips.clear()
                if self._abandon:
                    self.abandoned += self.backlog
                    for q in self._queues.values():
                        q.clear()
                stack = self._next()
                stop = (self._stop or self._abandon) and stack is None
            for skip in skips:
                self._skip(skip)
            if stack is not None:
                self._live(stack)
            elif stop:
                break
        if not self._abandon:
            self.sr_writer.flush()  # backfill decides from sr_done on disk
            self._backfill()

    def _skip(self, skip: StackSkipped) -> None:
        if skip.backfilled:
            self.skipped += 1
            self._todo.append(StackKey(*skip.key))
        with exceptions_logged("stackSkipped slot"):
            self._emit_skipped(skip)

    def _reconstruct(
        self, key: StackKey, data: NDArray[np.uint16]
    ) -> tuple[NDArray[np.float32], dict[str, Any], float]:
        c = key.c
        rec = self.reconstructors[c]
        raw_frames = [[*key, i] for i in range(data.shape[0])]
        t0 = time.perf_counter()
        sr, prov = self._callers[c].call(lambda: rec(data, raw_frames), self.timeout_s)
        ms = (time.perf_counter() - t0) * 1e3
        scale = rec.info.scale
        want = (data.shape[-2] * scale, data.shape[-1] * scale)
        if not isinstance(sr, np.ndarray) or sr.shape != want:
            got = getattr(sr, "shape", type(sr).__name__)
            raise ValueError(
                f"the reconstructor of channel {self.channels[c]} returned {got}, not an "
                f"image of shape {want} (x{scale} of the raw frames)"
            )
        self.reconstruct_ms.append(ms)
        spec = rec.spec
        if spec is not None and spec is not self._specs.get(c):
            self._specs[c] = spec
            self.sr_writer.put_spec(c, spec)
        return sr, prov, ms

    def _write(
        self, key: StackKey, sr: NDArray[np.float32], prov: Mapping[str, Any],
        reconstruct_ms: float, latency_ms: float | None,
    ) -> None:  # fmt: skip
        """Hand the SR frame of stack `key` and its per-stack values to the SR writer thread."""
        self.sr_writer.put(key, sr, stack_values(prov, reconstruct_ms, latency_ms))

    def _live(self, stack: SIMStack) -> None:
        key = stack.key
        if key.c not in self.reconstructors:
            return
        try:
            sr, prov, ms = self._reconstruct(key, stack.data)
        except Exception as exc:
            logger.error("live reconstruction of stack %s failed: %s", stack.key, exc)
            self._skip(self._skipped(stack.key, "error", f"{type(exc).__name__}: {exc}"))
            return
        now = time.perf_counter()
        latency = (now - stack.t_last) * 1e3
        self._write(key, sr, prov, ms, latency)
        self.latencies_ms.append(latency)
        self.sr_live += 1
        self.first_sr = self.first_sr or now
        self.last_sr = now
        self._announce_sr(sr, stack.key, latency, ms, prov)
        self._check(key, sr, stack.data, prov, backfill=False)

    def _announce_sr(
        self,
        sr: NDArray[np.float32],
        key: StackKey,
        latency_ms: float | None,
        reconstruct_ms: float,
        provenance: dict[str, Any],
    ) -> None:
        """Emit srFrameReady with its documented payload (None latency means backfill)."""
        info = SRFrameInfo(
            key, self.channels[key.c], latency_ms=latency_ms, reconstruct_ms=reconstruct_ms,
            backfill=latency_ms is None, provenance=provenance,
        )  # fmt: skip
        with exceptions_logged("srFrameReady slot"):
            self._emit_sr(sr, info)

    def _check(
        self,
        key: StackKey,
        sr: NDArray[np.float32],
        raw: NDArray[np.uint16],
        provenance: dict[str, Any],
        backfill: bool,
    ) -> None:
        """Hand SR frame `key` and its raw stack to the quality checks (after srFrameReady)."""
        if self.quality is None:
            return
        params = self.reconstructors[key.c].sim_params_of(provenance)
        with exceptions_logged("queueing a quality check"):
            self.quality.submit(key, sr, raw, params, backfill)

    def _backfill(self) -> None:
        done = self.store.sr_done()  # (T, P, Z, C), indexed by StackKey
        raw_done = self.store.raw_done()
        no_raw: list[StackKey] = []
        failures: dict[int, int] = {}
        given_up: dict[int, int] = {}
        for key in dict.fromkeys(self._todo):  # unique, in skip order
            c = key.c
            if self._abandon:
                self.abandoned += 1
                continue
            if key.t < done.shape[0] and done[key]:
                continue
            if not (key.t < raw_done.shape[0] and raw_done[key]):
                no_raw.append(key)  # the raw writer failed before this stack
                continue
            if self._callers[c].hung is not None or failures.get(c, 0) >= _MAX_BACKFILL_FAILURES:
                given_up[c] = given_up.get(c, 0) + 1
                continue
            try:
                data = self.store.read_stack(key)
                sr, prov, ms = self._reconstruct(key, data)
                self._write(key, sr, prov, ms, None)
            except Exception as exc:
                logger.error("backfill of stack %s failed: %s", key, exc)
                failures[c] = failures.get(c, 0) + 1
                self.sr_failed += 1
                self.errors.append(f"backfill of {key} failed: {exc}")
                continue
            failures[c] = 0
            self.sr_backfilled += 1
            self._announce_sr(sr, key, None, ms, prov)
            self._check(key, sr, data, prov, backfill=True)
        for c, n in given_up.items():
            self.sr_failed += n
            why = self._callers[c].hung or f"{_MAX_BACKFILL_FAILURES} failures in a row"
            self.errors.append(
                f"channel {self.channels[c]}: {n} stacks not backfilled ({why}); "
                "livesr reprocess completes them"
            )
        if no_raw:
            self.sr_failed += len(no_raw)
            self.errors.append(f"no backfill for {len(no_raw)} stacks without raw data on disk")
