"""TensorRT engines built from livesr's own ONNX graph, run on torch CUDA tensors.

The graph is the FFT-free DFCAN export (the Fourier attention spectrum as constant DFT MatMuls),
which every TensorRT version parses. Precision lives in the graph itself (strong typing, the only
mode of TensorRT 11): for fp16 the model is exported in half precision and its spectral branch
casts to fp32 internally, so the engine runs an fp16 trunk and an fp32 spectrum without builder
precision flags. Engines are cached by `EngineKey` (ONNX hash, TensorRT version, GPU, precision,
shape); a timing cache per TensorRT version and GPU makes rebuilds for new shapes fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livesr._logger import logger
from livesr.reconstruct._protocol import BackendUnavailableError, ReconstructorInfo

from ._batch import check_batch
from ._engine_cache import (
    EngineKey,
    atomic_write_bytes,
    file_sha256,
    timing_cache_path,
)

if TYPE_CHECKING:
    from livesr.models import LoadedModel

__all__ = [
    "TensorRTReconstructor",
    "build_engine",
    "build_tensorrt_engine",
    "engine_key",
    "engine_path",
    "tensorrt_onnx",
]

_WORKSPACE_BYTES = 4 << 30


def _import_tensorrt() -> Any:
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise BackendUnavailableError(
            "the tensorrt Python package is not installed: pip install 'livesr[tensorrt]' with "
            "NVIDIA's package index (needs an NVIDIA GPU and driver)"
        ) from exc
    return trt


def _cuda_device(device: str) -> Any:
    import torch

    if not torch.cuda.is_available():
        raise BackendUnavailableError(
            f"TensorRT runs on torch CUDA tensors, but torch {torch.__version__} sees no CUDA "
            "device; install a CUDA build of torch"
        )
    return torch.device("cuda" if device in ("auto", "tensorrt") else device)


def tensorrt_onnx(
    loaded: LoadedModel, shape: tuple[int, int, int, int], precision: str = "fp32"
) -> Path:
    """The ONNX file a TensorRT engine for `loaded` at `shape` is built from (cached).

    For ``"fp16"`` it is the half-precision export: fp16 inputs, weights and convs, with the
    model's explicit casts keeping the spectral branch in fp32.
    """
    from ._engine_cache import cached_onnx

    if precision not in ("fp32", "fp16"):
        raise ValueError(f"precision must be 'fp32' or 'fp16', got {precision!r}")
    return cached_onnx(loaded, shape, precision=precision)


def engine_key(
    onnx_path: Path,
    shape: tuple[int, int, int, int],
    precision: str,
    *,
    trt_version: str,
    gpu_name: str,
    compute_capability: str,
) -> EngineKey:
    """The cache key of the engine built from `onnx_path` for `shape` on this GPU."""
    return EngineKey(
        onnx_sha256=file_sha256(onnx_path),
        trt_version=trt_version,
        gpu_name=gpu_name,
        compute_capability=compute_capability,
        precision=precision,
        shape=tuple(int(d) for d in shape),  # type: ignore[arg-type]
    )


def build_engine(onnx_path: Path, shape: tuple[int, int, int, int], timing_cache: Path) -> bytes:
    """Parse `onnx_path` into a strongly typed network and build a serialised engine.

    Parameters
    ----------
    onnx_path : Path
        The graph from `tensorrt_onnx`; its tensor types fix every layer's precision.
    shape : (N, F, Y, X)
        Input shape; for a graph with dynamic axes the optimisation profile is
        min = opt = max = `shape`.
    timing_cache : Path
        Loaded if present, and rewritten with the new tactic timings after the build.

    Returns
    -------
    bytes
        The serialised engine (plan).
    """
    trt = _import_tensorrt()
    log = trt.Logger(trt.Logger.WARNING)
    trt.init_libnvinfer_plugins(log, "")
    builder = trt.Builder(log)
    # TensorRT 10 needs the flag for strong typing; 11 is always strongly typed.
    flag = getattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED", None)
    network = builder.create_network(0 if flag is None else 1 << int(flag))
    parser = trt.OnnxParser(network, log)
    if not parser.parse_from_file(str(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise RuntimeError(f"TensorRT could not parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, _WORKSPACE_BYTES)
    inp = network.get_input(0)
    if any(d < 0 for d in tuple(inp.shape)):
        # A dynamic graph: pin it to the configured frame size (min = opt = max), so tactics
        # are timed for exactly the shape the camera delivers. Static graphs (livesr's default,
        # with the DFT matrices as constants) need no profile, and some TensorRT versions
        # reject one on static inputs.
        profile = builder.create_optimization_profile()
        profile.set_shape(inp.name, min=shape, opt=shape, max=shape)
        config.add_optimization_profile(profile)
    old = timing_cache.read_bytes() if timing_cache.exists() else b""
    cache = config.create_timing_cache(old)
    config.set_timing_cache(cache, ignore_mismatch=False)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path} (see log)")
    atomic_write_bytes(timing_cache, bytes(config.get_timing_cache().serialize()))
    return bytes(plan)


class TensorRTReconstructor:
    """A `Reconstructor` running a TensorRT engine on torch-owned CUDA memory.

    Parameters
    ----------
    engine : bytes or Path
        A serialised engine (plan) with one input and one output.
    name : str
        Model name for provenance.
    in_frames, scale : int
    precision : str
        What the engine was built for (``"fp32"`` or ``"fp16"``), for provenance.
    device : str
        ``"cuda"`` or ``"cuda:N"``.
    weights_sha256 : str, optional

    Notes
    -----
    One execution context, enqueued on torch's current CUDA stream of the owner thread; not
    thread-safe.
    """

    def __init__(
        self,
        engine: bytes | Path,
        *,
        name: str = "model",
        in_frames: int,
        scale: int,
        precision: str = "fp32",
        device: str = "cuda",
        weights_sha256: str | None = None,
    ) -> None:
        import torch

        trt = _import_tensorrt()
        self._device = _cuda_device(device)
        plan = engine.read_bytes() if isinstance(engine, Path) else engine
        self._log = trt.Logger(trt.Logger.WARNING)
        trt.init_libnvinfer_plugins(self._log, "")
        self._runtime = trt.Runtime(self._log)
        with torch.cuda.device(self._device):
            self._engine = self._runtime.deserialize_cuda_engine(plan)
        if self._engine is None:
            raise BackendUnavailableError(
                "TensorRT could not load the engine (built by another TensorRT version or GPU?); "
                "delete it from the cache or rebuild with `livesr export --format tensorrt`"
            )
        self._context = self._engine.create_execution_context()
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        inputs = [n for n in names if self._engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if n not in inputs]
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"expected one input and one output tensor, got {names}")
        self._in, self._out = inputs[0], outputs[0]
        dtypes = {
            trt.DataType.FLOAT: torch.float32,
            trt.DataType.HALF: torch.float16,
            trt.DataType.BF16: torch.bfloat16,
        }
        self._in_dtype = dtypes[self._engine.get_tensor_dtype(self._in)]
        self._out_dtype = dtypes[self._engine.get_tensor_dtype(self._out)]
        shape = tuple(self._engine.get_tensor_shape(self._in))
        if any(d < 0 for d in shape):
            # Dynamic engine: use the profile's max shape (one profile, min = opt = max).
            shape = tuple(self._engine.get_tensor_profile_shape(self._in, 0)[2])
        self._shape: tuple[int, ...] = shape
        self._context.set_input_shape(self._in, shape)
        self._info = ReconstructorInfo(
            name=name,
            backend="tensorrt",
            in_frames=in_frames,
            scale=scale,
            fixed_shape=(int(shape[2]), int(shape[3])),
            precision=precision,
            device=str(self._device),
            weights_sha256=weights_sha256,
        )

    @classmethod
    def from_model(
        cls,
        loaded: LoadedModel,
        shape: tuple[int, int, int, int],
        *,
        precision: str = "fp32",
        device: str = "cuda",
    ) -> TensorRTReconstructor:
        """Load the cached engine for `loaded` at `shape`, building (and caching) it if needed."""
        path = engine_path(loaded, shape, precision=precision, device=device)
        return cls(
            path,
            name=loaded.name,
            in_frames=loaded.in_frames,
            scale=loaded.scale,
            precision=precision,
            device=device,
            weights_sha256=loaded.weights_sha256,
        )

    @property
    def info(self) -> ReconstructorInfo:
        """Static description of this reconstructor."""
        return self._info

    def warmup(self) -> None:
        """One forward pass: TensorRT allocates its activation memory on first use."""
        self(np.zeros(self._shape, dtype=np.float32))

    def __call__(self, stacks: NDArray[np.float32]) -> NDArray[np.float32]:
        """Reconstruct float32 (N, F, Y, X) in [0, 1] -> float32 (N, 1, s*Y, s*X)."""
        import torch

        check_batch(stacks, self._info.in_frames)
        batch = self._shape[0]
        if tuple(stacks.shape[1:]) != tuple(self._shape[1:]):
            raise ValueError(
                f"this engine takes stacks of shape {self._shape[1:]}, got {stacks.shape[1:]}; "
                "wrap it in a TiledReconstructor or build an engine for this frame size"
            )
        outs = []
        for first in range(0, stacks.shape[0], batch):
            chunk = stacks[first : first + batch]
            n = chunk.shape[0]
            x = torch.zeros(self._shape, dtype=self._in_dtype, device=self._device)
            x[:n] = torch.from_numpy(np.ascontiguousarray(chunk)).to(self._device, self._in_dtype)
            y = torch.empty(
                tuple(self._context.get_tensor_shape(self._out)),
                dtype=self._out_dtype,
                device=self._device,
            )
            self._context.set_tensor_address(self._in, x.data_ptr())
            self._context.set_tensor_address(self._out, y.data_ptr())
            stream = torch.cuda.current_stream(self._device)
            if not self._context.execute_async_v3(stream.cuda_stream):
                raise RuntimeError("TensorRT execute_async_v3 failed (see the TensorRT log)")
            # .cpu() synchronises with the stream before the host reads y.
            outs.append(y[:n].float().cpu().numpy())
        return np.concatenate(outs)

    def close(self) -> None:
        """Release the execution context and engine."""
        del self._context
        del self._engine


def engine_path(
    loaded: LoadedModel,
    shape: tuple[int, int, int, int],
    *,
    precision: str = "fp32",
    device: str = "cuda",
) -> Path:
    """Path of the cached engine for `loaded` at `shape`, built first if it is missing.

    This is what ``livesr export --format tensorrt`` calls ahead of an experiment.
    """
    import torch

    trt = _import_tensorrt()
    cuda = _cuda_device(device)
    onnx_path = tensorrt_onnx(loaded, shape, precision)
    major, minor = torch.cuda.get_device_capability(cuda)
    gpu = torch.cuda.get_device_name(cuda)
    key = engine_key(
        onnx_path,
        shape,
        precision,
        trt_version=str(trt.__version__),
        gpu_name=gpu,
        compute_capability=f"{major}.{minor}",
    )
    path = key.path()
    if not path.exists():
        logger.info("building TensorRT engine %s (minutes on first use)", path.name)
        with torch.cuda.device(cuda):
            plan = build_engine(onnx_path, shape, timing_cache_path(key.trt_version, gpu))
        atomic_write_bytes(path, plan)
        path.with_suffix(".json").write_text(json.dumps(key.metadata(), indent=2))
    return path


def build_tensorrt_engine(
    model: Any,
    shape: tuple[int, ...],
    *,
    precision: str = "fp32",
    device: str = "cuda",
    out: Path | None = None,
) -> Path:
    """Build (or find) the cached engine for `model` ahead of an experiment.

    Parameters
    ----------
    model : ModelConfig, str, Path, torch.nn.Module or LoadedModel
        As for `create_reconstructor`.
    shape : (F, Y, X) or (N, F, Y, X)
        Input shape the engine is built for (N defaults to 1).
    precision : str
        ``"fp32"`` or ``"fp16"`` (fp16 trunk, fp32 spectral branch).
    device : str
        CUDA device.
    out : Path, optional
        Also copy the engine (and its ``.json`` key) here.

    Returns
    -------
    Path
        The engine in the cache (or `out`). `create_reconstructor` with the same model, shape
        and precision then loads it without building.

    Raises
    ------
    BackendUnavailableError
        No TensorRT or no CUDA GPU here.
    """
    import shutil

    from livesr.models import load_model

    full = tuple(shape) if len(shape) == 4 else (1, *shape)
    if len(full) != 4:
        raise ValueError(f"shape must be (F, Y, X) or (N, F, Y, X), got {shape}")
    path = engine_path(load_model(model), full, precision=precision, device=device)
    if out is None:
        return path
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, out)
    shutil.copyfile(path.with_suffix(".json"), out.with_suffix(".json"))
    return out
