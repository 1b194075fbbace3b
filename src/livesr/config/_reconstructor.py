"""How a reconstructor runs and how to rebuild it: `BackendConfig`, `ReconstructorSpec`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    model_validator,
)
from typing_extensions import Self

from ._base import FrozenConfig
from ._calibration import Calibration
from ._instrument import OpticsConfig, PatternConfig


class BackendConfig(FrozenConfig):
    """Where and how a reconstructor runs (the part of a `ReconstructorSpec` a user picks).

    Attributes
    ----------
    backend : {"auto", "torch", "onnxruntime", "tensorrt", "wiener"}
        Runtime; "auto" takes the fastest one available (see `create_reconstructor`).
    device : {"auto", "cpu", "cuda", "tensorrt"}
        Device ("tensorrt": ONNX Runtime's TensorRT provider).
    precision : {"fp32", "fp16"}
        Arithmetic of the network trunk (fp16 on GPU backends only).
    batch_size : int
        Stacks (or tiles) per backend call the compiled graphs are built for.
    tile_size : int or None
        Reconstruct in overlapping square tiles of this size; None: whole frames.
    tile_overlap : int
        Overlap of neighbouring tiles in raw pixels.
    """

    backend: Literal["auto", "torch", "onnxruntime", "tensorrt", "wiener"] = "auto"
    device: Literal["auto", "cpu", "cuda", "tensorrt"] = "auto"
    precision: Literal["fp32", "fp16"] = "fp32"
    batch_size: int = Field(1, ge=1)
    tile_size: int | None = Field(None, ge=32)
    tile_overlap: int = Field(32, ge=0)


class NormalizationSpec(FrozenConfig):
    """How raw stacks are mapped to the network's input range, and its output back.

    Attributes
    ----------
    method : {"percentile", "none"}
        Per-stack min-max between two percentiles of all frames jointly, or raw counts (Wiener
        SIM, and networks trained without normalisation).
    p_low, p_high : float
        Percentiles in [0, 100] mapped to 0 and 1 (0 / 100: the authors' plain min-max).
    clip : bool
        Clip the normalised input to [0, 1], as in training.
    """

    method: Literal["percentile", "none"] = "percentile"
    p_low: float = Field(0.0, ge=0.0, le=100.0)
    p_high: float = Field(100.0, ge=0.0, le=100.0)
    clip: bool = True


class WienerSpec(FrozenConfig):
    """Conventional Wiener SIM: what `WienerReconstructor` needs to give the same SR again.

    Attributes
    ----------
    pattern : PatternConfig
    optics : OpticsConfig
    channel : str or None
        Optics channel (emission wavelength); the first when None.
    parameters : dict or None
        The pattern parameters in use (`SIMParameters.to_dict`): recorded after the live run
        estimated them on its first stack, so reprocessing reuses them instead of estimating
        on another stack. None: estimate on the first stack.
    wiener : float or None
        The Wiener constant in use; None: chosen from the first stack's signal-to-noise ratio.
    calibration : Calibration or None
        The instrument's calibrated pattern: k is refitted only near it, and an orientation
        whose refit is rejected uses it (recorded in the fit status).
    allow_nominal : bool
        Without a calibration, use `pattern` for an orientation whose fit is rejected instead
        of raising (the live run sets it so acquisition never stops; the status says so).
    consistency_check : bool or None
        ``--method auto`` only (None otherwise): whether a network output whose raw
        re-synthesis chi^2 exceeds Wiener's by more than the margin is refused for Wiener's.
    """

    pattern: PatternConfig
    optics: OpticsConfig
    channel: str | None = None
    parameters: dict[str, Any] | None = None
    wiener: float | None = Field(None, gt=0.0)
    calibration: Calibration | None = None
    allow_nominal: bool = False
    consistency_check: bool | None = None


class ReconstructorSpec(BackendConfig):
    """The one typed description of how to (re)build a reconstructor.

    `StackReconstructor.create` records it (`StackReconstructor.spec`),
    `StackReconstructor.from_spec` rebuilds it: the live run writes it into the store per
    channel, the inference child process is built from its JSON, and ``livesr reprocess``
    rebuilds the live run's reconstructor from the store's copy, so reprocessed SR equals live
    SR. Backend fields (inherited from `BackendConfig`) record what actually ran.

    Attributes
    ----------
    model : str
        A bundled weights name, an absolute ``.safetensors`` path, or ``"wiener"``.
    weights_sha256 : str or None
        `livesr.models.tensors_sha256` of the weights (None for Wiener SIM). Rebuilding
        refuses weights with another hash.
    normalization : NormalizationSpec
    frame_shape : (Y, X) or None
        Raw frame size compiled backends are built for; None: dynamic shapes.
    threads : int or None
        CPU threads of the backend (a host setting: reprocessing replaces it).
    sim : WienerSpec or None
        Pattern, optics and recorded parameters of Wiener SIM; also for a physics-informed
        network (or ``model="auto"``), whose input is a Wiener reconstruction; None for
        networks fed raw frames.
    """

    model: str = Field(min_length=1)
    weights_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    normalization: NormalizationSpec = Field(default_factory=NormalizationSpec)
    frame_shape: tuple[int, int] | None = None
    threads: int | None = Field(None, ge=1)
    sim: WienerSpec | None = None

    @model_validator(mode="after")
    def _check_kind(self) -> Self:
        wiener = self.model == "wiener" or self.backend == "wiener"
        if wiener and (self.sim is None or self.model != "wiener" or self.backend != "wiener"):
            raise ValueError(
                "Wiener SIM needs model='wiener', backend='wiener' and sim=WienerSpec(pattern="
                "..., optics=...)"
            )
        # A physics-informed network (or "auto") runs Wiener SIM first: it carries `sim` too.
        return self
