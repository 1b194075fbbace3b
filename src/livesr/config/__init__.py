"""Validated configuration for every stage of livesr.

All models are frozen pydantic models that reject unknown keys, so a typo in a YAML file is an
error that names the key instead of a silently ignored setting. Each stage takes its own
sub-config; `PipelineConfig` bundles them for a live run and is written into every store;
`ReconstructorSpec` says how to rebuild a reconstructor; `Calibration` records an instrument's
pattern.
"""

from ._architectures import (
    ARCHITECTURE_OPTIONS,
    Architecture,
    DFCANOptions,
    DFCANPlainOptions,
    DFGANOptions,
    DiscriminatorOptions,
    DSCANOptions,
    ModelConfig,
    ModelOptions,
    RCANOptions,
    SCUNetOptions,
    UNetOptions,
)
from ._base import FrozenConfig
from ._calibration import Calibration, ChannelCalibration, OrientationCalibration
from ._instrument import CameraConfig, OpticsConfig, PatternConfig
from ._reconstructor import BackendConfig, NormalizationSpec, ReconstructorSpec, WienerSpec
from ._run import HostTuning, PipelineConfig, WriterConfig

__all__ = [
    "ARCHITECTURE_OPTIONS",
    "Architecture",
    "BackendConfig",
    "Calibration",
    "CameraConfig",
    "ChannelCalibration",
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
    "OrientationCalibration",
    "PatternConfig",
    "PipelineConfig",
    "RCANOptions",
    "ReconstructorSpec",
    "SCUNetOptions",
    "UNetOptions",
    "WienerSpec",
    "WriterConfig",
]
