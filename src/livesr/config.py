"""Validated configuration for every stage of livesr.

All models are frozen pydantic models that reject unknown keys, so a typo in a YAML file is an
error that names the key instead of a silently ignored setting. Each stage takes its own
sub-config; `PipelineConfig` bundles them for a live run and is written into every store.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from typing_extensions import Self

__all__ = [
    "ARCHITECTURE_OPTIONS",
    "Architecture",
    "BackendConfig",
    "CameraConfig",
    "DFCANOptions",
    "DFCANPlainOptions",
    "DFGANOptions",
    "DSCANOptions",
    "DiscriminatorOptions",
    "FrozenConfig",
    "HostTuning",
    "ModelConfig",
    "ModelOptions",
    "NormalizationSpec",
    "OpticsConfig",
    "PatternConfig",
    "PipelineConfig",
    "RCANOptions",
    "ReconstructorSpec",
    "SCUNetOptions",
    "UNetOptions",
    "WienerSpec",
    "WriterConfig",
]


class FrozenConfig(BaseModel):
    """Base class: immutable, unknown keys rejected, YAML round trip."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """Load from a YAML (or JSON, a subset of YAML) file.

        Raises
        ------
        FileNotFoundError
            If `path` does not exist.
        pydantic.ValidationError
            If a key is unknown or a value is invalid; the message names the field.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} does not exist")
        with path.open() as stream:  # a named stream: YAML errors then name the file
            data = yaml.safe_load(stream) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of settings at the top level")
        return cls.model_validate(data)

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Serialise to YAML; write it to `path` too when given."""
        text = yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text


class OpticsConfig(FrozenConfig):
    """Detection optics of a 2D (TIRF/GI/epi) SIM microscope.

    Attributes
    ----------
    na : float
        Detection numerical aperture.
    immersion_index : float
        Refractive index of the immersion medium; bounds the NA.
    emission_um : dict[str, float]
        Emission wavelength in um for each channel name (for example ``{"488": 0.525}``).
    pixel_size_um : float
        Camera pixel size projected into the sample, in um.
    """

    na: float = Field(1.49, gt=0.0, le=1.7)
    immersion_index: float = Field(1.518, ge=1.0, le=1.8)
    emission_um: dict[str, float] = Field(default_factory=lambda: {"488": 0.525, "561": 0.605})
    pixel_size_um: float = Field(0.0626, gt=0.0)

    @model_validator(mode="after")
    def _check_physics(self) -> Self:
        if self.na >= self.immersion_index:
            raise ValueError(
                f"na={self.na} must be below immersion_index={self.immersion_index}: "
                "an objective cannot collect light beyond the medium's index"
            )
        if not self.emission_um:
            raise ValueError("emission_um needs at least one channel, e.g. {'488': 0.525}")
        for channel, wavelength in self.emission_um.items():
            if not 0.3 <= wavelength <= 1.2:
                raise ValueError(
                    f"emission_um[{channel!r}]={wavelength} is not a visible/NIR wavelength "
                    "in um (did you give nm? 525 nm is 0.525)"
                )
            nyquist = wavelength / (4 * self.na)
            if self.pixel_size_um > nyquist:
                raise ValueError(
                    f"pixel_size_um={self.pixel_size_um} is above the Nyquist limit "
                    f"{nyquist:.4f} um (lambda/4NA) of channel {channel!r}: the camera would "
                    "alias the wide-field image; use a smaller pixel or a higher magnification"
                )
        return self

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names in configuration order."""
        return tuple(self.emission_um)

    def wavelength_um(self, channel: str | None = None) -> float:
        """Emission wavelength of `channel` (the first channel when None)."""
        if channel is None:
            return next(iter(self.emission_um.values()))
        try:
            return self.emission_um[channel]
        except KeyError:
            raise KeyError(
                f"channel {channel!r} is not in the optics config; known: {self.channels}"
            ) from None

    def cutoff_per_um(self, channel: str | None = None) -> float:
        """Incoherent OTF cutoff 2 NA / lambda in cycles per um."""
        return 2 * self.na / self.wavelength_um(channel)

    @classmethod
    def single(cls, *, na: float, wavelength_um: float, pixel_size_um: float) -> OpticsConfig:
        """Optics of one unnamed channel (``"default"``), as the CLI builds them."""
        return cls(na=na, emission_um={"default": wavelength_um}, pixel_size_um=pixel_size_um)


