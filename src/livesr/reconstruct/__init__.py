"""Reconstruction: numpy in, numpy out.

`create_reconstructor` builds a `Reconstructor` (the protocol every backend follows) for a
network or for conventional SIM; `StackReconstructor` wraps it with normalisation and
provenance, and is the one per-stack path the live pipeline and reprocessing share. Its
`livesr.config.ReconstructorSpec` (``StackReconstructor.spec``) rebuilds it anywhere
(``StackReconstructor.from_spec``).
Conventional SIM lives in `livesr.reconstruct.conventional` (numpy only), the deep-learning
runtimes in `livesr.reconstruct.runtimes`; both are re-exported here.
"""

from ._factory import available_backends, create_reconstructor
from ._normalize import NormalizationStats, PercentileNormalizer
from ._protocol import BackendUnavailableError, Reconstructor, ReconstructorInfo
from ._stack import StackReconstructor
from ._tiling import TiledReconstructor, tiled_apply
from .conventional import (
    AngleFit,
    RadialOTF,
    SIMFitError,
    SIMFitWarning,
    SIMParameters,
    WienerReconstructor,
    estimate_parameters,
    fourier_upsample,
    richardson_lucy,
    widefield,
)
from .runtimes import (
    TENSORRT_ONNX_OPS,
    EngineKey,
    OnnxRuntimeReconstructor,
    TensorRTReconstructor,
    TorchReconstructor,
    cache_dir,
    check_tensorrt_ops,
    export_onnx,
    onnx_op_types,
)

__all__ = [
    "TENSORRT_ONNX_OPS",
    "AngleFit",
    "BackendUnavailableError",
    "EngineKey",
    "NormalizationStats",
    "OnnxRuntimeReconstructor",
    "PercentileNormalizer",
    "RadialOTF",
    "Reconstructor",
    "ReconstructorInfo",
    "SIMFitError",
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
    "onnx_op_types",
    "richardson_lucy",
    "tiled_apply",
    "widefield",
]
