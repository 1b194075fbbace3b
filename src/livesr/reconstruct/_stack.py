"""`StackReconstructor`: the one per-stack path shared by the live pipeline and reprocessing.

Live SR and SR recomputed later from the raw store must be identical, and each SR frame must say
how it was made. Both are guaranteed by routing every stack through this single object:
raw uint16 (F, Y, X) -> normalise -> Reconstructor -> denormalise -> float32 (sY, sX), plus a
provenance dict; and by describing the object with one `ReconstructorSpec`, which
`StackReconstructor.from_spec` turns back into the same object in another process or on another
machine. Conventional SIM (``backend == "wiener"``) skips the normalisation: Wiener SIM works
on raw counts and its output is already in count units.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livesr._version import __version__
from livesr.config import BackendConfig, ModelConfig, ReconstructorSpec

from ._normalize import NormalizationStats, PercentileNormalizer
from ._protocol import Reconstructor
from ._stack_build import build_stack_parts

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
    spec : ReconstructorSpec, optional
        How this object is rebuilt; `create` and `from_spec` set it.

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
        spec: ReconstructorSpec | None = None,
    ) -> None:
        self.reconstructor = reconstructor
        self.normalizer = normalizer if normalizer is not None else PercentileNormalizer()
        self.model_card = dict(model_card or {})
        info = reconstructor.info
        self._raw_counts = info.backend == "wiener" or not normalize
        self._spec = spec
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
        microscope: dict[str, Any] | None = None,
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
        microscope : dict, optional
            Wiener options (``pattern``, ``optics``, ``channel``, ``calibration``,
            ``allow_nominal``, ``workers``) used only by a model that runs Wiener SIM first
            (card ``input == "wiener+widefield"``, or ``model="auto"``); ignored otherwise, so
            callers can always pass the instrument.
        **options
            More `create_reconstructor` keyword arguments.

        Notes
        -----
        A model named by value (bundled name, path, `ModelConfig` with weights, or
        ``"wiener"``) gives an object with a `spec`; one built from an object in memory has
        none (no other process can rebuild it).
        """
        parts = build_stack_parts(
            model, backend, frame_shape=frame_shape, normalizer=normalizer,
            microscope=microscope, options=options,
        )  # fmt: skip
        return cls(
            parts.reconstructor,
            parts.normalizer,
            model_card=parts.model_card,
            normalize=parts.normalize,
            spec=parts.spec,
        )

    @classmethod
    def from_spec(cls, spec: ReconstructorSpec) -> StackReconstructor:
        """Rebuild the reconstructor `spec` describes (here, or in another process).

        Network weights are loaded from ``spec.model`` and must have ``spec.weights_sha256``;
        Wiener SIM reuses the recorded pattern parameters and Wiener constant.

        Raises
        ------
        livesr.models.WeightsUnavailableError
            If the weights file is missing or holds other tensors than recorded.
        BackendUnavailableError
            If the recorded backend cannot run here.
        """
        from livesr.models import WeightsUnavailableError, load_recorded_model

        from .runtimes._bundled_onnx import bundled_graph_card

        if spec.sim is not None and spec.model != "wiener":
            from .conventional import SIMParameters

            sim = spec.sim
            params = sim.parameters
            # Recorded for --method auto only; older stores lack it (the check was on).
            check = sim.consistency_check
            auto: dict[str, Any] = {} if check is None else {"check_consistency": check}
            built = cls.create(
                spec.model,
                BackendConfig.model_validate(spec.model_dump(include=set(BackendConfig.model_fields))),
                frame_shape=spec.frame_shape, pattern=sim.pattern, optics=sim.optics,
                channel=sim.channel, threads=spec.threads, calibration=sim.calibration,
                params=None if params is None else SIMParameters.from_dict(params),
                allow_nominal=sim.allow_nominal, **auto,
            )  # fmt: skip
            if spec.weights_sha256 is not None and built._spec is not None:
                recorded = built._spec.weights_sha256
                if recorded is not None and recorded != spec.weights_sha256:
                    raise WeightsUnavailableError(
                        f"the weights of {spec.model} are not the ones this run recorded "
                        f"(tensors sha256 {spec.weights_sha256[:12]}...)"
                    )
            built._spec = spec
            return built
        if spec.sim is not None:
            from .conventional import SIMParameters

            sim = spec.sim
            params = sim.parameters
            return cls.create(
                "wiener", "wiener", frame_shape=spec.frame_shape, pattern=sim.pattern,
                optics=sim.optics, channel=sim.channel, wiener=sim.wiener, workers=spec.threads,
                params=None if params is None else SIMParameters.from_dict(params),
                calibration=sim.calibration, allow_nominal=sim.allow_nominal,
            )  # fmt: skip
        card = bundled_graph_card(spec.model)
        target: Any
        if card is None:
            target = load_recorded_model(spec.model, spec.weights_sha256)
        elif spec.weights_sha256 is not None and card.get("weights_sha256") != spec.weights_sha256:
            # Without torch the tensors cannot be rehashed; the card's verified hash is used.
            raise WeightsUnavailableError(
                f"the bundled weights {spec.model} are not the ones this run recorded "
                f"(tensors sha256 {spec.weights_sha256[:12]}...): install the livesr version "
                "that made the run, or choose other weights (--model)"
            )
        else:
            target = spec.model
        norm = spec.normalization
        built = cls.create(
            target,
            BackendConfig.model_validate(spec.model_dump(include=set(BackendConfig.model_fields))),
            frame_shape=spec.frame_shape,
            normalizer=PercentileNormalizer(norm.p_low, norm.p_high, clip=norm.clip),
            threads=spec.threads,
        )
        built._spec = spec
        return built

    @property
    def spec(self) -> ReconstructorSpec | None:
        """How to rebuild this object (`from_spec`), or None if it was built from an object.

        For Wiener SIM the spec gains the estimated pattern parameters and Wiener constant once
        the first stack fixed them, so a rebuild reproduces this object's SR exactly.
        """
        spec = self._spec
        if spec is not None and spec.sim is not None and spec.sim.parameters is None:
            params = getattr(self.reconstructor, "params", None)
            if params is not None:
                wiener = getattr(self.reconstructor, "wiener", None)
                sim = spec.sim.model_copy(
                    update={"parameters": params.to_dict(), "wiener": wiener}
                )
                # Validated again: the report must round-trip through JSON like any spec.
                self._spec = spec = ReconstructorSpec.model_validate(
                    {**spec.model_dump(), "sim": sim.model_dump(mode="json")}
                )
        return spec

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
        # A network maps NaN to an all-NaN image without complaint; refuse it up front, as
        # Wiener SIM does. Integer camera data cannot hold NaN, so only floats pay the check.
        if np.issubdtype(stacks.dtype, np.floating) and not np.isfinite(stacks).all():
            raise ValueError(
                "the raw stack contains NaN or infinite values; fix or mask the input "
                "(camera frames are integers; check the conversion that made these floats)"
            )
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
            choices = getattr(self.reconstructor, "last_choices", None)
            if choices:
                # --method auto: which method made this stack, at which measured signal, and
                # for a network pick the raw re-synthesis chi^2 of both methods behind the veto.
                prov["method"] = choices[i]
                prov["signal_photons"] = round(float(self.reconstructor.last_photons[i]), 2)  # type: ignore[attr-defined]
                checked = getattr(self.reconstructor, "last_consistency", None)
                if checked and checked[i] is not None:
                    prov["consistency"] = dict(checked[i])
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
        physics = getattr(self.reconstructor, "physics_informed", False)
        if (self._static["backend"] == "wiener" or physics) and callable(report):
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
