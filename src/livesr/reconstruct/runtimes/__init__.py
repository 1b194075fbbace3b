"""Deep-learning runtimes behind the `Reconstructor` protocol: torch, ONNX Runtime, TensorRT.

Each runtime imports its framework inside the module that needs it, so importing this package
costs nothing; ONNX export and the on-disk engine/graph cache live here too.
"""

from ._bundled_onnx import export_bundled_graphs
from ._engine_cache import EngineKey, cache_dir
from ._export import TENSORRT_ONNX_OPS, check_tensorrt_ops, export_onnx, onnx_op_types
from ._onnxruntime import OnnxRuntimeReconstructor
from ._tensorrt import TensorRTReconstructor
from ._torch import TorchReconstructor

__all__ = [
    "TENSORRT_ONNX_OPS",
    "EngineKey",
    "OnnxRuntimeReconstructor",
    "TensorRTReconstructor",
    "TorchReconstructor",
    "cache_dir",
    "check_tensorrt_ops",
    "export_bundled_graphs",
    "export_onnx",
    "onnx_op_types",
]
