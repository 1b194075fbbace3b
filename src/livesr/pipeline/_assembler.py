"""Group raw SIM frames into stacks by their event index, whatever order they arrive in."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from livesr._logger import logger
from livesr.acquire._events import ANGLE_KEY, PHASE_KEY, SIM_KEYS
from livesr.config import PatternConfig
from livesr.io import StackKey

if TYPE_CHECKING:
    import useq

__all__ = ["SIMStack", "StackAssembler", "stack_key"]

#: Axes of the stack key, in order; missing axes count as 0.
KEY_AXES = StackKey._fields


def stack_key(index: Mapping[str, int]) -> StackKey:
    """`StackKey` (t, p, z, c) of an event index (SIM keys and missing axes ignored)."""
    return StackKey.from_index(index)


@dataclass
class SIMStack:
    """One complete (or, after eviction, incomplete) SIM stack.

    Attributes
    ----------
    data : ndarray, uint16, shape (F, Y, X)
        Raw frames, angle-major (index ``a * n_phases + ph``), whatever their arrival order.
    index : dict[str, int]
        The base event index without the SIM keys (t, c, p, z, g ... as present).
    events : list of useq.MDAEvent or None
        The raw frame events by pattern position (None where a frame is missing).
    t_first, t_last : float
        ``time.perf_counter()`` when the first and the last frame arrived.
    """

    data: NDArray[np.uint16]
    index: dict[str, int]
    events: list[useq.MDAEvent | None]
    t_first: float
    t_last: float = 0.0
    received: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def key(self) -> StackKey:
        """(t, p, z, c): where the stack goes in the run store."""
        return stack_key(self.index)

    @property
    def complete(self) -> bool:
        """Every pattern frame arrived."""
        return bool(self.received.all())

    @property
    def missing(self) -> list[int]:
        """Pattern positions with no frame."""
        return [int(i) for i in np.flatnonzero(~self.received)]


class StackAssembler:
    """Collect frames into `SIMStack` s keyed by their event index minus the SIM keys.

    Frames are placed by their ``(a, ph)`` index, so out-of-order arrival is harmless. A stack
    that never completes (a dropped frame) is evicted, oldest first, once more than
    `max_pending` stacks are open, and reported through `on_incomplete`; `flush` reports the
    rest. Work per frame is O(1) plus one frame copy (which also detaches the frame from the
    camera's ring buffer), so `push` may run on the acquisition thread.

    Parameters
    ----------
    pattern : PatternConfig
        Angles and phases per stack.
    max_pending : int
        Open (incomplete) stacks kept before the oldest is given up.
    on_incomplete : callable, optional
        Called with each evicted or flushed incomplete `SIMStack`.

    Notes
    -----
    Not thread-safe: one thread (the acquisition thread) pushes.
    """

    def __init__(
        self,
        pattern: PatternConfig,
        *,
        max_pending: int = 8,
        on_incomplete: Callable[[SIMStack], None] | None = None,
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending={max_pending} must be >= 1")
        self.pattern = pattern
        self.max_pending = max_pending
        self.on_incomplete = on_incomplete
        self._open: OrderedDict[tuple[tuple[str, int], ...], SIMStack] = OrderedDict()
        self.n_frames = 0
        self.n_stacks = 0
        self.n_incomplete = 0

    @property
    def n_open(self) -> int:
        """Stacks started but not complete."""
        return len(self._open)

    def push(self, img: NDArray[np.uint16], event: useq.MDAEvent) -> SIMStack | None:
        """Add one frame; return its stack when this frame completes it.

        Parameters
        ----------
        img : ndarray, shape (Y, X)
            The raw frame (copied).
        event : useq.MDAEvent
            Its event; the index must hold ``"a"`` and ``"ph"`` (see `sim_events`).

        Raises
        ------
        ValueError
            If the event has no SIM keys or an angle/phase outside the pattern.
        """
        index = event.index
        try:
            a, ph = int(index[ANGLE_KEY]), int(index[PHASE_KEY])
        except KeyError:
            raise ValueError(
                f"frame event index {dict(index)} has no SIM keys {SIM_KEYS}: run events "
                "made by livesr.acquire.sim_events"
            ) from None
        n_a, n_p = self.pattern.n_angles, self.pattern.n_phases
        if not (0 <= a < n_a and 0 <= ph < n_p):
            raise ValueError(f"frame (a={a}, ph={ph}) is outside the {n_a}x{n_p} pattern")
        now = time.perf_counter()
        self.n_frames += 1
        base = tuple(sorted((str(k), int(v)) for k, v in index.items() if k not in SIM_KEYS))
        stack = self._open.get(base)
        if stack is None:
            n_f = self.pattern.n_frames
            stack = SIMStack(
                data=np.empty((n_f, *img.shape), dtype=np.uint16),
                index=dict(base),
                events=[None] * n_f,
                t_first=now,
                received=np.zeros(n_f, dtype=bool),
            )
            self._open[base] = stack
            self._evict()
        pos = a * n_p + ph
        if stack.received[pos]:
            logger.warning("duplicate frame for stack %s pattern %d: kept the newer", base, pos)
        stack.data[pos] = img
        stack.events[pos] = event
        stack.received[pos] = True
        stack.t_last = now
        if stack.complete:
            del self._open[base]
            self.n_stacks += 1
            return stack
        return None

    def _evict(self) -> None:
        while len(self._open) > self.max_pending:
            _, stack = self._open.popitem(last=False)
            self._report_incomplete(stack)

    def _report_incomplete(self, stack: SIMStack) -> None:
        self.n_incomplete += 1
        logger.warning("stack %s incomplete: missing pattern frames %s", stack.key, stack.missing)
        if self.on_incomplete is not None:
            self.on_incomplete(stack)

    def flush(self) -> list[SIMStack]:
        """Give up every open stack (end of acquisition); returns them, oldest first."""
        stacks = list(self._open.values())
        self._open.clear()
        for stack in stacks:
            self._report_incomplete(stack)
        return stacks
