"""Expand a useq MDASequence into SIM events (one event per raw pattern frame)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from livesr.config import PatternConfig

if TYPE_CHECKING:
    import useq

__all__ = ["ANGLE_KEY", "PHASE_KEY", "SIM_KEYS", "pattern_index", "pattern_label", "sim_events"]

ANGLE_KEY = "a"
PHASE_KEY = "ph"
SIM_KEYS = (ANGLE_KEY, PHASE_KEY)


def pattern_label(angle: int, phase: int) -> str:
    """Label of the pattern device state for (angle, phase), e.g. ``"a1p2"``."""
    return f"a{angle}p{phase}"


def pattern_index(angle: int, phase: int, pattern: PatternConfig) -> int:
    """Position of (angle, phase) in a stack: angle-major, phase-minor."""
    return angle * pattern.n_phases + phase


def sim_events(
    sequence: useq.MDASequence | Iterable[useq.MDAEvent],
    pattern: PatternConfig | None = None,
    *,
    pattern_device: str = "Pattern",
    pattern_property: str = "Label",
) -> Iterator[useq.MDAEvent]:
    """Expand every event of `sequence` into ``n_angles * n_phases`` SIM frame events.

    Each base event (any mix of t, p, g, c, z axes) becomes one event per pattern, in
    angle-major order. The index gains the keys ``"a"`` (angle) and ``"ph"`` (phase), the
    pattern is selected by setting ``pattern_device.pattern_property`` to
    `pattern_label` ``(a, ph)`` (a hardware-sequenceable property on the demo microscope, so
    pymmcore-plus merges a stack, or a whole time point, into one triggered burst), and
    ``metadata["sim"]`` records the pattern geometry.

    Parameters
    ----------
    sequence : useq.MDASequence or iterable of useq.MDAEvent
        The experiment as the user writes it, without any SIM axis.
    pattern : PatternConfig, optional
        Angles and phases; linear 3 x 3 SIM by default.
    pattern_device, pattern_property : str
        The device and property that select the pattern.

    Yields
    ------
    useq.MDAEvent
        Events ready for ``core.mda.run``; a generator, so an open-ended sequence stays lazy.
    """
    import useq

    pattern = pattern or PatternConfig()
    events = sequence.iter_events() if isinstance(sequence, useq.MDASequence) else sequence
    for event in events:
        if ANGLE_KEY in event.index or PHASE_KEY in event.index:
            raise ValueError(
                f"event index {dict(event.index)} already has SIM keys {SIM_KEYS}: pass the "
                "plain MDASequence, sim_events adds the pattern axes itself"
            )
        base = {str(k): int(v) for k, v in event.index.items()}
        for a in range(pattern.n_angles):
            for ph in range(pattern.n_phases):
                label = pattern_label(a, ph)
                yield event.model_copy(
                    update={
                        # The user's sequence has no SIM axes, so it no longer describes this
                        # event: a TensorStoreHandler (pymmcore-gui's MDA viewer) would size its
                        # store from it and fail on every frame on the "a" key.
                        "sequence": None,
                        "index": {**base, ANGLE_KEY: a, PHASE_KEY: ph},
                        "properties": [
                            *(event.properties or ()),
                            useq.PropertyTuple(pattern_device, pattern_property, label),
                        ],
                        "metadata": {
                            **event.metadata,
                            "sim": {
                                "angle": a,
                                "phase": ph,
                                "pattern_index": pattern_index(a, ph, pattern),
                                "n_angles": pattern.n_angles,
                                "n_phases": pattern.n_phases,
                            },
                        },
                    }
                )
