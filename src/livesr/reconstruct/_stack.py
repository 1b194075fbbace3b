"""`StackReconstructor`: the one per-stack path shared by the live pipeline and reprocessing.

Live SR and SR recomputed later from the raw store must be identical, and each SR frame must say
how it was made. Both are guaranteed by routing every stack through this single object:
raw uint16 (F, Y, X) -> normalise -> Reconstructor -> denormalise -> float32 (sY, sX), plus a
provenance dict. Conventional SIM (``backend == "wiener"``) skips the normalisation: Wiener SIM
works on raw counts and its output is already in count units.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livesr._version import __version__
from livesr.config import BackendConfig, ModelConfig

from ._normalize import NormalizationStats, PercentileNormalizer
from ._protocol import Reconstructor

if TYPE_CHECKING:
    import torch

    from livesr.models import LoadedModel

__all__ = ["StackReconstructor"]


class StackReconstructor:
    """Raw SIM stacks in, SR images and their provenance out.

    Parameters
    ----------
    reconstructor : Reconstructor
        Any backend (`create_reconstructor`), possibly tiled.
    normalizer : PercentileNormalizer, optional
        Intensity mapping for network backends (default: the authors' min-max). Ignored for
        the Wiener backend, which works on raw counts.
    model_card : dict, optional
        Extra model facts for provenance (bundled name, training data, ...).
    normalize : bool
        False feeds raw counts (as float32) to the network, for models trained without
        normalisation (card ``normalisation.method == "none"``).

    Notes
    -----
    Not thread-safe (like the wrapped reconstructor): the inference worker owns it.

    Examples
    --------
    >>> sr_fn = StackReconstructor.create("dfcan-sim", frame_shape=(256, 256))
    >>> sr, provenance = sr_fn(raw_stack)  # uint16 (9, 256, 256) -> float32 (512, 512)
    """

    def __init__(
        self,
        reconstructor: Reconstructor,
        normalizer: PercentileNormalizer | None = None,
        *,
        model_card: dict[str, Any] | None = None,
        normalize: bool = True,
    ) -> None:
        self.reconstructor = reconstructor
        self.normalizer = normalizer if normalizer is not None else PercentileNormalizer()
        self.model_card = dict(model_card or {})
        info = reconstructor.info
        self._raw_counts = info.backend == "wiener" or not normalize
        self._recipe: dict[str, Any] | None = None
        self._static = {
            "model": info.name,
            "weights_sha256": info.weights_sha256,
            "backend": info.backend,
            "device": info.device,
            "precision": info.precision,
            "scale": info.scale,
            "in_frames": info.in_frames,
            "tiling": _tiling_dict(reconstructor),
            "livesr_version": __version__,
        }

    @classmethod
    def create(
        cls,
        model: ModelConfig | str | Path | torch.nn.Module | LoadedModel,
        backend: str | BackendConfig = "auto",
        *,
        frame_shape: tuple[int, int] | None = None,
        normalizer: PercentileNormalizer | None = None,
        **options: Any,
    ) -> StackReconstructor:
        """Build the backend with `create_reconstructor` and wrap it.

        Parameters
        ----------
        model : ModelConfig, str, Path or torch.nn.Module
            As for `create_reconstructor` (``"wiener"`` for conventional SIM).
        backend : str or BackendConfig
            A backend name, or a whole `BackendConfig` (backend, device, precision, batch size,
            tiling).
        frame_shape : (Y, X), optional
            Frame size of the run, so compiled backends are built for it.
        normalizer : PercentileNormalizer, optional
            Defaults to the model card's normalisation (the authors' min-max).
        **options
            More `create_reconstructor` keyword arguments.
        """
        from livesr.models import load_model

        from ._factory import create_reconstructor

        # Only a model named by value (not an object in memory) can be rebuilt elsewhere.
        recipe: dict[str, Any] | None = None
        if isinstance(model, str | Path | ModelConfig):
            recipe = {"model": model, "backend": backend, "frame_shape": frame_shape,
                      "normalizer": normalizer, **options}  # fmt: skip
        if isinstance(backend, BackendConfig):
            options = {
                "device": backend.device,
                "precision": backend.precision,
                "batch_size": backend.batch_size,
                "tile_size": backend.tile_size,
                "tile_overlap": backend.tile_overlap,
                **options,
            }
            backend = backend.backend
        card: dict[str, Any] = {}
        is_wiener = backend == "wiener" or (isinstance(model, str) and model == "wiener")
        if not is_wiener:
            from .runtimes._bundled_onnx import bundled_graph_card

            # Without torch a bundled model runs on its shipped ONNX graph (no load_model).
            bundled_card = bundled_graph_card(model)
            if bundled_card is not None:
                card = bundled_card
            else:
                loaded = load_model(model)
                model, card = loaded, loaded.card
        rec = create_reconstructor(model, backend, frame_shape=frame_shape, **options)
        # The card says how the network was trained to be fed; follow it unless told otherwise.
        scaling = card.get("normalisation") or {}
        if normalizer is None and scaling.get("method", "percentile") != "none":
            normalizer = PercentileNormalizer(
                scaling.get("low", 0.0), scaling.get("high", 100.0), clip=scaling.get("clip", True)
            )
        out = cls(rec, normalizer, model_card=card, normalize=scaling.get("method") != "none")
        out._recipe = recipe
        return out

    @property
    def recipe(self) -> dict[str, Any] | None:
        """The `create` arguments that built this object, or None if it was not built by name.

        A picklable description: ``StackReconstructor.create(**recipe)`` in another process
        builds an identical reconstructor (the live pipeline runs CPU inference that way).
        """
        return None if self._recipe is None else dict(self._recipe)

    @property
    def scale(self) -> int:
        """Output pixels per input pixel."""
        return self.reconstructor.info.scale

    def warmup(self) -> None:
        """Warm up the backend (compile, allocate) before frames flow."""
        self.reconstructor.warmup()

    def __call__(
        self, stack: NDArray[Any], *, raw_frames: Sequence[Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Reconstruct one SIM stack.

        Parameters
        ----------
        stack : ndarray, uint16 (or any real dtype), shape (F, Y, X)
            Raw frames, angle-major, phase-minor.
        raw_frames : sequence, optional
            Identifiers of the raw frames (store indices, event indices) recorded in the
            provenance; defaults to ``range(F)``.

        Returns
        -------
        sr : ndarray, float32, shape (s*Y, s*X)
            In raw-count units (network output mapped back through the input's normalisation).
        provenance : dict
            JSON-ready: model, weights hash, backend, device, precision, tiling,
            normalisation (method and the applied low/high), raw frames, livesr version.
        """
        stack = np.asarray(stack)
        if stack.ndim != 3:
            raise ValueError(
                f"expected one raw SIM stack (F, Y, X), got shape {stack.shape}; "
                "use reconstruct_batch for (N, F, Y, X)"
            )
        srs, provenances = self.reconstruct_batch(
            stack[None], raw_frames=None if raw_frames is None else [raw_frames]
        )
        return srs[0], provenances[0]

    def reconstruct_batch(
        self,
        stacks: NDArray[Any],
        *,
        raw_frames: Sequence[Sequence[Any]] | None = None,
    ) -> tuple[NDArray[np.float32], list[dict[str, Any]]]:
        """Reconstruct N stacks in one backend call (faster on batched backends).

        Parameters
        ----------
        stacks : ndarray, shape (N, F, Y, X)
            Raw stacks of one frame size.
        raw_frames : sequence of N sequences, optional
            Raw-frame identifiers per stack, for the provenance.

        Returns
        -------
        sr : ndarray, float32, shape (N, s*Y, s*X)
        provenance : list of N dicts (see `__call__`)
        """
        stacks = np.asarray(stacks)
        in_frames = self.reconstructor.info.in_frames
        n_raw = stacks.shape[1] if stacks.ndim == 4 else in_frames
        if in_frames == 1 and stacks.ndim == 4 and stacks.shape[1] > 1:
            # A wide-field (SISR) model given raw SIM stacks sees their wide-field image, the
            # frame mean, as in training (min-max normalisation makes sum and mean identical).
            stacks = stacks.mean(axis=1, keepdims=True, dtype=np.float32)
        if stacks.ndim != 4 or stacks.shape[1] != in_frames:
            raise ValueError(
                f"expected stacks (N, {in_frames}, Y, X) for {self._static['model']!r}, got "
                f"shape {stacks.shape}; check the pattern (angles x phases) matches the model"
            )
        if raw_frames is not None and len(raw_frames) != len(stacks):
            raise ValueError(f"raw_frames has {len(raw_frames)} entries for {len(stacks)} stacks")
        stats: list[NormalizationStats | None]
        if self._raw_counts:
            x = stacks.astype(np.float32)
            stats = [None] * len(stacks)
        else:
            x, norm_stats = self.normalizer.normalize_batch(stacks)
            stats = list(norm_stats)
        y = self.reconstructor(x)[:, 0]
        out = np.empty(y.shape, dtype=np.float32)
        provenances = []
        for i, st in enumerate(stats):
            out[i] = y[i] if st is None else self.normalizer.denormalize(y[i], st)
            frames = list(range(n_raw)) if raw_frames is None else list(raw_frames[i])
            prov = self._provenance(st, frames)
            if n_raw != in_frames:
                prov["input"] = f"wide-field mean of {n_raw} raw frames"
            provenances.append(prov)
        return out, provenances

    def _provenance(self, stats: NormalizationStats | None, frames: list[Any]) -> dict[str, Any]:
        if stats is None:
            normalization: dict[str, Any] = {"method": "none (raw counts)"}
        else:
            normalization = {**self.normalizer.to_dict(), **stats.to_dict()}
        prov = {**self._static, "normalization": normalization, "raw_frames": frames}
        report = getattr(self.reconstructor, "report", None)
        if self._static["backend"] == "wiener" and callable(report):
            # Wiener SIM estimates its parameters on the first stack it sees; recording them
            # lets reprocessing reuse them and reproduce the live SR exactly.
            prov["sim_parameters"] = report()
        if self.model_card:
            prov["model_card"] = self.model_card
        return prov

    def close(self) -> None:
        """Close the backend."""
        self.reconstructor.close()


def _tiling_dict(rec: Reconstructor) -> dict[str, Any] | None:
    from ._tiling import TiledReconstructor

    if isinstance(rec, TiledReconstructor):
        return {"tile": list(rec.tile), "overlap": rec.overlap}
    return None
