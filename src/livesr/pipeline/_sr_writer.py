"""The SR writer thread: SR frames reach the store without holding up reconstruction.

Besides the frames, it records their provenance: each channel's `ReconstructorSpec` when it
changes (at most twice per run: the start, and Wiener SIM's first estimate) and the per-stack
values (normalisation, timing, backend) and quality records in the store's small arrays,
batched: one write per array every `_RECORD_EVERY_S` seconds or `_MAX_PENDING` frames. Each
record field is an array of its own (22 with the quality checks), so recording per frame
cost ~22 small zarr writes per SR frame, on the interpreter lock the camera and the
acquisition need too.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr._logger import logger
from livesr.config import ReconstructorSpec
from livesr.io import SRStore, StackKey

__all__ = ["SRWriter"]

_STOP = object()
#: Per-stack values are written at least every this many frames even while frames keep coming.
_MAX_PENDING = 64
#: ... and at least this often (also when no frame comes): a crash loses at most this much of
#: the records (the frames and their ``sr_done`` marks are written at once; ``livesr
#: reprocess`` redoes records).
_RECORD_EVERY_S = 1.0


class SRWriter:
    """Write SR frames (and their ``sr_done`` marks) on a thread of its own.

    The inference worker hands each SR frame over and goes on reconstructing, so on a fast
    backend (a GPU at some ms per stack) writing never sets the pace. The queue holds at most
    what the (bounded) inference worker produces; `flush` waits until everything is on disk.
    A write error is logged and counted, never raised into acquisition: the raw data are
    safe, and ``livesr reprocess`` completes the SR.

    With `raw_written` (``RawWriter.wait_written``) a live SR frame waits until its raw stack
    is on disk and marked: SR is never on disk without its raw data, even after ``kill -9``.
    """

    def __init__(
        self, store: SRStore, raw_written: Callable[[StackKey], bool] | None = None
    ) -> None:
        self.store = store
        self._raw_written = raw_written
        self._queue: queue.Queue[Any] = queue.Queue()
        self.written = 0
        self.errors: list[str] = []
        self._pending: list[tuple[StackKey, Mapping[str, Any]]] = []
        self._pending_qc: list[tuple[StackKey, Mapping[str, Any]]] = []
        self._thread = threading.Thread(target=self._run, name="livesr-sr-writer", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def put(self, key: StackKey, image: NDArray[np.float32], values: Mapping[str, Any]) -> None:
        """Queue the SR frame of stack `key` and its per-stack values (inference thread; O(1)).

        `values` maps fields of `livesr.io.STACK_FIELDS` to this stack's value.
        """
        self._queue.put((key, image, values))

    def put_spec(self, c: int, spec: ReconstructorSpec) -> None:
        """Queue channel `c`'s new spec for the store's static provenance (inference thread)."""
        self._queue.put(("spec", c, spec))

    def put_quality(
        self, key: StackKey, values: Mapping[str, Any], error_map: NDArray[np.float32] | None
    ) -> None:
        """Queue the quality record of SR frame `key` and its error map (quality thread; O(1)).

        `values` maps fields of `livesr.io.QC_FIELDS` (and ``chi2``, ``modulation``).
        """
        self._queue.put(("qc", key, values, error_map))

    def flush(self) -> None:
        """Block until every queued frame is written."""
        self._queue.join()

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        last = time.monotonic()
        while True:
            try:
                item = self._queue.get(timeout=_RECORD_EVERY_S)
            except queue.Empty:
                self._record()
                last = time.monotonic()
                continue
            try:
                if item is _STOP:
                    self._record()
                    return
                self._write(item)
                pending = len(self._pending) + len(self._pending_qc)
                if pending >= _MAX_PENDING or time.monotonic() - last >= _RECORD_EVERY_S:
                    self._record()
                    last = time.monotonic()
            finally:
                self._queue.task_done()

    def _write(self, item: tuple[Any, ...]) -> None:
        try:
            if item[0] == "spec":
                _, c, spec = item
                self.store.set_reconstructor_specs("sr", {self.store.channels[c]: spec})
                return
            if item[0] == "qc":
                _, key, values, error_map = item
                if error_map is not None:
                    self.store.write_error_map(key, error_map)
                self._pending_qc.append((key, values))
                return
            key, image, values = item
            live = not values.get("backfill")  # backfill reads raw_done from disk itself
            if live and self._raw_written is not None and not self._raw_written(key):
                self.errors.append(f"SR {key} not written: its raw stack is not on disk")
                return
            self.store.write_sr(key, image)
            self.written += 1
            self._pending.append((key, values))
        except Exception as exc:
            logger.error("writing SR frame %s failed: %s", item[0], exc)
            self.errors.append(f"SR item {item[0]} not written: {exc}")

    def _record(self) -> None:
        """Write the pending frames' quality records and per-stack values, one write per field."""
        quality, self._pending_qc = self._pending_qc, []
        stacks, self._pending = self._pending, []
        self._write_columns(self.store.record_quality, quality, "quality records")
        self._write_columns(self.store.record_stacks, stacks, "per-stack values")

    def _write_columns(
        self,
        write: Callable[[str, list[StackKey], dict[str, list[Any]]], None],
        pending: list[tuple[StackKey, Mapping[str, Any]]],
        what: str,
    ) -> None:
        """Write `pending` (key, values) pairs as one column per field with `write`."""
        if not pending:
            return
        fields = {field for _, values in pending for field in values}
        columns = {f: [values.get(f) for _, values in pending] for f in fields}
        try:
            write("sr", [key for key, _ in pending], columns)
        except Exception as exc:
            logger.error("recording %s failed: %s", what, exc)
            self.errors.append(f"{what} of {len(pending)} SR frames not written: {exc}")
