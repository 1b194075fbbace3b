"""From `StackReconstructor.create`'s arguments to the parts a `StackReconstructor` wraps.

Three routes: conventional Wiener SIM; a physics-informed network (Wiener SIM runs first, or
``model="auto"`` chooses per stack); a plain network fed normalised raw frames. Each gives the
backend, how to feed it, its model card and the `ReconstructorSpec` that rebuilds it (None when
the model is an object in memory).

Threads: called once, by whoever builds the reconstructor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livesr.config import (
    BackendConfig,
    ModelConfig,
    NormalizationSpec,
    ReconstructorSpec,
    WienerSpec,
)

from ._normalize import PercentileNormalizer
from ._protocol import Reconstructor
from ._spec import model_reference, normalization_spec, wiener_spec

if TYPE_CHECKING:
    import torch

    from livesr.models import LoadedModel

__all__ = ["StackParts", "build_stack_parts"]

_BACKEND_OPTIONS = ("device", "precision", "batch_size", "tile_size", "tile_overlap")


@dataclass(frozen=True)
class StackParts:
    """What `StackReconstructor.__init__` takes (see there for each field's meaning)."""

    reconstructor: Reconstructor
    normalizer: PercentileNormalizer | None = None
    model_card: dict[str, Any] | None = None
    normalize: bool = True
    spec: ReconstructorSpec | None = None


def build_stack_parts(
    model: ModelConfig | str | Path | torch.nn.Module | LoadedModel,
    backend: str | BackendConfig,
    *,
    frame_shape: tuple[int, int] | None,
    normalizer: PercentileNormalizer | None,
    microscope: dict[str, Any] | None,
    options: dict[str, Any],
) -> StackParts:
    """Build the backend `create` describes, with how to feed it and how to rebuild it.

    Parameters are `StackReconstructor.create`'s; `options` is its ``**options`` (consumed).

    Raises
    ------
    ValueError
        If ``model="auto"`` names a model that is not physics-informed, or an argument is
        invalid (unknown backend or device, ...).
    """
    from ._factory import create_reconstructor, parse_backend

    if isinstance(backend, BackendConfig):
        options = {**{k: getattr(backend, k) for k in _BACKEND_OPTIONS}, **options}
        backend = backend.backend
    backend, device = parse_backend(backend, options.pop("device", "auto"))
    chosen = {k: options.pop(k) for k in _BACKEND_OPTIONS[1:] if k in options}
    if backend == "wiener" or (isinstance(model, str) and model == "wiener"):
        rec = create_reconstructor("wiener", "wiener", frame_shape=frame_shape, **chosen,
                                   **options)  # fmt: skip
        return StackParts(rec, spec=wiener_spec(options, frame_shape))
    auto = isinstance(model, str) and model == "auto"
    if auto:
        from ._physics_rec import DEFAULT_PHYSICS_MODEL

        model = DEFAULT_PHYSICS_MODEL
    target, card, weights_sha256 = _load(model)
    settings = BackendConfig.model_validate(
        {"backend": backend, "device": device.split(":")[0], **chosen}
    )
    if card.get("input") == "wiener+widefield":
        return _physics_parts(
            model, target, card, weights_sha256, settings, device, frame_shape, auto=auto,
            options={**(microscope or {}), **options},
        )  # fmt: skip
    if auto:
        raise ValueError(f"--method auto needs a physics-informed model, not {model!r}")
    return _network_parts(
        model, target, card, weights_sha256, settings, device, frame_shape, normalizer, options
    )


def _load(model: Any) -> tuple[Any, dict[str, Any], str | None]:
    """The network to build from, its card and its weights' hash.

    Without torch, a bundled model runs on its shipped ONNX graph: its card (read from the
    safetensors header, torch-free) stands in for the loaded network, which is then `model`
    itself.
    """
    from livesr.models import load_model

    from .runtimes._bundled_onnx import bundled_graph_card

    card = bundled_graph_card(model)
    if card is None:
        loaded = load_model(model)
        return loaded, loaded.card, loaded.weights_sha256
    return model, card, card.get("weights_sha256")


def _physics_parts(
    model: Any,
    target: Any,
    card: dict[str, Any],
    weights_sha256: str | None,
    settings: BackendConfig,
    device: str,
    frame_shape: tuple[int, int] | None,
    *,
    auto: bool,
    options: dict[str, Any],
) -> StackParts:
    """A physics-informed network (Wiener SIM first), or ``auto``'s per-stack choice.

    It is fed raw counts: its Wiener input is in count units already.
    """
    from ._physics_rec import build_physics_informed

    rec, sim = build_physics_informed(
        target, card, settings, device, frame_shape, auto=auto, options=options
    )
    spec = _spec_as_run(
        "auto" if auto else model_reference(model), rec, settings, weights_sha256,
        NormalizationSpec(method="none"), frame_shape, options.get("threads"), sim,
    )  # fmt: skip
    return StackParts(rec, model_card=card, normalize=False, spec=spec)


def _network_parts(
    model: Any,
    target: Any,
    card: dict[str, Any],
    weights_sha256: str | None,
    settings: BackendConfig,
    device: str,
    frame_shape: tuple[int, int] | None,
    normalizer: PercentileNormalizer | None,
    options: dict[str, Any],
) -> StackParts:
    """A network fed raw frames normalised as its card (or `normalizer`) says."""
    from ._factory import create_reconstructor

    norm = normalization_spec(card, normalizer)
    threads = options.pop("threads", None)
    rec = create_reconstructor(
        target, settings.backend, device, settings.precision, frame_shape=frame_shape,
        batch_size=settings.batch_size, tile_size=settings.tile_size,
        tile_overlap=settings.tile_overlap, threads=threads, **options,
    )  # fmt: skip
    spec = _spec_as_run(
        model_reference(model), rec, settings, weights_sha256, norm, frame_shape, threads
    )
    return StackParts(
        rec,
        PercentileNormalizer(norm.p_low, norm.p_high, clip=norm.clip),
        model_card=card,
        normalize=norm.method != "none",
        spec=spec,
    )


def _spec_as_run(
    ref: str | None,
    rec: Reconstructor,
    settings: BackendConfig,
    weights_sha256: str | None,
    normalization: NormalizationSpec,
    frame_shape: tuple[int, int] | None,
    threads: int | None,
    sim: WienerSpec | None = None,
) -> ReconstructorSpec | None:
    """The spec that rebuilds `rec` as it runs; None when `ref` is (the model is an object).

    Parameters
    ----------
    ref : str or None
        How the spec names the model (`model_reference`, or ``"auto"``).
    rec : Reconstructor
        The backend built; its backend and device are recorded, which is what ``"auto"``
        resolved to.
    settings : BackendConfig
        The requested precision, batch size and tiling.
    weights_sha256, normalization, frame_shape, threads, sim
        Recorded as they are (`ReconstructorSpec`'s fields).
    """
    if ref is None:
        return None
    info = rec.info
    return ReconstructorSpec(
        **settings.model_dump(exclude={"backend", "device"}),
        backend=info.backend,
        device=info.device.split(":")[0],
        model=ref,
        weights_sha256=weights_sha256,
        normalization=normalization,
        frame_shape=frame_shape,
        threads=threads,
        sim=sim,
    )
