"""Reconstruction: numpy in, numpy out. Conventional SIM and deep-learning backends."""

from ._engine_cache import EngineKey, cache_dir
from ._factory import LoadedModel, available_backends, create_reconstructor, load_model
from ._normalize import NormalizationStats, PercentileNormalizer
from ._onnxruntime import OnnxRuntimeReconstructor
from ._protocol import BackendUnavailableError, Reconstructor, ReconstructorInfo
from ._stack import StackReconstructor
from ._tensorrt import TensorRTReconstructor
from ._tiling import TiledReconstructor, tiled_apply
from ._torch import TorchReconstructor

__all__ = [
    "BackendUnavailableError",
    "EngineKey",
    "LoadedModel",
    "NormalizationStats",
    "OnnxRuntimeReconstructor",
    "PercentileNormalizer",
    "Reconstructor",
    "ReconstructorInfo",
    "StackReconstructor",
    "TensorRTReconstructor",
    "TiledReconstructor",
    "TorchReconstructor",
    "available_backends",
    "cache_dir",
    "create_reconstructor",
    "load_model",
    "tiled_apply",
]
