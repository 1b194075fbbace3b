"""`create_reconstructor`: pick and build the best backend that can run here.

"auto" tries, in order, TensorRT, ONNX Runtime with CUDA, torch with CUDA and torch on the CPU,
and logs why each faster option was passed over, so a user who expected a GPU learns from the
log what is missing. ``LIVESR_BACKEND`` (``"torch"``, ``"onnxruntime-cpu"``, ``"tensorrt"``, ...)
overrides the choice for a whole process, e.g. to compare backends without code changes.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livesr._host import usable_cores
from livesr._logger import logger
from livesr.config import ModelConfig
from livesr.models import LoadedModel, load_model

from ._protocol import BackendUnavailableError, Reconstructor
from ._tiling import TiledReconstructor

if TYPE_CHECKING:
    import torch

__all__ = [
    "AUTO_ORDER",
    "available_backends",
    "cpu_parts",
    "create_reconstructor",
    "parse_backend",
]

#: The order "auto" tries (backend, device) pairs in.
AUTO_ORDER: tuple[tuple[str, str], ...] = (
    ("tensorrt", "cuda"),
    ("onnxruntime", "cuda"),
    ("torch", "cuda"),
    ("torch", "cpu"),
)
BACKENDS = ("auto", "torch", "onnxruntime", "tensorrt", "wiener")
DEVICES = ("auto", "cpu", "cuda", "tensorrt")


def _cuda_reason() -> str | None:
    """Why torch cannot use CUDA here, or None if it can."""
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed (pip install 'livesr[torch]')"
    import torch

    if not torch.cuda.is_available():
        return f"torch {torch.__version__} sees no CUDA device (CPU-only build or no GPU)"
    return None


def _ort_reason(provider: str) -> str | None:
    if importlib.util.find_spec("onnxruntime") is None:
        return "onnxruntime is not installed (pip install 'livesr[onnx]')"
    import onnxruntime as ort

    if provider not in ort.get_available_providers():
        return (
            f"onnxruntime {ort.__version__} has no {provider} "
            "(install onnxruntime-gpu with a matching CUDA)"
        )
    return None


def available_backends() -> dict[str, str | None]:
    """Which backend-device pairs can run here.

    Returns
    -------
    dict
        ``"tensorrt"``, ``"onnxruntime-cuda"``, ``"onnxruntime-cpu"``, ``"torch-cuda"``,
        ``"torch-cpu"`` and ``"wiener"`` mapped to None when usable, else to the reason why
        not (what is missing and how to get it).
    """
    cuda = _cuda_reason()
    if importlib.util.find_spec("tensorrt") is None:
        trt: str | None = (
            "the tensorrt Python package is not installed (pip install 'livesr[tensorrt]' "
            "from NVIDIA's package index; needs an NVIDIA GPU)"
        )
    else:
        trt = cuda and f"TensorRT runs on torch CUDA tensors, but {cuda}"
    torch_missing = importlib.util.find_spec("torch") is None
    ort_cuda = _ort_reason("CUDAExecutionProvider")
    return {
        "tensorrt": trt,
        "onnxruntime-cuda": ort_cuda,
        # Without torch, bundled models still run on their shipped graphs.
        "onnxruntime-cpu": _ort_reason("CPUExecutionProvider"),
        "torch-cuda": cuda,
        "torch-cpu": "torch is not installed (pip install 'livesr[torch]')"
        if torch_missing
        else None,
        "wiener": None,
    }


def parse_backend(backend: str, device: str = "auto") -> tuple[str, str]:
    """Split ``"onnxruntime-cuda"`` style names into (backend, device), with validation."""
    given = backend
    if "-" in backend:
        backend, device = backend.split("-", 1)
    choices = [*BACKENDS, *(f"{b}-{d}" for b in ("torch", "onnxruntime") for d in ("cpu", "cuda"))]
    if backend not in BACKENDS or ("-" in given and device.split(":")[0] not in DEVICES):
        # Name what the user typed, not the half of it that failed to parse.
        raise ValueError(f"unknown backend {given!r}; choose one of {', '.join(choices)}")
    if device.split(":")[0] not in DEVICES:
        raise ValueError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    return backend, device


def _candidates(backend: str, device: str) -> list[tuple[str, str]]:
    if backend == "auto":
        if device == "auto":
            return list(AUTO_ORDER)
        return [(b, d) for b, d in AUTO_ORDER if d.split(":")[0] == device.split(":")[0]] or [
            ("torch", device)
        ]
    if device != "auto":
        return [(backend, device)]
    if backend == "tensorrt":
        return [("tensorrt", "cuda")]
    # An explicit backend on "auto" device: its GPU flavour if possible, else the CPU.
    return [(backend, "cuda"), (backend, "cpu")]


def create_reconstructor(
    model: ModelConfig | str | Path | torch.nn.Module | LoadedModel,
    backend: str = "auto",
    device: str = "auto",
    precision: str = "fp32",
    *,
    frame_shape: tuple[int, int] | None = None,
    batch_size: int = 1,
    tile_size: int | None = None,
    tile_overlap: int = 32,
    threads: int | None = None,
    **wiener_options: Any,
) -> Reconstructor:
    """Build a reconstructor for `model` on the best (or the requested) backend.

    Parameters
    ----------
    model : ModelConfig, str, Path, torch.nn.Module or LoadedModel
        What to run: a `ModelConfig`, a bundled weights name, a ``.safetensors`` path, a torch
        module (with ``in_frames`` and ``scale``), a `load_model` result, or ``"wiener"`` for
        conventional SIM.
    backend : str
        ``"auto"``, ``"torch"``, ``"onnxruntime"``, ``"tensorrt"`` or ``"wiener"``; a device
        suffix is allowed (``"onnxruntime-cpu"``). ``$LIVESR_BACKEND`` overrides it.
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"`` (``"tensorrt"``: ONNX Runtime's TensorRT provider).
    precision : str
        ``"fp32"`` or ``"fp16"`` (fp16 trunk, fp32 spectral branch; GPU backends).
    frame_shape : (Y, X), optional
        Frame size the run will use. ONNX Runtime and TensorRT then compile for exactly this
        shape (fastest); without it ONNX Runtime gets a dynamic-shape graph and TensorRT
        cannot be built.
    batch_size : int
        Stacks per call the compiled graphs are built for. ONNX Runtime on the CPU runs a
        batch as per-core parts side by side (``min(batch_size, threads)`` single-threaded
        sessions, see `cpu_parts`): that is what makes batching raise SR frames/s there.
    tile_size, tile_overlap : int
        Reconstruct in overlapping tiles of this size (see `TiledReconstructor`); compiled
        backends are then built for the tile (and `batch_size` counts tiles).
    threads : int, optional
        CPU threads for ONNX Runtime (per session) and torch (process-wide).
    **wiener_options
        Passed to `WienerReconstructor` when the backend is ``"wiener"``.

    Raises
    ------
    BackendUnavailableError
        If the requested backend cannot run here; the message says what is missing.
    """
    env = os.environ.get("LIVESR_BACKEND")
    if env:
        logger.info("LIVESR_BACKEND=%s overrides backend=%r device=%r", env, backend, device)
        backend, device = env, "auto"
    backend, device = parse_backend(backend, device)
    if backend == "wiener" or (isinstance(model, str) and model == "wiener"):
        from .conventional._wiener import WienerReconstructor

        if "pattern" not in wiener_options or "optics" not in wiener_options:
            raise TypeError(
                "the wiener backend needs pattern=PatternConfig(...) and optics=OpticsConfig(...)"
            )
        if tile_size is not None:
            raise ValueError("the wiener backend reconstructs whole frames; drop tile_size")
        rec: Reconstructor = WienerReconstructor(**wiener_options)
        return rec
    if wiener_options:
        raise TypeError(f"unexpected options for a network backend: {sorted(wiener_options)}")

    from .runtimes._bundled_onnx import create_bundled_reconstructor, torch_available

    if not torch_available():
        # No torch here: bundled models run on their shipped ONNX graphs.
        return create_bundled_reconstructor(
            model, backend, device, precision, frame_shape=frame_shape, batch_size=batch_size,
            tile_size=tile_size, tile_overlap=tile_overlap, threads=threads,
        )  # fmt: skip
    loaded = load_model(model)
    # Compiled backends are built for what they will see: the tile when tiling, else the frame.
    compile_shape = frame_shape
    if tile_size is not None:
        compile_shape = (tile_size, tile_size)
        if frame_shape is not None:
            compile_shape = (min(tile_size, frame_shape[0]), min(tile_size, frame_shape[1]))
    candidates = _candidates(backend, device)
    status = available_backends()
    skipped: list[str] = []
    for cand_backend, cand_device in candidates:
        label = f"{cand_backend}-{cand_device.split(':')[0]}"
        reason = status.get(label if cand_backend != "tensorrt" else "tensorrt")
        if reason is None:
            try:
                rec = _build(
                    loaded,
                    cand_backend,
                    cand_device,
                    precision,
                    frame_shape=compile_shape,
                    batch_size=batch_size,
                    threads=threads,
                )
            except BackendUnavailableError as exc:
                reason = str(exc)
            else:
                if skipped:
                    logger.info("backend %s chosen after skipping: %s", label, "; ".join(skipped))
                return _maybe_tiled(rec, frame_shape, tile_size, tile_overlap, batch_size)
        msg = f"{label}: {reason}"
        skipped.append(msg)
        if len(candidates) > 1:
            logger.info("skipping backend %s", msg)
    raise BackendUnavailableError("no requested backend can run here:\n  " + "\n  ".join(skipped))


def _maybe_tiled(
    rec: Reconstructor,
    frame_shape: tuple[int, int] | None,
    tile_size: int | None,
    overlap: int,
    batch_size: int,
) -> Reconstructor:
    fixed = rec.info.fixed_shape
    if tile_size is None and (fixed is None or frame_shape is None or fixed == tuple(frame_shape)):
        return rec
    tiled: Reconstructor = TiledReconstructor(
        rec, None if fixed is not None else tile_size, overlap=overlap, batch_size=batch_size
    )
    return tiled


def cpu_parts(batch_size: int, threads: int | None) -> int:
    """Sessions a CPU ONNX Runtime batch of `batch_size` stacks runs on, one per core at most.

    One single-threaded session per core beat one two-threaded session for every model
    measured (full-size DFCAN 2x9x256x256 on two cores: +5 % over batch 2 in one session,
    +3-4 % over batch 1; docs/benchmarks.md). With one core (``threads=1``, e.g. a live
    reconstructor that leaves the other core to the camera) there is one session. torch
    batches are not split by default: see `TorchReconstructor`'s ``parallel``.
    """
    cores = threads or usable_cores()
    return max(1, min(batch_size, cores))


def _build(
    loaded: LoadedModel,
    backend: str,
    device: str,
    precision: str,
    *,
    frame_shape: tuple[int, int] | None,
    batch_size: int,
    threads: int | None,
) -> Reconstructor:
    if backend == "torch":
        from .runtimes._torch import TorchReconstructor

        return TorchReconstructor(
            loaded.module,
            name=loaded.name,
            in_frames=loaded.in_frames,
            scale=loaded.scale,
            device=device,
            precision=precision,
            weights_sha256=loaded.weights_sha256,
            threads=threads,
        )
    if backend == "onnxruntime":
        from .runtimes._engine_cache import cached_onnx
        from .runtimes._onnxruntime import OnnxRuntimeReconstructor

        if precision != "fp32":
            raise BackendUnavailableError(
                "the onnxruntime backend runs fp32 graphs only; use precision='fp32' or tensorrt"
            )
        parts = cpu_parts(batch_size, threads) if device.split(":")[0] == "cpu" else 1
        # Each per-core session gets its share of the batch as its static batch size.
        per_part = -(-batch_size // parts)
        shape = None if frame_shape is None else (per_part, loaded.in_frames, *frame_shape)
        onnx_path = cached_onnx(loaded, shape)
        return OnnxRuntimeReconstructor(
            onnx_path,
            name=loaded.name,
            in_frames=loaded.in_frames,
            scale=loaded.scale,
            device=device,
            threads=threads,
            weights_sha256=loaded.weights_sha256,
            parallel=parts,
        )
    if backend == "tensorrt":
        from .runtimes._tensorrt import TensorRTReconstructor

        if frame_shape is None:
            raise BackendUnavailableError(
                "TensorRT builds an engine for one frame size: pass frame_shape=(Y, X)"
            )
        shape = (batch_size, loaded.in_frames, *frame_shape)
        return TensorRTReconstructor.from_model(loaded, shape, precision=precision, device=device)
    raise ValueError(f"unknown backend {backend!r}")
