"""Choose and build one reconstructor per channel for a live run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from livesr._host import usable_cores
from livesr._logger import logger
from livesr.config import PipelineConfig

if TYPE_CHECKING:
    from livesr.reconstruct import StackReconstructor

__all__ = ["build_reconstructors", "default_model", "parse_model_options"]

#: Structure each demo channel shows, to pick matching bundled weights.
_STRUCTURE_HINTS = {"488": ("microtubule", "mt"), "561": ("ccp", "clathrin")}


def default_model(channel: str) -> str:
    """``"auto"`` when the shipped physics-informed model is installed, else DFCAN or Wiener.

    ``"auto"`` runs, per stack, the physics-informed network where its held-out table says it
    beats Wiener SIM at the stack's measured signal level and Wiener SIM elsewhere
    (docs/networks.md: it beat Wiener and Richardson-Lucy at 5, 10 and 20 photons on a
    microscope it never saw). Without it: bundled DFCAN weights whose name mentions the
    channel's demo structure (microtubules for 488, clathrin-coated pits for 561), then any
    9-frame DFCAN weights, then ``"wiener"``.
    """
    from livesr.models import bundled_weights
    from livesr.reconstruct._physics_rec import DEFAULT_PHYSICS_MODEL

    if DEFAULT_PHYSICS_MODEL in bundled_weights():
        return "auto"

    names = [n for n in bundled_weights() if "dfcan" in n.lower()]
    names = [n for n in names if "sisr" not in n.lower() and "wf" not in n.lower()]
    hints = _STRUCTURE_HINTS.get(channel, ())
    for name in names:
        if any(h in name.lower() for h in hints):
            return name
    return names[0] if names else "wiener"


def parse_model_options(options: Sequence[str], channels: Sequence[str]) -> dict[str, str]:
    """``["488=W1", "561=W2"]`` (or ``["W"]`` for every channel) -> {channel: model}.

    Raises
    ------
    ValueError
        For a channel not in `channels`, a malformed option, or a model that is neither
        ``"wiener"``, bundled weights nor an existing weights file (checked here, before a
        microscope starts).
    """
    from livesr.models import resolve_weights

    models: dict[str, str] = {}
    for opt in options:
        if "=" in opt:
            channel, _, model = opt.partition("=")
            if channel not in channels:
                raise ValueError(
                    f"--model {opt!r}: channel {channel!r} is not in the sequence's channels "
                    f"{list(channels)}"
                )
            models[channel] = model
        elif opt:
            models.update(dict.fromkeys(channels, opt))
        else:
            raise ValueError("--model needs CHANNEL=MODEL or MODEL")
    for model in set(models.values()) - {"wiener"}:
        try:
            resolve_weights(model)
        except FileNotFoundError as exc:  # noqa: PERF203 - once per model name
            raise ValueError(str(exc)) from None
    return models


def build_reconstructors(
    models: Mapping[str, str],
    *,
    backend: str = "auto",
    frame_shape: tuple[int, int],
    config: PipelineConfig,
    threads: int | None = None,
) -> dict[str, StackReconstructor]:
    """One `StackReconstructor` per channel.

    Parameters
    ----------
    models : mapping of channel -> model
        ``"wiener"``, ``"auto"`` (per stack, the shipped physics-informed network where its
        held-out table says it beats Wiener, else Wiener), a bundled weights name or a
        ``.safetensors`` path.
    backend : str
        Backend for network models (``"auto"``, ``"torch"``, ``"onnxruntime"``, ...);
        ``"wiener"`` forces conventional SIM for every channel.
    frame_shape : (Y, X)
        Raw frame size, so compiled backends are built for it.
    config : PipelineConfig
        Optics (per-channel emission) and pattern for Wiener SIM; backend options.
    threads : int, optional
        CPU threads per reconstructor; by default all cores but one, which stays with the
        camera and the raw writer so reconstruction does not slow acquisition.
    """
    from livesr.reconstruct import StackReconstructor

    threads = threads or max(1, usable_cores() - 1)

    out: dict[str, StackReconstructor] = {}
    for channel, model in models.items():
        if model == "wiener" or backend == "wiener":
            # Wiener SIM uses the channel's own emission wavelength (OTF cutoff).
            known = channel in config.optics.emission_um
            out[channel] = StackReconstructor.create(
                "wiener",
                "wiener",
                frame_shape=frame_shape,
                pattern=config.pattern,
                optics=config.optics,
                channel=channel if known else None,
                workers=threads,
                calibration=config.calibration,
                # The live run never stops for a rejected fit: without a calibration the
                # configured pattern stands in, and the fit status in report() says so.
                allow_nominal=config.calibration is None,
            )
        else:
            cfg = config.backend.model_copy(update={"backend": backend})
            known = channel in config.optics.emission_um
            # Physics-informed models (and "auto") run Wiener SIM first and need the
            # instrument; raw-frame networks ignore it.
            microscope = {
                "pattern": config.pattern,
                "optics": config.optics,
                "channel": channel if known else None,
                "calibration": config.calibration,
                "allow_nominal": config.calibration is None,
            }
            out[channel] = StackReconstructor.create(
                model, cfg, frame_shape=frame_shape, threads=threads, microscope=microscope
            )
        info = out[channel].reconstructor.info
        logger.info("channel %s: %s on %s (%s)", channel, info.name, info.backend, info.device)
    return out
