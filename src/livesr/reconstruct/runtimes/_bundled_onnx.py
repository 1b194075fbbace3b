"""Bundled models on ONNX Runtime without torch: the graphs shipped beside the weights.

Every bundled ``<name>.safetensors`` in ``livesr/models/weights/`` has a ``<name>.onnx`` beside
it, exported once from those weights (`export_bundled_graphs`, which needs torch) with the model
card in the graph's metadata (key ``livesr_card``). A light install (``pip install
"livesr[demo]"``: ONNX Runtime, no torch) runs these graphs; `create_reconstructor` and
`StackReconstructor.create` take this route by themselves when torch cannot be imported.

Why one size-independent graph per model, and not fixed-size graphs plus tiling: the graph is
exported with free batch, height and width (`export_onnx` with ``dynamic=True``), so the
Fourier attention's DFT matrices are computed inside the graph from the frame size. It runs at
any frame size and matches the torch network to fp32 round-off (checked at 33x50 to 256x256),
whereas tiles would change the result: the attention pools over the whole input, so a tiled
frame is not the frame the network saw in training, and live SR would differ from SR recomputed
with torch. The price is speed: the in-graph spectrum is not folded as a fixed-size export's
is, so a 9 x 128 x 128 stack takes about 1.7x the time of a graph exported for 128 x 128
(one CPU thread). With torch installed, the ``onnxruntime`` backend keeps exporting and caching
fixed-size graphs (`cached_onnx`).

The graph is tied to its weights: its card's ``weights_sha256`` must equal the safetensors
card's, so provenance (and ``livesr reprocess``) mean the same weights whichever route ran.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livesr._logger import logger
from livesr.config import ModelConfig
from livesr.reconstruct._protocol import BackendUnavailableError

if TYPE_CHECKING:
    from livesr.reconstruct._protocol import Reconstructor

__all__ = [
    "bundled_graph",
    "bundled_graph_card",
    "create_bundled_reconstructor",
    "export_bundled_graphs",
    "torch_available",
]

#: Metadata key of the model card inside a bundled graph (as in the safetensors header).
CARD_KEY = "livesr_card"


def torch_available() -> bool:
    """Whether ``import torch`` can work here (without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def _weights_of(model: object) -> Path | None:
    """The weights file a model names (bundled name, path, or ModelConfig.weights), else None."""
    from livesr.models import resolve_weights

    if isinstance(model, ModelConfig):
        model = model.weights
    if not isinstance(model, str | Path):
        return None
    try:
        return resolve_weights(model)
    except FileNotFoundError:
        return None


def bundled_graph(model: object) -> Path | None:
    """The ONNX graph shipped beside `model`'s weights, or None (no such file, not a name)."""
    weights = _weights_of(model)
    if weights is None:
        return None
    graph = weights.with_name(weights.name.removesuffix(".safetensors") + ".onnx")
    return graph if graph.is_file() else None


def bundled_graph_card(model: object) -> dict[str, Any] | None:
    """The model card (JSON-ready) of a weights file when torch cannot be imported here.

    None when torch is importable (the usual routes apply) or `model` names no weights file;
    whether the weights have a bundled graph is `create_bundled_reconstructor`'s to say.
    """
    if torch_available():
        return None
    weights = _weights_of(model)
    if weights is None:
        return None
    from livesr.models import read_card

    card: dict[str, Any] = read_card(weights).model_dump(mode="json")
    return card


def create_bundled_reconstructor(
    model: object,
    backend: str = "auto",
    device: str = "auto",
    precision: str = "fp32",
    *,
    frame_shape: tuple[int, int] | None = None,
    batch_size: int = 1,
    tile_size: int | None = None,
    tile_overlap: int = 32,
    threads: int | None = None,
) -> Reconstructor:
    """An `OnnxRuntimeReconstructor` on `model`'s bundled graph (no torch involved).

    Parameters are those of `create_reconstructor`; `backend` must be ``"auto"`` or
    ``"onnxruntime"``, and `device` ``"auto"`` tries CUDA, then the CPU.

    Raises
    ------
    BackendUnavailableError
        The model has no bundled graph, the backend needs torch, or ONNX Runtime is missing.
    ValueError
        The graph's card names other weights than the safetensors file beside it.
    """
    from livesr.models import read_card

    from ._onnxruntime import OnnxRuntimeReconstructor

    graph = bundled_graph(model)
    weights = _weights_of(model)
    if graph is None or weights is None:
        raise BackendUnavailableError(
            f"torch is not installed and {model!r} has no bundled ONNX graph: install torch "
            "(README, 'CPU-only or CUDA torch') or use a bundled model (dfcan-sim, dfcan-sisr)"
        )
    if backend not in ("auto", "onnxruntime"):
        raise BackendUnavailableError(
            f"backend {backend!r} needs torch, which is not installed; bundled models run on "
            "backend 'onnxruntime' (or 'auto') without it"
        )
    if precision != "fp32":
        raise BackendUnavailableError("bundled ONNX graphs are fp32; use precision='fp32'")
    if importlib.util.find_spec("onnxruntime") is None:
        raise BackendUnavailableError(
            "neither torch nor onnxruntime is installed: pip install 'livesr[demo]'"
        )
    import onnxruntime as ort

    card = read_card(weights)
    devices = ["cuda", "cpu"] if device == "auto" else [device]
    if "CUDAExecutionProvider" not in ort.get_available_providers() and device == "auto":
        devices = ["cpu"]
    errors: list[str] = []
    for dev in devices:
        from livesr.reconstruct._factory import _maybe_tiled, cpu_parts

        parts = cpu_parts(batch_size, threads) if dev.split(":")[0] == "cpu" else 1
        try:
            rec = OnnxRuntimeReconstructor(
                graph,
                name=card.name,
                in_frames=card.in_frames,
                scale=card.scale,
                device=dev,
                threads=threads,
                weights_sha256=card.weights_sha256,
                parallel=parts,
            )
        except BackendUnavailableError as exc:
            errors.append(f"onnxruntime-{dev}: {exc}")
            continue
        _check_graph_card(rec, graph, card.weights_sha256)
        logger.info("%s: bundled graph %s on onnxruntime-%s (no torch)", card.name, graph, dev)
        return _maybe_tiled(rec, frame_shape, tile_size, tile_overlap, batch_size)
    raise BackendUnavailableError("; ".join(errors))


def _check_graph_card(rec: Any, graph: Path, weights_sha256: str | None) -> None:
    meta = rec._session.get_modelmeta().custom_metadata_map
    try:
        graph_sha = json.loads(meta[CARD_KEY]).get("weights_sha256")
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{graph} carries no model card ({CARD_KEY!r} metadata)") from exc
    if graph_sha != weights_sha256:
        raise ValueError(
            f"{graph} was exported from other weights (weights_sha256 {graph_sha}) than the "
            f"safetensors beside it ({weights_sha256}): re-export it with "
            "livesr.reconstruct.runtimes.export_bundled_graphs()"
        )


def export_bundled_graphs(names: list[str] | None = None) -> list[Path]:
    """Re-export the bundled graphs from the bundled safetensors weights (needs torch).

    Run after changing bundled weights:
    ``python -c "from livesr.reconstruct.runtimes import export_bundled_graphs as e; e()"``.

    Returns
    -------
    list of Path
        The written ``<name>.onnx`` files (dynamic batch, height and width).
    """
    from livesr.models import bundled_weights, load_model, read_card

    from ._export import export_onnx

    written = []
    for name, weights in bundled_weights().items():
        if names is not None and name not in names:
            continue
        loaded = load_model(name)
        card = read_card(weights)
        path = weights.with_name(f"{name}.onnx")
        export_onnx(
            loaded.module,
            path,
            (1, loaded.in_frames, 64, 64),
            dynamic=True,
            metadata={CARD_KEY: card.to_json()},
        )
        written.append(path)
    return written
