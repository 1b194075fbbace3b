"""Turn a training checkpoint into a safetensors weights file with its model card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from livesr import __version__

from ._checkpoint import load_checkpoint
from ._config import TrainConfig

__all__ = ["export_weights"]


def export_weights(
    checkpoint: str | Path,
    path: str | Path,
    *,
    name: str | None = None,
    description: str = "",
    training_command: str = "",
    training_data: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write the network of a checkpoint as ``path`` (safetensors) + ``.card.json``.

    Parameters
    ----------
    checkpoint : path
        A ``best.pt`` / ``latest.pt`` written by `livesr.train.train`.
    path : path
        Output ``.safetensors`` file (its folder is created).
    name : str, optional
        Card name; defaults to the file stem.
    description, training_command : str
        Free text for the card: what the model is for, the exact command that trained it.
    training_data, metrics : dict, optional
        Extra card entries; the data config, step, wall time and best validation NRMSE of the
        checkpoint are always added.

    Returns
    -------
    Path of the weights file.
    """
    from livesr.models import ModelCard, Normalisation, build_model, save_weights

    state = load_checkpoint(Path(checkpoint))
    config = TrainConfig.model_validate(state["config"])
    model = build_model(config.model)
    model.load_state_dict(state["model"])
    model.eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        **config.data.model_dump(mode="json"),
        "patch_size": config.patch_size,
        "batch_size": config.batch_size,
        "iterations": state["step"],
        "wall_time_s": round(float(state["elapsed_s"]), 1),
        **(training_data or {}),
    }
    lo, hi = config.percentiles
    card = ModelCard(
        name=name or path.name.removesuffix(".safetensors"),
        architecture=config.model.architecture,
        in_frames=config.model.in_frames,
        scale=config.model.scale,
        options=dict(getattr(model, "options", config.model.kwargs())),
        normalisation=Normalisation(method="percentile", low=lo, high=hi, clip=True),
        frame_order="wide-field (sum of raw frames)"
        if config.model.in_frames == 1
        else "angle-major, phase-minor",
        training_data=data,
        training_command=training_command,
        metrics={"val_nrmse_best": round(float(state["best_nrmse"]), 5), **(metrics or {})},
        description=description,
        livesr_version=__version__,
    )
    save_weights(model, path, card)
    return path
