"""Which network to build: a closed set of architectures, each with typed, bounded options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from typing_extensions import Self

from ._base import FrozenConfig

#: Networks `livesr.models.build_model` builds (`livesr.models.available_models` describes
#: them); `ModelConfig.options` is typed per architecture (`ARCHITECTURE_OPTIONS`).
Architecture = Literal[
    "dfcan",
    "dfgan",
    "dscan",
    "dfcan_plain",
    "rcan",
    "unet",
    "scunet",
    "dfgan_discriminator",
    "piunet",
]


class DFCANOptions(FrozenConfig):
    """Options of DFCAN (Qiao et al. 2021); the defaults are the authors' network.

    Attributes
    ----------
    groups, blocks : int
        Residual groups, and Fourier channel attention blocks (FCABs) per group.
    width : int
        Feature channels of the trunk.
    gamma : float
        Power applied to the spectrum magnitude in the Fourier attention.
    spectrum : {"tiled", "dft", "fft"}
        How the spectrum is computed: "tiled" and "dft" are MatMuls only (exportable to
        TensorRT-compatible ONNX), "fft" is the torch.fft reference; same output to fp32
        round-off.
    size_psc : int or None
        Side the spectrum is resized to before the attention convolution (None: no resize).
    reduction : int
        Squeeze ratio of the channel attention; needs ``width >= reduction``.
    attention : {"fourier", "spatial", "none"}
        Channel attention of each block.
    """

    groups: int = Field(4, ge=1, le=16)
    blocks: int = Field(4, ge=1, le=32)
    width: int = Field(64, ge=1, le=512)
    gamma: float = Field(0.8, gt=0.0, le=2.0)
    spectrum: Literal["tiled", "dft", "fft"] = "tiled"
    size_psc: int | None = Field(128, ge=4, le=1024)
    reduction: int = Field(16, ge=1, le=512)
    attention: Literal["fourier", "spatial", "none"] = "fourier"

    @model_validator(mode="after")
    def _check_width(self) -> Self:
        if self.attention != "none" and self.width < self.reduction:
            raise ValueError(
                f"width={self.width} is too small for reduction={self.reduction}: use width "
                ">= reduction"
            )
        return self


class DFGANOptions(DFCANOptions):
    """Options of the DFGAN generator: DFCAN's, with the authors' 5 x 10 FCABs and gamma 0.1."""

    groups: int = Field(5, ge=1, le=16)
    blocks: int = Field(10, ge=1, le=32)
    gamma: float = Field(0.1, gt=0.0, le=2.0)


class DSCANOptions(DFCANOptions):
    """Options of DSCAN: DFCAN's trunk with the attention on the features, not the spectrum."""

    attention: Literal["spatial"] = "spatial"


class DFCANPlainOptions(DFCANOptions):
    """Options of DFCAN's trunk without channel attention (an ablation baseline)."""

    attention: Literal["none"] = "none"


class RCANOptions(FrozenConfig):
    """Options of RCAN (Zhang et al. 2018).

    Attributes
    ----------
    groups, blocks : int
        Residual groups, and residual channel attention blocks per group.
    width : int
        Feature channels.
    reduction : int
        Squeeze ratio of the channel attention; needs ``width >= reduction``.
    """

    groups: int = Field(5, ge=1, le=16)
    blocks: int = Field(10, ge=1, le=32)
    width: int = Field(64, ge=1, le=512)
    reduction: int = Field(16, ge=1, le=512)

    @model_validator(mode="after")
    def _check_width(self) -> Self:
        if self.width < self.reduction:
            raise ValueError(
                f"width={self.width} is too small for reduction={self.reduction}: use width "
                ">= reduction"
            )
        return self


class UNetOptions(FrozenConfig):
    """Options of the CARE-style U-Net (on the upsampled input).

    Attributes
    ----------
    depth : int
        Down-sampling levels; frames must be at least ``2**depth`` pixels on each side.
    base : int
        Feature channels of the first level (doubled per level).
    """

    depth: int = Field(2, ge=1, le=6)
    base: int = Field(32, ge=1, le=256)


class SCUNetOptions(UNetOptions):
    """Options of scU-Net (a U-Net on the raw frames, upsampled at the end)."""

    depth: int = Field(3, ge=1, le=6)


class PIUNetOptions(FrozenConfig):
    """Options of the physics-informed residual U-Net (`livesr.models.PIUNet`).

    Attributes
    ----------
    width : int
        Features at the raw-grid level (2x and 4x below).
    raw_input : bool
        The raw-frame comparison variant (9 raw frames in, x2 out) instead of the
        physics-informed input (Wiener + wide-field on the SR grid, scale 1).
    """

    width: int = Field(20, ge=4, le=256)
    raw_input: bool = False


