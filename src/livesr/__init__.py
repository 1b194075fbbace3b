"""livesr: live deep-learning super-resolution for structured-illumination microscopy.

DFCAN/DFGAN (Qiao et al., Nat Methods 18, 194-202, 2021) and conventional Wiener SIM, run on the
raw SIM frames while a pymmcore-plus acquisition is going, written to OME-Zarr.

``import livesr`` needs only the base dependencies; torch, onnxruntime, tensorrt, zarr and
pymmcore-plus are imported by the modules that use them.
"""

from ._host import host_tuning
from ._version import __version__
from .config import (
    BackendConfig,
    CameraConfig,
    HostTuning,
    ModelConfig,
    OpticsConfig,
    PatternConfig,
    PipelineConfig,
    WriterConfig,
)

__all__ = [
    "BackendConfig",
    "CameraConfig",
    "HostTuning",
    "ModelConfig",
    "OpticsConfig",
    "PatternConfig",
    "PipelineConfig",
    "WriterConfig",
    "__version__",
    "host_tuning",
]
