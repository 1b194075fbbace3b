"""Saving and loading weights: safetensors (never pickle) with the model card in the header."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from livesr._version import __version__

from ._bundled import resolve_weights
from ._card import CARD_METADATA_KEY, ModelCard, card_path_for, read_card
from ._registry import build_model

__all__ = ["load_weights", "save_weights", "tensors_sha256"]


def tensors_sha256(tensors: Mapping[str, torch.Tensor]) -> str:
    """sha256 over names, dtypes, shapes and bytes of the tensors, in name order.

    Independent of the file layout, so it identifies the weights themselves; `load_weights`
    recomputes it to detect corrupted or edited files.
    """
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _describe(model: nn.Module) -> dict[str, Any] | None:
    arch = getattr(model, "architecture", None)
    if arch is None or not hasattr(model, "options"):
        return None
    return {
        "architecture": str(arch),
        "in_frames": int(getattr(model, "in_frames")),  # noqa: B009
        "scale": int(getattr(model, "scale")),  # noqa: B009
        "options": dict(getattr(model, "options")),  # noqa: B009
    }


def _options_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    # JSON turns tuples into lists; compare through the same normal form.
    def norm(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return {k: norm(v) for k, v in a.items()} == {k: norm(v) for k, v in b.items()}


def save_weights(model: nn.Module, path: str | Path, card: ModelCard | None = None) -> ModelCard:
    """Write ``model``'s weights as safetensors with its card, plus a ``.card.json`` sidecar.

    Parameters
    ----------
    model : torch.nn.Module
        A network from this package (it knows its architecture, in_frames, scale, options).
    path : str or Path
        Target file, conventionally ``<name>.safetensors``; parent folders are created.
    card : ModelCard, optional
        Training data, metrics, command ...; architecture fields must match the model.
        Without one, a minimal card named after the file is written.

    Returns
    -------
    ModelCard
        The card as stored, with ``weights_sha256`` and ``livesr_version`` filled in.

    Raises
    ------
    ValueError
        The card describes another architecture than the model.
    """
    from safetensors.torch import save_file

    path = Path(path)
    described = _describe(model)
    if card is None:
        if described is None:
            raise ValueError(
                f"{type(model).__name__} is not a livesr network; pass a ModelCard that names "
                "its architecture"
            )
        card = ModelCard(name=path.name.removesuffix(".safetensors"), **described)
    elif described is not None:
        mismatch = [
            f"{key}: card {getattr(card, key)!r} vs model {value!r}"
            for key, value in described.items()
            if key != "options" and getattr(card, key) != value
        ]
        if not _options_equal(card.options, described["options"]):
            mismatch.append(f"options: card {card.options!r} vs model {described['options']!r}")
        if mismatch:
            raise ValueError(
                "model card does not match the model: " + "; ".join(mismatch) + ". Build the "
                "card from the model's architecture, in_frames, scale and options."
            )
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    card = card.model_copy(
        update={"weights_sha256": tensors_sha256(tensors), "livesr_version": __version__}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={CARD_METADATA_KEY: card.to_json()})
    card_path_for(path).write_text(card.to_json() + "\n", encoding="utf-8")
    return card


def load_weights(
    name_or_path: str | Path, *, device: str | torch.device = "cpu"
) -> tuple[nn.Module, ModelCard]:
    """Rebuild a network from a weights file (or bundled name) and its card.

    Parameters
    ----------
    name_or_path : str or Path
        A ``.safetensors`` file written by `save_weights`, or a bundled weights name.
    device : str or torch.device
        Where the tensors are loaded.

    Returns
    -------
    (torch.nn.Module, ModelCard)
        The network in eval mode, float32, on ``device``; and its card.

    Raises
    ------
    FileNotFoundError
        No such file or bundled name.
    ValueError
        Corrupt file, hash mismatch, or tensors that do not fit the card's architecture.
    """
    from safetensors.torch import load_file

    path = resolve_weights(name_or_path)
    card = read_card(path)
    try:
        tensors = load_file(str(path), device=str(device))
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ValueError(f"{path} is corrupt or truncated: {exc}") from exc
    if card.weights_sha256 is not None and tensors_sha256(tensors) != card.weights_sha256:
        raise ValueError(
            f"{path}: the tensors do not match the weights_sha256 of the card (file corrupt or "
            "edited); re-download or re-save the weights"
        )
    # The card decides the network's size: check it against the tensors on the meta device
    # first, so a small file whose card claims a huge width allocates nothing.
    with torch.device("meta"):
        skeleton = build_model(card.to_model_config())
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in tensors.items()}
    if expected != found:
        missing = sorted(set(expected) - set(found))[:5]
        unexpected = sorted(set(found) - set(expected))[:5]
        wrong = [k for k in expected if k in found and expected[k] != found[k]][:5]
        raise ValueError(
            f"{path}: the tensors do not fit the card's architecture {card.architecture!r} "
            f"(in_frames={card.in_frames}, scale={card.scale}, options={card.options}): "
            f"missing {missing}, unexpected {unexpected}, wrong shape {wrong}"
        )
    model = build_model(card.to_model_config())
    model.load_state_dict(tensors)
    return model.to(device).eval(), card