class PatternConfig(FrozenConfig):
    """Illumination pattern of SIM: orientations, phase steps, frequency, modulation.

    Frames are ordered angle-major, phase-minor everywhere in livesr. The illumination of angle
    d and phase p is ``1 + m cos(phi) + sum_h m_h cos(h phi)``, ``phi = 2 pi k_d . r + 2 pi p /
    n_phases``, with harmonics h = 2, 3, ... from `nonlinear_harmonics`.

    Attributes
    ----------
    n_angles, n_phases : int
        Pattern orientations and phase steps per orientation.
    k0_fraction : float or None
        Pattern frequency as a fraction of the detection OTF cutoff 2 NA / lambda.
    k0_per_um : float or None
        Pattern frequency in cycles per um; overrides `k0_fraction` when given.
    angle_offset_deg : float
        Orientation of the first angle; the others follow at 180 / n_angles degrees.
    modulation : float
        First-order modulation depth m (0-1).
    nonlinear_harmonics : tuple of float
        Strengths of harmonics 2, 3, ... for nonlinear SIM (empty for linear SIM).
    """

    n_angles: int = Field(3, ge=1, le=12)
    n_phases: int = Field(3, ge=1, le=12)
    k0_fraction: float | None = Field(0.9, gt=0.0, lt=2.0)
    k0_per_um: float | None = Field(None, gt=0.0)
    angle_offset_deg: float = 8.0
    modulation: float = Field(0.8, ge=0.0, le=1.0)
    nonlinear_harmonics: tuple[float, ...] = ()

    @model_validator(mode="after")
    def _check_bands(self) -> Self:
        if self.k0_fraction is None and self.k0_per_um is None:
            raise ValueError("give the pattern frequency as k0_fraction or k0_per_um")
        needed = 2 * self.n_orders + 1
        if self.n_phases < needed:
            raise ValueError(
                f"n_phases={self.n_phases} is too few: separating orders 0..+-{self.n_orders} "
                f"needs at least {needed} phases (2 x orders + 1)"
            )
        for h, strength in enumerate(self.nonlinear_harmonics, start=2):
            if not 0.0 <= strength <= 1.0:
                raise ValueError(
                    f"nonlinear_harmonics: strength of harmonic {h} must be in [0, 1]"
                )
        return self

    @property
    def n_orders(self) -> int:
        """Highest band order (1 for linear SIM, 2 with one nonlinear harmonic)."""
        return 1 + len(self.nonlinear_harmonics)

    @property
    def n_frames(self) -> int:
        """Raw frames per SIM stack (n_angles x n_phases)."""
        return self.n_angles * self.n_phases

    @property
    def mode(self) -> Literal["linear", "nonlinear"]:
        """``"nonlinear"`` when harmonics beyond the first are present."""
        return "nonlinear" if self.nonlinear_harmonics else "linear"

    @classmethod
    def linear(cls, **overrides: Any) -> PatternConfig:
        """Linear 2D SIM: 3 angles x 3 phases."""
        return cls(**{"n_angles": 3, "n_phases": 3, **overrides})

    @classmethod
    def nonlinear(cls, **overrides: Any) -> PatternConfig:
        """Nonlinear SIM: 5 angles x 5 phases with a second harmonic (x3 output)."""
        base: dict[str, Any] = {
            "n_angles": 5,
            "n_phases": 5,
            "k0_fraction": 0.9,
            "nonlinear_harmonics": (0.3,),
        }
        return cls(**{**base, **overrides})


class CameraConfig(FrozenConfig):
    """sCMOS camera model: photons -> electrons -> ADU.

    Attributes
    ----------
    qe : float
        Quantum efficiency (0-1).
    read_noise_e : float
        Gaussian read noise, electrons rms.
    offset_adu : float
        Constant offset (bias) in ADU.
    gain_e_per_adu : float
        Electrons per ADU.
    bit_depth : int
        ADU are clipped to [0, 2**bit_depth - 1].
    background_photons : float
        Uniform background (autofluorescence, out-of-focus light) in photons per pixel.
    """

    qe: float = Field(0.8, gt=0.0, le=1.0)
    read_noise_e: float = Field(1.5, ge=0.0)
    offset_adu: float = Field(100.0, ge=0.0)
    gain_e_per_adu: float = Field(0.46, gt=0.0)
    bit_depth: int = Field(16, ge=8, le=16)
    background_photons: float = Field(5.0, ge=0.0)

    @property
    def max_adu(self) -> int:
        """Largest value the camera can report."""
        return int(2**self.bit_depth - 1)


