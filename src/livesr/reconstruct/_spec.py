"""From `StackReconstructor.create`'s arguments to the parts of a `ReconstructorSpec`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from livesr.config import ModelConfig, NormalizationSpec, ReconstructorSpec, WienerSpec

from ._normalize import PercentileNormalizer

__all__ = ["model_reference", "normalization_spec", "wiener_spec"]

#: `create` options a `WienerSpec` describes; any other (a measured OTF, filter tuning) makes
#: a Wiener reconstructor that no spec can rebuild.
_WIENER_SPEC_OPTIONS = frozenset(
    {"pattern", "optics", "channel", "params", "wiener", "workers", "calibration", "allow_nominal"}
)


def normalization_spec(
    card: dict[str, Any], normalizer: PercentileNormalizer | None
) -> NormalizationSpec:
    """The card says how the network was trained to be fed; follow it unless told otherwise."""
    scaling = card.get("normalisation") or {}
    if scaling.get("method", "percentile") == "none":
        return NormalizationSpec(method="none")
    if normalizer is not None:
        return NormalizationSpec(
            p_low=normalizer.p_low, p_high=normalizer.p_high, clip=normalizer.clip
        )
    return NormalizationSpec(
        p_low=scaling.get("low", 0.0), p_high=scaling.get("high", 100.0),
        clip=scaling.get("clip", True),
    )  # fmt: skip


def model_reference(model: object) -> str | None:
    """How a spec names `model`: an absolute path, a bundled name, or None (an object)."""
    if isinstance(model, ModelConfig):
        model = model.weights
    if not isinstance(model, str | Path):
        return None
    path = Path(model).expanduser()
    # A file by absolute path, so a reprocess from another directory finds it.
    return str(path.resolve()) if path.is_file() else str(model)


def wiener_spec(
    options: dict[str, Any], frame_shape: tuple[int, int] | None
) -> ReconstructorSpec | None:
    """The spec of a Wiener reconstructor, or None if `options` hold what no spec describes."""
    if not set(options) <= _WIENER_SPEC_OPTIONS:
        return None
    params = options.get("params")
    sim = WienerSpec(
        pattern=options["pattern"],
        optics=options["optics"],
        channel=options.get("channel"),
        parameters=None if params is None else params.to_dict(),
        wiener=options.get("wiener"),
        calibration=options.get("calibration"),
        allow_nominal=bool(options.get("allow_nominal", False)),
    )
    return ReconstructorSpec(
        model="wiener",
        backend="wiener",
        device="cpu",
        normalization=NormalizationSpec(method="none"),
        frame_shape=frame_shape,
        threads=options.get("workers"),
        sim=sim,
    )