class DiscriminatorOptions(FrozenConfig):
    """Options of the DFGAN discriminator (``in_frames`` is its input channel count).

    Attributes
    ----------
    widths : tuple of int
        Channels of each stage (two 3x3 convolutions each).
    stem : int
        Channels of the first convolution.
    dense : int
        Width of the hidden dense layer.
    slope : float
        Negative slope of the LeakyReLUs.
    """

    widths: tuple[int, ...] = Field((32, 64, 128, 256, 512), min_length=1, max_length=8)
    stem: int = Field(32, ge=1, le=1024)
    dense: int = Field(256, ge=1, le=4096)
    slope: float = Field(0.1, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _check_widths(self) -> Self:
        if min(self.widths) < 1:
            raise ValueError(f"widths {self.widths}: every stage needs >= 1 channel")
        return self


ModelOptions = (
    DFCANOptions | DFGANOptions | DSCANOptions | DFCANPlainOptions | RCANOptions
    | UNetOptions | SCUNetOptions | DiscriminatorOptions | PIUNetOptions
)  # fmt: skip

#: The options class of each architecture.
ARCHITECTURE_OPTIONS: dict[str, type[FrozenConfig]] = {
    "dfcan": DFCANOptions,
    "dfgan": DFGANOptions,
    "dscan": DSCANOptions,
    "dfcan_plain": DFCANPlainOptions,
    "rcan": RCANOptions,
    "unet": UNetOptions,
    "scunet": SCUNetOptions,
    "dfgan_discriminator": DiscriminatorOptions,
    "piunet": PIUNetOptions,
}


class ModelConfig(FrozenConfig):
    """Which network to build or load.

    Attributes
    ----------
    architecture : str
        The network: ``"dfcan"``, ``"dfgan"`` (generator), ``"dscan"``, ``"dfcan_plain"``,
        ``"rcan"``, ``"unet"``, ``"scunet"``, ``"dfgan_discriminator"`` or ``"piunet"``.
    in_frames : int
        Input channels: 1 (wide-field SISR), 9 (linear SIM), 25 (nonlinear SIM).
    scale : int
        Upsampling factor of the output.
    weights : str or None
        A bundled weights name, or a path to a ``.safetensors`` file.
    options : DFCANOptions, DFGANOptions, ... (see `ARCHITECTURE_OPTIONS`)
        The architecture's own options (width, groups, blocks ...), given as a mapping and
        validated by the architecture's options class: a key it does not take is an error
        naming the key, an omitted key takes the architecture's default.
    """

    architecture: Architecture = "dfcan"
    in_frames: int = Field(9, ge=1)
    scale: int = Field(2, ge=1, le=4)
    weights: str | None = None
    options: ModelOptions = Field(default_factory=DFCANOptions)

    @model_validator(mode="before")
    @classmethod
    def _default_options(cls, data: Any) -> Any:
        # Omitted options are the architecture's defaults, not DFCAN's: validate an empty
        # mapping for it (`_typed_options`) instead of taking the field default.
        if isinstance(data, dict) and "options" not in data:
            return {**data, "options": {}}
        return data

    @field_validator("architecture", mode="before")
    @classmethod
    def _known_architecture(cls, value: Any) -> Any:
        if value not in ARCHITECTURE_OPTIONS:
            raise ValueError(
                f"unknown architecture {value!r}; available: {sorted(ARCHITECTURE_OPTIONS)}"
            )
        return value

    @field_validator("options", mode="before")
    @classmethod
    def _typed_options(cls, value: Any, info: ValidationInfo) -> Any:
        architecture = info.data.get("architecture")
        if architecture is None:  # the architecture itself was invalid (reported there)
            return DFCANOptions()
        kind = ARCHITECTURE_OPTIONS[architecture]
        if isinstance(value, FrozenConfig):
            if type(value) is not kind:
                raise ValueError(
                    f"architecture {architecture!r} takes {kind.__name__}, got "
                    f"{type(value).__name__}"
                )
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"options must be a mapping of option -> value, got {value!r}")
        unknown = sorted(set(value) - set(kind.model_fields))
        if unknown:
            raise ValueError(
                f"{architecture!r} does not take option(s) {unknown}; it accepts "
                f"{sorted(kind.model_fields)}"
            )
        return kind.model_validate(value)

    def kwargs(self) -> dict[str, Any]:
        """The architecture's constructor keywords beyond ``in_frames`` and ``scale``."""
        return self.options.model_dump()