#: Networks `livesr.models.build_model` builds (`livesr.models.available_models` describes
#: them); `ModelConfig.options` is typed per architecture (`ARCHITECTURE_OPTIONS`).
Architecture = Literal[
    "dfcan", "dfgan", "dscan", "dfcan_plain", "rcan", "unet", "scunet", "dfgan_discriminator"
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
    | UNetOptions | SCUNetOptions | DiscriminatorOptions
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
}


class ModelConfig(FrozenConfig):
    """Which network to build or load.

    Attributes
    ----------
    architecture : str
        The network: ``"dfcan"``, ``"dfgan"`` (generator), ``"dscan"``, ``"dfcan_plain"``,
        ``"rcan"``, ``"unet"``, ``"scunet"`` or ``"dfgan_discriminator"``.
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
    """

    pattern: PatternConfig
    optics: OpticsConfig
    channel: str | None = None
    parameters: dict[str, Any] | None = None
    wiener: float | None = Field(None, gt=0.0)


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
        Pattern, optics and recorded parameters of Wiener SIM; None for networks.
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
        if not wiener and self.sim is not None:
            raise ValueError(f"sim parameters are for Wiener SIM, not model {self.model!r}")
        return self


class WriterConfig(FrozenConfig):
    """Where and how a run is stored.

    Attributes
    ----------
    path : Path
        The OME-Zarr run store to create.
    overwrite : bool
        Replace an existing store instead of refusing to start.
    compression : {"zstd", "none"}
        Lossless compression of every array; ``"none"`` costs disk but halves the writer's CPU
        per raw frame (for fast cameras on small machines).
    """

    path: Path = Path("run.zarr")
    overwrite: bool = False
    compression: Literal["zstd", "none"] = "zstd"


class PipelineConfig(FrozenConfig):
    """Everything a live run needs, written into the store's attributes."""

    optics: OpticsConfig = Field(default_factory=OpticsConfig)
    pattern: PatternConfig = Field(default_factory=PatternConfig)
    camera: CameraConfig = Field(default_factory=CameraConfig)
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    backend: BackendConfig = Field(default_factory=BackendConfig)
    writer: WriterConfig = Field(default_factory=WriterConfig)
    #: Stacks waiting for live SR before the oldest is skipped (and backfilled at the end).
    max_backlog: int = Field(4, ge=1)
    #: Where live reconstruction runs. "process": a child process per channel (CPU backends
    #: then never wait for the interpreter lock held by acquisition and writer threads);
    #: "thread": the inference thread itself; "auto": a process for network models on the CPU
    #: built by name (`StackReconstructor.create`), a thread otherwise (GPU, Wiener, objects).
    inference_mode: Literal["auto", "process", "thread"] = "auto"


class HostTuning(FrozenConfig):
    """Process-wide tuning livesr may apply, only where the application opts in.

    Off by default: a library leaves its host process as it found it. The ``livesr demo``,
    ``acquire`` and ``bench`` commands apply `application` with ``livesr._host.host_tuning``,
    which restores everything but ``malloc`` when it exits. docs/benchmarks.md has the
    measurements behind each setting.

    Attributes
    ----------
    malloc : bool
        Tune glibc's allocator so CPU inference reuses its large activations instead of
        page-faulting them in per op (2.8x slower batch-2 DFCAN without it). Lasts for the
        life of the process (glibc has no way back); ``LIVESR_MALLOC_TUNING=0`` still opts
        out. Inference children apply it too.
    pin_threads : bool
        During a live run with inference in child processes (Linux, 2+ cores): the children
        get cores of their own (the last ones, as many as their threads) and this process's
        threads keep to the rest, so neither side stalls the other; restored at the run's end.
    nice : int
        Nice increment of a live run's inference thread and child processes (Linux), so CPU
        reconstruction yields the cores to acquisition; both end with the run. 0: unchanged.
    torch_threads : int, optional
        torch's intra-op threads for the process while applied (restored on exit); None
        leaves torch's setting. A reconstructor's own ``threads`` apply to its calls only.
    """

    malloc: bool = False
    pin_threads: bool = False
    nice: int = Field(0, ge=0, le=19)
    torch_threads: int | None = Field(None, ge=1)

    @classmethod
    def off(cls) -> HostTuning:
        """Change nothing process-wide (the default for library use)."""
        return cls()

    @classmethod
    def application(cls, torch_threads: int | None = None) -> HostTuning:
        """What the ``livesr`` commands apply: malloc tuned, pinned cores, inference at nice 10."""
        return cls(malloc=True, pin_threads=True, nice=10, torch_threads=torch_threads)
