"""Model cards: what a weights file is, how it was trained and how to feed it.

A card travels inside the safetensors header (metadata key ``livesr_card``) and next to it as
``<name>.card.json`` for people. It needs no torch, so listings and CLIs can read it cheaply.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from livesr.config import Architecture, ModelConfig

__all__ = ["CARD_METADATA_KEY", "ModelCard", "Normalisation", "card_path_for", "read_card"]

CARD_METADATA_KEY = "livesr_card"


class Normalisation(BaseModel):
    """How raw stacks are scaled before the network and the output after it.

    Attributes
    ----------
    method : {"percentile", "minmax", "none"}
        Per-stack min-max between two percentiles of all frames jointly (the authors use the
        0th and 100th percentile, i.e. plain min-max), or no scaling.
    low, high : float
        Percentiles in [0, 100].
    clip : bool
        Clip the scaled input to [0, 1].
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["percentile", "minmax", "none"] = "percentile"
    low: float = Field(0.0, ge=0.0, le=100.0)
    high: float = Field(100.0, ge=0.0, le=100.0)
    clip: bool = True


class ModelCard(BaseModel):
    """Everything needed to rebuild, feed and judge a trained network.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"dfcan-sim-microtubules"``.
    architecture : str
        The network (``"dfcan"``, ``"dfgan"``, ``"rcan"`` ...; see `available_models`).
    in_frames, scale : int
        Input frames F and upsampling factor s.
    options : dict
        Constructor options of the architecture beyond in_frames/scale (groups, width, ...),
        all of them as the network reports them; `to_model_config` validates them against the
        architecture's options class (`livesr.config.ARCHITECTURE_OPTIONS`).
    normalisation : Normalisation
        Input/output scaling the network was trained with.
    frame_order : str
        Order of the input frames, e.g. ``"angle-major, phase-minor"``.
    training_data : dict
        Free description of the data (structures, signal levels, seeds, patch size ...).
    training_command : str
        The command line that produced the weights.
    metrics : dict
        Held-out metrics (e.g. ``{"nrmse": ..., "psnr": ...}`` or per-level tables).
    weights_sha256 : str or None
        sha256 of the tensors (names, dtypes, shapes, bytes in name order); set by
        `save_weights` and checked by `load_weights`.
    source : str
        ``"livesr"`` for weights trained here, ``"keras"`` for converted authors' weights.
    input : {"raw", "wiener+widefield"}
        What the network is fed: the normalised raw frames, or the physics-informed input
        (`livesr.reconstruct.physics_input`: Wiener SIM with the fixed constant
        `wiener_input` plus the wide-field image; the reconstructor runs Wiener first).
    wiener_input : float or None
        Wiener constant of the physics-informed input.
    auto_table : list of dict
        Held-out evaluation behind ``--method auto``: rows ``{"photons": p, "network": corr,
        "wiener": corr}``; the network is used where it wins at the measured signal level.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    architecture: Architecture
    in_frames: int = Field(ge=1)
    scale: int = Field(ge=1, le=4)
    options: dict[str, Any] = Field(default_factory=dict)
    normalisation: Normalisation = Field(default_factory=Normalisation)
    frame_order: str = "angle-major, phase-minor"
    training_data: dict[str, Any] = Field(default_factory=dict)
    training_command: str = ""
    metrics: dict[str, Any] = Field(default_factory=dict)
    weights_sha256: str | None = None
    source: str = "livesr"
    description: str = ""
    livesr_version: str = ""
    input: Literal["raw", "wiener+widefield"] = "raw"
    wiener_input: float | None = Field(None, gt=0.0)
    auto_table: list[dict[str, float]] = Field(default_factory=list)
    created: str = Field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    def to_model_config(self, weights: str | None = None) -> ModelConfig:
        """The `ModelConfig` that rebuilds this architecture (optionally naming the weights)."""
        return ModelConfig(
            architecture=self.architecture,
            in_frames=self.in_frames,
            scale=self.scale,
            weights=weights,
            options=dict(self.options),
        )

    def to_json(self) -> str:
        """Indented JSON text of the card."""
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        """Parse a card, naming the problem when the text is not a valid card."""
        try:
            return cls.model_validate(json.loads(text))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid model card: {exc}") from exc

    @classmethod
    def from_file(cls, path: str | Path) -> ModelCard:
        """Read a ``.card.json`` file."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def card_path_for(weights_path: str | Path) -> Path:
    """Sidecar card of a weights file: ``name.safetensors`` -> ``name.card.json``."""
    path = Path(weights_path)
    return path.with_name(path.name.removesuffix(".safetensors") + ".card.json")


def read_card(weights_path: str | Path) -> ModelCard:
    """The card of a safetensors weights file, read from its header without torch.

    Falls back to the ``.card.json`` sidecar when the header carries no card.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Not a safetensors file, or no card in its header nor beside it.
    """
    path = Path(weights_path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    metadata = _safetensors_metadata(path)
    if CARD_METADATA_KEY in metadata:
        return ModelCard.from_json(metadata[CARD_METADATA_KEY])
    sidecar = card_path_for(path)
    if sidecar.is_file():
        return ModelCard.from_file(sidecar)
    raise ValueError(
        f"{path} carries no model card (no {CARD_METADATA_KEY!r} header entry and no "
        f"{sidecar.name} beside it); save weights with livesr.models.save_weights"
    )


def _safetensors_metadata(path: Path) -> dict[str, str]:
    # safetensors layout: u64 little-endian header length, then a JSON header whose optional
    # "__metadata__" entry is a str -> str mapping.
    with path.open("rb") as fh:
        head = fh.read(8)
        size = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 0 < size <= 100_000_000:
            raise ValueError(f"{path} is not a safetensors file (corrupt or truncated header)")
        raw = fh.read(size)
    try:
        header = json.loads(raw)
        metadata = header.get("__metadata__", {}) if isinstance(header, dict) else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        metadata = None
    if not isinstance(metadata, dict):
        raise ValueError(f"{path} is not a safetensors file (unreadable JSON header)")
    return {str(k): str(v) for k, v in metadata.items()}
