"""Reconstruction: numpy in, numpy out. Conventional SIM and deep-learning backends."""

from ._bands import RadialOTF
from ._engine_cache import EngineKey, cache_dir
from ._estimate import AngleFit, SIMFitWarning, SIMParameters, estimate_parameters
from ._export import TENSORRT_ONNX_OPS, check_tensorrt_ops, export_onnx, onnx_op_types
from ._factory import LoadedModel, available_backends, create_reconstructor, load_model
from ._normalize import NormalizationStats, PercentileNormalizer
from ._onnxruntime import OnnxRuntimeReconstructor
from ._protocol import BackendUnavailableError, Reconstructor, ReconstructorInfo
from ._richardson_lucy import fourier_upsample, richardson_lucy, widefield
from ._stack import StackReconstructor
from ._tensorrt import TensorRTReconstructor
from ._tiling import TiledReconstructor, tiled_apply
from ._torch import TorchReconstructor
from ._wiener import WienerReconstructor

__all__ = [
    "TENSORRT_ONNX_OPS",
    "AngleFit",
    "BackendUnavailableError",
    "EngineKey",
    "LoadedModel",
    "NormalizationStats",
    "OnnxRuntimeReconstructor",
    "PercentileNormalizer",
    "RadialOTF",
    "Reconstructor",
    "ReconstructorInfo",
    "SIMFitWarning",
    "SIMParameters",
    "StackReconstructor",
    "TensorRTReconstructor",
    "TiledReconstructor",
    "TorchReconstructor",
    "WienerReconstructor",
    "available_backends",
    "cache_dir",
    "check_tensorrt_ops",
    "create_reconstructor",
    "estimate_parameters",
    "export_onnx",
    "fourier_upsample",
    "load_model",
    "onnx_op_types",
    "richardson_lucy",
    "tiled_apply",
    "widefield",
]
