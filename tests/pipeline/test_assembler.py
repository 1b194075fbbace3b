from __future__ import annotations

import numpy as np
import pytest

useq = pytest.importorskip("useq")

from livesr.acquire import sim_events  # noqa: E402
from livesr.config import PatternConfig  # noqa: E402
from livesr.pipeline import StackAssembler  # noqa: E402


def _frames(
    seq: useq.MDASequence, pattern: PatternConfig
) -> list[tuple[np.ndarray, useq.MDAEvent]]:
    out = []
    for ev in sim_events(seq, pattern):
        t, c, a, ph = (ev.index.get(k, 0) for k in ("t", "c", "a", "ph"))
        out.append((np.full((4, 5), 1000 * t + 100 * c + 10 * a + ph, np.uint16), ev))
    return out


def test_sim_events_expand_every_base_event_angle_major() -> None:
    pattern = PatternConfig.linear()
    seq = useq.MDASequence(channels=["488", "561"], time_plan={"interval": 0, "loops": 2})
    events = list(sim_events(seq, pattern))
    assert len(events) == 2 * 2 * 9
    first = events[:9]
    assert [(e.index["a"], e.index["ph"]) for e in first] == [
        (a, p) for a in range(3) for p in range(3)
    ]
    assert all(e.index["t"] == 0 and e.index["c"] == 0 for e in first)
    assert [e.properties[-1].property_value for e in first[:4]] == ["a0p0", "a0p1", "a0p2", "a1p0"]
    assert first[0].channel is not None and first[0].channel.config == "488"
    assert events[9].channel.config == "561"
    assert first[5].metadata["sim"]["pattern_index"] == 5


def test_sim_events_reject_already_expanded_events() -> None:
    events = list(sim_events(useq.MDASequence(channels=["488"])))
    with pytest.raises(ValueError, match="already has SIM keys"):
        list(sim_events(events))


def test_stacks_ordered_by_index_not_arrival() -> None:
    pattern = PatternConfig.linear()
    seq = useq.MDASequence(channels=["488", "561"], time_plan={"interval": 0, "loops": 2})
    frames = _frames(seq, pattern)
    order = np.random.default_rng(0).permutation(len(frames))
    asm = StackAssembler(pattern, max_pending=8)
    stacks = [s for i in order if (s := asm.push(*frames[i])) is not None]
    assert len(stacks) == 4 and asm.n_open == 0
    for stack in stacks:
        t, c = stack.index["t"], stack.index["c"]
        expected = [1000 * t + 100 * c + 10 * a + p for a in range(3) for p in range(3)]
        assert stack.data[:, 0, 0].tolist() == expected
        assert stack.key == (t, 0, 0, c) and stack.key.c == c
        assert stack.t_last >= stack.t_first


def test_missing_frames_evicted_and_flushed() -> None:
    pattern = PatternConfig.linear()
    seq = useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": 6})
    frames = _frames(seq, pattern)
    dropped = {3, 9 * 4 + 8}  # pattern 3 of t=0 and pattern 8 of t=4
    incomplete = []
    asm = StackAssembler(pattern, max_pending=2, on_incomplete=incomplete.append)
    complete = [s for i, f in enumerate(frames) if i not in dropped and (s := asm.push(*f))]
    assert [s.index["t"] for s in complete] == [1, 2, 3, 5]
    # t=0 is evicted once more than two stacks are open; t=4 is still open until flush.
    assert [s.index["t"] for s in incomplete] == [0]
    assert incomplete[0].missing == [3]
    assert [s.index["t"] for s in asm.flush()] == [4]
    assert incomplete[1].missing == [8]
    assert asm.n_incomplete == 2


def test_push_rejects_frames_without_sim_keys() -> None:
    asm = StackAssembler(PatternConfig.linear())
    with pytest.raises(ValueError, match="no SIM keys"):
        asm.push(np.zeros((2, 2), np.uint16), useq.MDAEvent(index={"t": 0}))
    with pytest.raises(ValueError, match="outside"):
        asm.push(np.zeros((2, 2), np.uint16), useq.MDAEvent(index={"t": 0, "a": 3, "ph": 0}))
