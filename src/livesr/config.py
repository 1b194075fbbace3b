"""Validated configuration for every stage of livesr.

All models are frozen pydantic models that reject unknown keys, so a typo in a YAML file is an
error that names the key instead of a silently ignored setting. Each stage takes its own
sub-config; `PipelineConfig` bundles them for a live run and is written into every store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import Self

__all__ = [
    "BackendConfig",
    "CameraConfig",
    "FrozenConfig",
    "HostTuning",
    "ModelConfig",
    "OpticsConfig",
    "PatternConfig",
    "PipelineConfig",
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
        data = yaml.safe_load(path.read_text()) or {}
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


class ModelConfig(FrozenConfig):
    """Which network to build or load.

    Attributes
    ----------
    architecture : str
        Registry name of the network (``"dfcan"``, ``"dfgan"``, ...).
    in_frames : int
        Input channels: 1 (wide-field SISR), 9 (linear SIM), 25 (nonlinear SIM).
    scale : int
        Upsampling factor of the output.
    weights : str or None
        A bundled weights name, or a path to a ``.safetensors`` file.
    options : dict
        Architecture keyword arguments (width, groups, blocks, ...).
    """

    architecture: str = "dfcan"
    in_frames: int = Field(9, ge=1)
    scale: int = Field(2, ge=1, le=4)
    weights: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class BackendConfig(FrozenConfig):
    """Where and how a reconstructor runs."""

    backend: Literal["auto", "torch", "onnxruntime", "tensorrt", "wiener"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["fp32", "fp16"] = "fp32"
    batch_size: int = Field(1, ge=1)
    tile_size: int | None = Field(None, ge=32)
    tile_overlap: int = Field(32, ge=0)


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
