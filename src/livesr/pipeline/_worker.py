"""The inference worker: live SR from assembled stacks, then backfill from the raw store."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr._host import lower_current_thread_priority
from livesr._logger import exceptions_logged, logger
from livesr.config import ReconstructorSpec
from livesr.io import SRStore
from livesr.reconstruct import Reconstructor, ReconstructorInfo

from ._assembler import SIMStack
from ._signals import SkipReason, SRFrameInfo, StackSkipped
from ._sr_writer import SRWriter

__all__ = ["ChannelReconstructor", "InferenceWorker"]


class ChannelReconstructor:
    """One channel's reconstruction: raw uint16 (F, Y, X) -> float32 (sY, sX) + provenance.

    Wraps either a `livesr.reconstruct.StackReconstructor` (normalise -> backend ->
    denormalise, the path offline reprocessing uses too) or a bare `Reconstructor` (called on
    raw counts, as the Wiener reconstructor expects).
    """

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self._is_stack = hasattr(obj, "reconstruct_batch") and hasattr(obj, "reconstructor")
        if not self._is_stack and not isinstance(obj, Reconstructor):
            raise TypeError(
                f"{type(obj).__name__} is not a reconstructor: pass a "
                "livesr.reconstruct.StackReconstructor or an object with the Reconstructor "
                "protocol (info, warmup, __call__, close)"
            )

    @property
    def in_process(self) -> bool:
        """Whether calls reconstruct in this process (on the calling thread)."""
        return True

    @property
    def spec(self) -> ReconstructorSpec | None:
        """How the wrapped object is rebuilt (`StackReconstructor.spec`); None for objects.

        May change once, when Wiener SIM fixed its parameters on the first stack.
        """
        if not self._is_stack:
            return None
        spec: ReconstructorSpec | None = self.obj.spec
        return spec

    @property
    def info(self) -> ReconstructorInfo:
        """The wrapped backend's description."""
        rec = self.obj.reconstructor if self._is_stack else self.obj
        return rec.info  # type: ignore[no-any-return]

    def warmup(self) -> None:
        """Warm the backend up."""
        self.obj.warmup()

    def close(self) -> None:
        """Close the backend."""
        target = self.obj.reconstructor if self._is_stack else self.obj
        target.close()

    def __call__(
        self, stack: NDArray[np.uint16], raw_frames: list[Any]
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Reconstruct one stack."""
        if self._is_stack:
            sr, prov = self.obj(stack, raw_frames=raw_frames)
            return np.asarray(sr, dtype=np.float32), dict(prov)
        out = self.obj(stack[None].astype(np.float32))
        info = self.info
        prov = {
            "model": info.name,
            "backend": info.backend,
            "weights_sha256": info.weights_sha256,
            "device": info.device,
            "precision": info.precision,
            "normalization": "none (raw counts)",
            "raw_frames": raw_frames,
        }
        return np.asarray(out[0, 0], dtype=np.float32), prov


_STOP = object()


class InferenceWorker:
    """Reconstruct stacks on a thread of its own, behind a bounded latest-wins queue.

    When the queue is full the *oldest* waiting stack is skipped (preview stays current) and
    remembered for backfill; so is a stack whose reconstruction raised. `finish` then
    reconstructs every remembered stack from the raw store on the same thread (the
    reconstructors' owner).

    Parameters
    ----------
    store : SRStore
        Read for backfill; its sr and sr_done are written by this worker's `SRWriter` thread.
    reconstructors : mapping of channel index -> ChannelReconstructor
    channels : tuple of str
        Channel names by index.
    max_backlog : int
        Stacks waiting before the oldest is skipped.
    emit_sr, emit_skipped : callable
        Signal emitters, called on this thread.
    nice : int
        Nice increment of the worker thread (and the helper threads its reconstructors start)
        when a channel reconstructs in this process.
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
    ) -> None:
        self.store = store
        self._nice = nice
        self.reconstructors = dict(reconstructors)
        self.channels = channels
        self._emit_sr = emit_sr
        self._emit_skipped = emit_skipped
        self._queue: deque[SIMStack] = deque()
        self._max_backlog = max_backlog
        self._cond = threading.Condition()
        self._skips: deque[StackSkipped] = deque()
        self._todo: list[tuple[int, int]] = []  # (t, c) to backfill
        self._stop = False
        self.latencies_ms: list[float] = []
        self.reconstruct_ms: list[float] = []
        self.sr_live = 0
        self.sr_backfilled = 0
        self.sr_failed = 0
        self.skipped = 0
        self.first_sr: float | None = None
        self.last_sr: float | None = None
        self.errors: list[str] = []
        self.sr_writer = SRWriter(store)
        # The specs already in the store; a channel's new spec object is recorded once.
        self._specs = {c: rec.spec for c, rec in self.reconstructors.items()}
        self._thread = threading.Thread(target=self._run, name="livesr-inference", daemon=True)

    def start(self) -> None:
        """Start the threads (the worker warms every reconstructor up first)."""
        self.sr_writer.start()
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Stacks waiting for live reconstruction."""
        return len(self._queue)

    def submit(self, stack: SIMStack) -> None:
        """Queue a stack (acquisition thread; O(1), never blocks)."""
        with self._cond:
            if len(self._queue) >= self._max_backlog:
                old = self._queue.popleft()
                self._skips.append(self._skipped(old.key, "backlog"))
            self._queue.append(stack)
            self._cond.notify()

    def announce_incomplete(self, key: tuple[int, int, int, int], missing: list[int]) -> None:
        """Have the worker emit stackSkipped for a stack with frames missing (no backfill)."""
        with self._cond:
            self._skips.append(self._skipped(key, "incomplete", f"missing frames {missing}"))
            self._cond.notify()

    def _skipped(
        self, key: tuple[int, int, int, int], reason: SkipReason, detail: str = ""
    ) -> StackSkipped:
        return StackSkipped(key, self.channels[key[1]], reason, detail)

    def finish(self) -> None:
        """Reconstruct what is queued, backfill every skipped stack, stop (blocks)."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        # Before warmup, so thread pools the backends start here inherit the lower priority.
        # Not when every channel runs in a child process (niced itself): then this thread
        # only hands stacks over, and at a lower priority it would keep the children waiting.
        if any(rec.in_process for rec in self.reconstructors.values()):
            lower_current_thread_priority(self._nice)
        for rec in self.reconstructors.values():
            with exceptions_logged("reconstructor warmup"):
                rec.warmup()
        while True:
            with self._cond:
                while not self._queue and not self._stop and not self._skips:
                    self._cond.wait()
                skips = list(self._skips)
                self._skips.clear()
                stack = self._queue.popleft() if self._queue else None
                stop = self._stop and not self._queue
            for skip in skips:
                self._skip(skip)
            if stack is not None:
                self._live(stack)
            elif stop:
                break
        self.sr_writer.flush()  # backfill decides from sr_done on disk
        self._backfill()
        self.sr_writer.close()
        self.errors += self.sr_writer.errors
        for rec in self.reconstructors.values():
            with exceptions_logged("reconstructor close"):
                rec.close()

    def _skip(self, skip: StackSkipped) -> None:
        if skip.backfilled:
            self.skipped += 1
            self._todo.append((skip.t, skip.c))
        with exceptions_logged("stackSkipped slot"):
            self._emit_skipped(skip)

    def _reconstruct(
        self, t: int, c: int, data: NDArray[np.uint16]
    ) -> tuple[NDArray[np.float32], dict[str, Any], float]:
        rec = self.reconstructors[c]
        raw_frames = [[t, c, i] for i in range(data.shape[0])]
        t0 = time.perf_counter()
        sr, prov = rec(data, raw_frames)
        ms = (time.perf_counter() - t0) * 1e3
        self.reconstruct_ms.append(ms)
        spec = rec.spec
        if spec is not None and spec is not self._specs.get(c):
            self._specs[c] = spec
            self.sr_writer.put_spec(c, spec)
        return sr, prov, ms

    def _write(
        self, t: int, c: int, sr: NDArray[np.float32], prov: Mapping[str, Any],
        reconstruct_ms: float, latency_ms: float | None,
    ) -> None:  # fmt: skip
        """Hand SR frame (t, c) and its per-stack values to the SR writer thread."""
        norm = prov.get("normalization")
        stats = norm if isinstance(norm, dict) else {}
        values = {
            "norm_low": stats.get("low"),
            "norm_high": stats.get("high"),
            "reconstruct_ms": reconstruct_ms,
            "latency_ms": latency_ms,
            "backfill": latency_ms is None,
            "backend": f"{prov.get('backend')}-{prov.get('device')}",
        }
        if "method" in prov:  # --method auto: the choice for this stack
            values["method"] = prov["method"]
            values["signal_photons"] = prov.get("signal_photons")
        self.sr_writer.put(t, c, sr, values)

    def _live(self, stack: SIMStack) -> None:
        t, c = stack.index.get("t", 0), stack.index.get("c", 0)
        if c not in self.reconstructors:
            return
        try:
            sr, prov, ms = self._reconstruct(t, c, stack.data)
        except Exception as exc:
            logger.exception("live reconstruction of stack %s failed", stack.key)
            self._skip(self._skipped(stack.key, "error", f"{type(exc).__name__}: {exc}"))
            return
        now = time.perf_counter()
        latency = (now - stack.t_last) * 1e3
        self._write(t, c, sr, prov, ms, latency)
        self.latencies_ms.append(latency)
        self.sr_live += 1
        self.first_sr = self.first_sr or now
        self.last_sr = now
        self._announce_sr(sr, stack.key, latency, ms, prov)

    def _announce_sr(
        self,
        sr: NDArray[np.float32],
        key: tuple[int, int, int, int],
        latency_ms: float | None,
        reconstruct_ms: float,
        provenance: dict[str, Any],
    ) -> None:
        """Emit srFrameReady with its documented payload (None latency means backfill)."""
        info = SRFrameInfo(
            key, self.channels[key[1]], latency_ms=latency_ms, reconstruct_ms=reconstruct_ms,
            backfill=latency_ms is None, provenance=provenance,
        )  # fmt: skip
        with exceptions_logged("srFrameReady slot"):
            self._emit_sr(sr, info)

    def _backfill(self) -> None:
        done = self.store.sr_done()
        raw_done = self.store.raw_done()
        no_raw: list[tuple[int, int]] = []
        for t, c in dict.fromkeys(self._todo):  # unique, in skip order
            if t < done.shape[0] and done[t, c]:
                continue
            if not (t < raw_done.shape[0] and raw_done[t, c]):
                no_raw.append((t, c))  # the raw writer failed before this stack
                continue
            try:
                data = self.store.read_stack(t, c)
                sr, prov, ms = self._reconstruct(t, c, data)
                self._write(t, c, sr, prov, ms, None)
            except Exception as exc:
                logger.exception("backfill of stack t=%d c=%d failed", t, c)
                self.sr_failed += 1
                self.errors.append(f"backfill of t={t} c={c} failed: {exc}")
                continue
            self.sr_backfilled += 1
            self._announce_sr(sr, (t, c, 0, 0), None, ms, prov)
        if no_raw:
            self.sr_failed += len(no_raw)
            self.errors.append(f"no backfill for {len(no_raw)} stacks without raw data on disk")
