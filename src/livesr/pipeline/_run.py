"""One call from a core and a sequence to a finished run store (what the CLI runs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livesr.config import PipelineConfig

from ._pipeline import LivePipeline
from ._reconstructors import build_reconstructors, default_model
from ._signals import PipelineSummary

if TYPE_CHECKING:
    import useq
    from pymmcore_plus import CMMCorePlus

__all__ = ["run_live"]


def run_live(
    core: CMMCorePlus,
    sequence: useq.MDASequence,
    out: str | Path,
    *,
    models: Mapping[str, str] | None = None,
    backend: str = "auto",
    config: PipelineConfig | None = None,
    pattern_device: str = "Pattern",
    connect: Callable[[LivePipeline], Any] | None = None,
) -> PipelineSummary:
    """Acquire `sequence` with live SR into the store `out` and return the summary.

    Parameters
    ----------
    core : CMMCorePlus
        Loaded microscope (`open_core`).
    sequence : useq.MDASequence
        Channels and time plan, without SIM axes.
    out : str or Path
        Run store to create.
    models : mapping of channel -> model, optional
        ``"wiener"``, bundled weights name or ``.safetensors`` path; channels left out get
        `default_model` (bundled DFCAN weights when installed, else Wiener).
    backend : str
        Network backend, or ``"wiener"`` for conventional SIM on every channel.
    config : PipelineConfig, optional
        Optics, pattern, backlog, writer options.
    pattern_device : str
        Device whose Label selects the pattern.
    connect : callable, optional
        Called with the entered pipeline before the first frame, to connect its signals
        (progress, preview).

    Raises
    ------
    ValueError, FileExistsError
        Bad input, before any frame is acquired (see `LivePipeline`).
    """
    config = config or PipelineConfig()
    out = Path(out)
    if out.exists() and not config.writer.overwrite:
        raise FileExistsError(f"output {out} already exists: choose another path or delete it")
    channels = [ch.config for ch in sequence.channels]
    chosen = {ch: (models or {}).get(ch) or default_model(ch) for ch in channels}
    shape = (int(core.getImageHeight()), int(core.getImageWidth()))
    recs = build_reconstructors(chosen, backend=backend, frame_shape=shape, config=config)
    with LivePipeline(
        core, sequence, out, reconstructors=recs, config=config, pattern_device=pattern_device
    ) as pipe:
        if connect is not None:
            connect(pipe)
        pipe.run()
    return pipe.summary
