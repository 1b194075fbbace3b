"""The checks a live run passes before its first frame: axes, channels, models, output, device.

Each failure is one `ValueError` (or `FileExistsError`) whose message says what to fix, so a
bad sequence or model never costs an acquisition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from livesr.config import PatternConfig

from ._channel import ChannelReconstructor

if TYPE_CHECKING:
    import useq
    from pymmcore_plus import CMMCorePlus

__all__ = ["validate_run"]


def validate_run(
    core: CMMCorePlus,
    sequence: useq.MDASequence,
    *,
    channels: tuple[str, ...],
    reconstructor_channels: Iterable[str],
    recs: Mapping[int, ChannelReconstructor],
    pattern: PatternConfig,
    out: Path,
    overwrite: bool,
    pattern_device: str,
) -> int:
    """Check a run against the microscope before anything is created; return its SR scale.

    Parameters
    ----------
    core : CMMCorePlus
        The loaded core: its channel presets and devices.
    sequence : useq.MDASequence
        The experiment without SIM axes.
    channels : tuple of str
        The sequence's channel names (``("default",)`` without channels).
    reconstructor_channels : iterable of str
        The channel names reconstructors were given for.
    recs : mapping of channel index -> ChannelReconstructor
        The wrapped reconstructors (a channel not in the sequence has index -1).
    pattern : PatternConfig
        The SIM pattern the models must fit.
    out : Path
        The run store to create.
    overwrite : bool
        Whether an existing `out` may be replaced.
    pattern_device : str
        The device whose ``Label`` selects the SIM pattern.

    Returns
    -------
    int
        SR pixels per raw pixel, shared by every channel's model (2 without models).

    Raises
    ------
    ValueError
        Axes the store cannot hold, unknown channels, a model that does not fit the pattern,
        models of different scales, an unloaded pattern device.
    FileExistsError
        If `out` exists and `overwrite` is False.
    """
    _check_axes(sequence)
    _check_channels(core, sequence, channels, reconstructor_channels)
    scale = _model_scale(recs, channels, pattern)
    if out.exists() and not overwrite:
        raise FileExistsError(f"output {out} already exists: choose another path or delete it")
    if pattern_device not in core.getLoadedDevices():
        raise ValueError(
            f"pattern device {pattern_device!r} is not loaded in this microscope "
            f"(devices: {list(core.getLoadedDevices())})"
        )
    return scale


def _check_axes(sequence: useq.MDASequence) -> None:
    """The store holds t, p, z and c, and every position shares the sequence's plans."""
    extra = {ax: n for ax, n in sequence.sizes.items() if ax not in ("t", "p", "z", "c") and n > 1}
    if extra:
        raise ValueError(
            f"the run store holds t, p (stage positions), z and c axes; this sequence also "
            f"has {extra}: list grid tiles as stage positions instead"
        )
    if any(getattr(pos, "sequence", None) is not None for pos in sequence.stage_positions):
        raise ValueError(
            "stage positions with their own sub-sequence are not supported: give every "
            "position the sequence's channels, z plan and time plan"
        )


def _check_channels(
    core: CMMCorePlus,
    sequence: useq.MDASequence,
    channels: tuple[str, ...],
    reconstructor_channels: Iterable[str],
) -> None:
    """The channels are presets of the microscope, and reconstructors are for them."""
    if sequence.channels:
        group = sequence.channels[0].group
        known = set(core.getAvailableConfigs(group)) if group else set()
        unknown = [ch.config for ch in sequence.channels if ch.config not in known]
        if unknown:
            raise ValueError(
                f"channels {unknown} are not presets of the config group {group!r} of "
                f"this microscope (known: {sorted(known)}); fix the sequence's channels or "
                "the .cfg"
            )
    for name in reconstructor_channels:
        if name not in channels:
            raise ValueError(
                f"reconstructor for channel {name!r}, but the sequence has channels "
                f"{list(channels)}"
            )


def _model_scale(
    recs: Mapping[int, ChannelReconstructor], channels: tuple[str, ...], pattern: PatternConfig
) -> int:
    """The scale every model shares, after checking each takes this pattern's stacks."""
    scales = set()
    for c, rec in recs.items():
        info = rec.info
        # A wide-field (SISR) model gets each stack's mean (StackReconstructor does that).
        if info.in_frames not in (1, pattern.n_frames):
            raise ValueError(
                f"model {info.name!r} for channel {channels[c]!r} takes "
                f"{info.in_frames} frames per stack, but the pattern has "
                f"{pattern.n_angles} x {pattern.n_phases} = "
                f"{pattern.n_frames}: use a model trained for this pattern"
            )
        scales.add(info.scale)
    if len(scales) > 1:
        raise ValueError(f"all channels' models must share one scale, got {sorted(scales)}")
    return scales.pop() if scales else 2
