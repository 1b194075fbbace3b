"""The inference child process: rebuild a `StackReconstructor` from its spec and serve it.

Started by `ProcessReconstructor` as ``python -m livesr.pipeline._inference_child FD`` with one
end of a socket pair as file descriptor FD. Messages are pickled tuples over a
``multiprocessing.connection.Connection``:

- parent -> child: ``("init", spec_json, nice, cpus, malloc)`` once (a `ReconstructorSpec` as
  JSON, not a pickle, then the parent's `HostTuning`: nice 0, cpus None and malloc False change
  nothing), then ``("call", stack, raw_frames)`` or ``("close",)``;
- child -> parent: ``("ready", pid)`` or ``("error", traceback)`` after init, then
  ``("ok", sr, provenance, spec_json, compute_ms)`` or ``("error", message)`` per call;
  ``spec_json`` is None unless the spec changed (Wiener SIM's first estimate).

A module of its own (not multiprocessing's spawn) so the user's ``__main__`` script is never
re-imported in the child: acquisition scripts need no ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any


def serve(conn: Connection) -> int:
    """Build the reconstructor from the first message, then answer calls until closed.

    Returns the process exit code: 0 after ``close`` or a closed connection, 1 if the
    reconstructor could not be built.
    """
    from livesr._host import affinity_supported, tune_malloc
    from livesr.config import ReconstructorSpec
    from livesr.reconstruct import StackReconstructor

    _, spec_json, nice, cpus, malloc = conn.recv()
    try:
        # Before the backend starts its thread pools, so they inherit cores and priority, and
        # before anything allocates (one arena). The child ends with the run: nothing to undo.
        if malloc:
            tune_malloc()
        if cpus and affinity_supported():
            os.sched_setaffinity(0, cpus)
        if nice and hasattr(os, "nice"):
            os.nice(nice)
        rec = StackReconstructor.from_spec(ReconstructorSpec.model_validate_json(spec_json))
        rec.warmup()
        sent = rec.spec
    except Exception:
        conn.send(("error", traceback.format_exc()))
        return 1
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg: tuple[Any, ...] = conn.recv()
        except EOFError:  # the parent went away
            break
        if msg[0] == "close":
            break
        _, stack, raw_frames = msg
        start = time.perf_counter()
        try:
            sr, prov = rec(stack, raw_frames=raw_frames)
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            ms = (time.perf_counter() - start) * 1e3
            spec, spec_json = rec.spec, None
            if spec is not None and spec is not sent:
                sent, spec_json = spec, spec.model_dump_json()
            conn.send(("ok", sr, prov, spec_json, ms))
    rec.close()
    return 0


def main() -> int:
    # Ctrl-C in a terminal reaches the whole process group: the parent decides when this
    # child stops (it sends "close" or goes away), so the child ignores it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(sys.argv[1]))
    try:
        return serve(conn)
    except (EOFError, OSError):  # the parent went away (killed, crashed): nobody to answer
        return 0
    finally:
        with contextlib.suppress(OSError):
            conn.close()


if __name__ == "__main__":
    sys.exit(main())
