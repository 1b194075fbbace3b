"""Live reconstruction in a child process, so CPU inference never waits for the GIL.

On a CPU backend the network competes with acquisition for the interpreter lock, not only for
cores: every op of the forward pass returns to Python, and the MDA thread, the camera's Python
device and the writers hold the GIL in between. Measured on the 2-core demo (dfcan-sim,
128 px, ONNX Runtime, one thread): 80 ms per stack idle, 100-160 ms in the same process while
acquiring at 200 fps, but ~88 ms in another process at the same time. So the pipeline runs a
CPU network channel's reconstruction in a child process of its own and ships stacks over a
socket (pickled arrays: a 9 x 128 x 128 stack there and its SR image back take ~0.6 ms on
an idle machine).

The parent keeps its own copy of the reconstructor as a fallback: if the child cannot start or
dies during the run, reconstruction goes on in the inference thread and nothing is lost.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr._logger import exceptions_logged, logger
from livesr.config import ReconstructorSpec

from ._affinity import split_cpus
from ._channel import ChannelReconstructor

#: Started with ``python -m`` so user scripts need no ``if __name__ == "__main__"`` guard.
_CHILD_MODULE = "livesr.pipeline._inference_child"

__all__ = ["ProcessReconstructor", "move_to_processes"]

#: How long a child may take to import, build and warm its reconstructor.
STARTUP_TIMEOUT_S = 300.0


class ProcessReconstructor(ChannelReconstructor):
    """A `ChannelReconstructor` whose calls run in a child process built from its spec.

    Parameters
    ----------
    obj : StackReconstructor
        Built by name (``obj.spec`` is not None); the child builds its own from the spec
        (`StackReconstructor.from_spec`), and this one stays here as the fallback.
    nice : int
        Nice increment of the child process (Linux).
    cpus : set of int, optional
        Cores the child may run on (Linux); None leaves it to the scheduler.
    malloc : bool
        Tune the child's allocator (`livesr._host.tune_malloc`) before it builds anything.

    Notes
    -----
    Like every reconstructor, used from one thread (the inference worker) after `start`.
    While a call waits for the child, that thread holds no GIL.
    """

    def __init__(
        self, obj: Any, nice: int = 0, cpus: set[int] | None = None, malloc: bool = False
    ) -> None:
        super().__init__(obj)
        spec = getattr(obj, "spec", None)
        if spec is None:
            raise ValueError(
                f"{type(obj).__name__} was not built by name (StackReconstructor.create with "
                "a weights name, path or ModelConfig), so no other process can rebuild it; "
                "use inference_mode='thread'"
            )
        self._child_spec: ReconstructorSpec = spec
        self._nice = nice
        self._cpus = cpus
        self._malloc = malloc
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._pid: int | None = None
        self._aborted = False
        self.fallback_reason: str | None = None
        #: Time spent reconstructing in the child, for the last 1000 calls (the rest of a
        #: call's time is transfer and waiting for this process's GIL).
        self.compute_ms: deque[float] = deque(maxlen=1000)

    @property
    def pid(self) -> int | None:
        """The child's process id while it serves calls, else None."""
        return self._pid if self._conn is not None else None

    @property
    def spec(self) -> ReconstructorSpec | None:
        """The child's spec (with Wiener SIM's estimate once made); after a fallback, ours."""
        return self._child_spec if self.fallback_reason is None else super().spec

    @property
    def in_process(self) -> bool:
        """False while the child serves the calls."""
        return self._conn is None

    @property
    def mode(self) -> str:
        """``"process (pid N)"`` if the child served every call, ``"thread"`` after a fallback.

        Still valid after `close`, for the run's summary.
        """
        ok = self._pid is not None and self.fallback_reason is None
        return f"process (pid {self._pid})" if ok else "thread"

    def start(self) -> None:
        """Launch the child (returns at once; `wait_ready` waits for its reconstructor)."""
        import livesr

        parent_end, child_end = socket.socketpair()
        env = dict(os.environ)
        # The child imports the same livesr as this process, installed or not.
        src = str(Path(livesr.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
        try:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "livesr.pipeline._inference_child",
                    str(child_end.fileno()),
                ],
                pass_fds=(child_end.fileno(),),
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:  # no fork / exec possible here: reconstruct in this process
            parent_end.close()
            self._fall_back(f"inference process could not be started: {exc!r}")
            return
        finally:
            child_end.close()
        self._conn = Connection(parent_end.detach())
        # JSON, not a pickle: the child validates it like any spec read from a store.
        spec_json = self._child_spec.model_dump_json()
        self._conn.send(("init", spec_json, self._nice, self._cpus, self._malloc))

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> bool:
        """Wait until the child has built and warmed its reconstructor.

        Returns False (and falls back to this process) if it failed or timed out.
        """
        if self._conn is None:
            return False
        try:
            if not self._conn.poll(timeout_s):
                raise TimeoutError(f"no answer within {timeout_s:.0f} s")
            kind, value = self._conn.recv()
        except (OSError, EOFError, TimeoutError) as exc:
            self._fall_back(f"inference process did not start: {exc!r}")
            return False
        if kind != "ready":
            self._fall_back(f"inference process could not build the reconstructor:\n{value}")
            return False
        self._pid = int(value)
        return True

    def warmup(self) -> None:
        """The child warmed up before `wait_ready` returned; the fallback warms up here."""
        if self._conn is None:
            super().warmup()

    def __call__(
        self, stack: NDArray[np.uint16], raw_frames: list[Any]
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Reconstruct one stack in the child (or here, after a fallback)."""
        if self._conn is not None:
            try:
                self._conn.send(("call", np.ascontiguousarray(stack), raw_frames))
                answer = self._conn.recv()
            except (OSError, EOFError) as exc:
                if self._aborted:  # killed by the watchdog: no fallback into the same hang
                    raise RuntimeError("the inference process was stopped (timed out)") from exc
                self._fall_back(f"inference process died (exit code {self._exit_code()}): {exc!r}")
            else:
                if answer[0] == "ok":
                    _, sr, provenance, spec_json, compute_ms = answer
                    self.compute_ms.append(compute_ms)
                    if spec_json is not None:  # the child's spec changed (Wiener estimate)
                        self._child_spec = ReconstructorSpec.model_validate_json(spec_json)
                    return sr, provenance
                raise RuntimeError(f"in the inference process: {answer[1]}")
        return super().__call__(stack, raw_frames)

    def abort(self) -> None:
        """Kill the child (any thread), e.g. when a call hangs; later calls raise."""
        self._aborted = True
        proc = self._proc
        if proc is not None:
            with exceptions_logged("killing the inference process"):
                proc.kill()

    def _exit_code(self) -> int | None:
        try:
            return None if self._proc is None else self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return None

    def _fall_back(self, reason: str) -> None:
        logger.warning("%s; reconstructing in the acquisition process from now on", reason)
        self.fallback_reason = reason
        self._stop_child(graceful=False)

    def _stop_child(self, graceful: bool) -> None:
        conn, proc = self._conn, self._proc
        self._conn = self._proc = None
        if conn is not None:
            with exceptions_logged("closing the inference process"):
                if graceful:
                    conn.send(("close",))
                conn.close()
        if proc is not None:
            try:
                proc.wait(timeout=10.0 if graceful else 0.1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        """Stop the child and close the local fallback."""
        self._stop_child(graceful=not self._aborted)
        super().close()


def move_to_processes(
    recs: Mapping[int, ChannelReconstructor], mode: str, nice: int, pin: bool,
    malloc: bool = False,
) -> tuple[dict[int, ChannelReconstructor], set[int] | None]:  # fmt: skip
    """Give each eligible channel a child process; the others keep their reconstructor.

    Eligible under ``mode="auto"``: a network model built by name, on the CPU, on a system
    that can pass a socket to a child (POSIX). ``mode="process"`` asks for every channel with
    a spec (GPU ones too) and warns about the rest; ``"thread"`` changes nothing. Children
    start in parallel and this waits until all are ready (before the first frame).

    Returns
    -------
    recs : dict
        The channels' reconstructors, `ProcessReconstructor` where moved.
    acquisition_cpus : set of int or None
        With `pin` and at least one child running: the cores this process should keep to
        (the children have the others); None to leave the scheduler alone.
    """
    if mode == "thread":
        return dict(recs), None
    out: dict[int, ChannelReconstructor] = dict(recs)
    eligible = {c: rec for c, rec in recs.items() if _eligible(c, rec, mode)}
    threads = max((rec.obj.spec.threads or 0 for rec in eligible.values()), default=0)
    split = split_cpus(threads or None) if pin else None
    moved: list[ProcessReconstructor] = []
    for c, rec in eligible.items():
        cpus = None if split is None else split[1]
        proc = ProcessReconstructor(rec.obj, nice=nice, cpus=cpus, malloc=malloc)
        proc.start()
        out[c] = proc
        moved.append(proc)
    t0 = time.perf_counter()
    for proc in moved:
        proc.wait_ready(max(1.0, STARTUP_TIMEOUT_S - (time.perf_counter() - t0)))
    if moved:
        logger.info("inference processes ready in %.1f s", time.perf_counter() - t0)
    running = any(not proc.in_process for proc in moved)
    return out, (split[0] if split is not None and running else None)


def _eligible(c: int, rec: ChannelReconstructor, mode: str) -> bool:
    reason = _ineligible(rec, mode)
    if reason is not None and mode == "process":
        logger.warning("channel %d reconstructs in a thread: %s", c, reason)
    return reason is None


def _ineligible(rec: ChannelReconstructor, mode: str) -> str | None:
    """Why `rec` stays in this process under `mode`, or None."""
    if os.name != "posix":
        return "child processes get their socket by descriptor passing, POSIX only"
    if rec.spec is None:
        return "it was not built by name (StackReconstructor.create), so it has no spec"
    info = rec.info
    if mode == "auto" and info.backend == "wiener":
        return "Wiener SIM is cheap and mostly outside the GIL (FFTs)"
    if mode == "auto" and not info.device.startswith("cpu"):
        return "GPU backends leave the CPU cores to acquisition already"
    return None
