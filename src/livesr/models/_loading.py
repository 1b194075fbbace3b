"""`load_model`: a network on the CPU from a name, a path, a config or a module.

Every runtime (torch, ONNX Runtime, TensorRT) starts from the same `LoadedModel`, so the
weights hash in each SR frame's provenance means the same thing whatever ran it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livesr.config import ModelConfig

if TYPE_CHECKING:
    import torch

__all__ = ["LoadedModel", "WeightsUnavailableError", "load_model", "load_recorded_model"]


class WeightsUnavailableError(ValueError):
    """The weights a run recorded are not at hand: the file is missing or holds other tensors.

    The message is one line that names the file (or bundled name) needed.
    """


@dataclass
class LoadedModel:
    """A network ready for a backend, with what provenance needs.

    Attributes
    ----------
    module : torch.nn.Module
        In eval mode, on the CPU.
    name : str
        Bundled weights name, file stem or architecture.
    in_frames, scale : int
    weights_sha256 : str
        `tensors_sha256` of the weights (names, dtypes, shapes, bytes), whether they came
        from a file (the card's verified hash) or from a module in memory, so the same
        tensors always have the same hash and exports of different models never share a
        cache entry.
    card : dict
        The model card (JSON-ready), empty for an untrained model.
    """

    module: torch.nn.Module
    name: str
    in_frames: int
    scale: int
    weights_sha256: str
    card: dict[str, Any] = field(default_factory=dict)


def _module_sha256(module: torch.nn.Module) -> str:
    from ._weights import tensors_sha256

    return tensors_sha256(module.state_dict())


def load_model(model: ModelConfig | str | Path | torch.nn.Module | LoadedModel) -> LoadedModel:
    """Resolve `model` to a network on the CPU.

    Parameters
    ----------
    model : ModelConfig, str, Path, torch.nn.Module or LoadedModel
        A `ModelConfig` (with or without ``weights``), a bundled weights name, a
        ``.safetensors`` path, or a module (which must have ``in_frames`` and ``scale``).
        A `LoadedModel` is returned unchanged.
    """
    if isinstance(model, LoadedModel):
        return model
    from ._bundled import resolve_weights
    from ._registry import build_model
    from ._weights import load_weights

    if isinstance(model, str | Path):
        model = ModelConfig(weights=str(model))
    if isinstance(model, ModelConfig):
        if model.weights is None:
            module = build_model(model).eval()
            return LoadedModel(
                module, model.architecture, model.in_frames, model.scale, _module_sha256(module)
            )
        path = Path(resolve_weights(model.weights))
        module, card = load_weights(path)
        card_dict = card.model_dump(mode="json") if hasattr(card, "model_dump") else dict(card)
        name = str(card_dict.get("name") or path.stem)
        in_frames = int(card_dict.get("in_frames") or getattr(module, "in_frames"))  # noqa: B009
        scale = int(card_dict.get("scale") or getattr(module, "scale"))  # noqa: B009
        sha = str(card_dict.get("weights_sha256") or _module_sha256(module))
        return LoadedModel(module.eval(), name, in_frames, scale, sha, card_dict)
    # A bare module (tests, notebooks).
    frames, factor = getattr(model, "in_frames", None), getattr(model, "scale", None)
    if frames is None or factor is None:
        raise ValueError(
            "a torch module passed as `model` needs `in_frames` and `scale` attributes"
        )
    return LoadedModel(
        model.eval(),
        type(model).__name__.lower(),
        int(frames),
        int(factor),
        _module_sha256(model),
    )


def load_recorded_model(model: str, weights_sha256: str | None) -> LoadedModel:
    """Load the weights a `ReconstructorSpec` names, and refuse any others.

    Parameters
    ----------
    model : str
        A bundled weights name or a ``.safetensors`` path, as recorded.
    weights_sha256 : str or None
        The recorded `tensors_sha256`; None skips the check (a spec written by hand).

    Raises
    ------
    WeightsUnavailableError
        If the file is missing, or its tensors hash differs from `weights_sha256` (the file
        was replaced, or a bundled name now holds retrained weights).
    """
    recorded = "" if weights_sha256 is None else f" (tensors sha256 {weights_sha256[:12]}...)"
    try:
        loaded = load_model(model)
    except FileNotFoundError:
        raise WeightsUnavailableError(
            f"the weights {model}{recorded} this reconstructor was recorded with are missing: "
            "put that file back, or choose other weights (--model) for another SR image"
        ) from None
    if weights_sha256 is not None and loaded.weights_sha256 != weights_sha256:
        raise WeightsUnavailableError(
            f"the weights {model} now hold other tensors (sha256 {loaded.weights_sha256[:12]}"
            f"...) than the ones recorded{recorded}: put the recorded file back at that path, "
            "or choose other weights (--model) for another SR image"
        )
    return loaded
