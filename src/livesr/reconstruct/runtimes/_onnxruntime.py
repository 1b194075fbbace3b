"""Run livesr's exported ONNX graph with ONNX Runtime (CPU, CUDA or TensorRT provider)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr._host import usable_cores
from livesr.reconstruct._protocol import BackendUnavailableError, ReconstructorInfo

from ._batch import check_batch

__all__ = ["ORT_PROVIDERS", "OnnxRuntimeReconstructor"]

#: Provider lists per `device`; the CPU provider is the last resort for unsupported nodes.
ORT_PROVIDERS: dict[str, list[str]] = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
}


class OnnxRuntimeReconstructor:
    """A `Reconstructor` backed by an ``onnxruntime.InferenceSession``.

    Parameters
    ----------
    onnx_path : path
        ONNX model with one input (N, F, Y, X) and one output (N, 1, s*Y, s*X), as written by
        `livesr.reconstruct.export_onnx`. Static axes become ``info.fixed_shape`` / the batch.
    name : str
        Model name for provenance.
    in_frames, scale : int
        Frames per stack and upsampling factor.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"tensorrt"`` (the execution provider family).
    threads : int, optional
        Intra-op threads in all (default: the cores this process may use), shared out among
        the `parallel` sessions.
    weights_sha256 : str, optional
        Hash of the weights file, for provenance.
    parallel : int
        Sessions that run the stacks of one call side by side (CPU only), each with
        ``threads // parallel`` intra-op threads. A batch is split into `parallel` contiguous
        parts, one per session, run concurrently (``InferenceSession.run`` releases the GIL).
        With one single-threaded session per core, the cores never wait for each other at
        the end of every op, as the threads of one session do.

    Notes
    -----
    ``InferenceSession.run`` is thread-safe, but this object follows the `Reconstructor`
    contract: one owner thread. With ``parallel > 1`` it runs ``parallel - 1`` helper threads
    of its own while a call is in progress.
    """

    def __init__(
        self,
        onnx_path: str | Path,
        *,
        name: str = "model",
        in_frames: int,
        scale: int,
        device: str = "cpu",
        threads: int | None = None,
        weights_sha256: str | None = None,
        parallel: int = 1,
    ) -> None:
        import onnxruntime as ort

        family = device.split(":")[0]
        if family not in ORT_PROVIDERS:
            raise ValueError(f"device must be one of {sorted(ORT_PROVIDERS)}, got {device!r}")
        wanted = ORT_PROVIDERS[family][0]
        available = ort.get_available_providers()
        if wanted not in available:
            raise BackendUnavailableError(
                f"onnxruntime {ort.__version__} has no {wanted} (available: {available}); "
                "install onnxruntime-gpu for CUDA/TensorRT, or use device='cpu'"
            )
        providers: list[Any] = [p for p in ORT_PROVIDERS[family] if p in available]
        if family != "cpu" and ":" in device:
            gpu = int(device.split(":")[1])
            providers = [
                (p, {"device_id": gpu}) if p != "CPUExecutionProvider" else p for p in providers
            ]
        if parallel < 1:
            raise ValueError(f"parallel must be >= 1, got {parallel}")
        if parallel > 1 and family != "cpu":
            raise ValueError(
                f"parallel sessions are for the CPU (one per core); device={device!r} runs "
                "a whole batch in one GPU session: use parallel=1"
            )
        total = threads or usable_cores()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = max(1, total // parallel)
        # Silence ORT's per-node provider-assignment warnings (log level 3 = errors only).
        options.log_severity_level = 3
        self._sessions = [
            ort.InferenceSession(str(onnx_path), options, providers=providers)
            for _ in range(parallel)
        ]
        self._session = self._sessions[0]
        self._pool = ThreadPoolExecutor(parallel - 1) if parallel > 1 else None
        if self._session.get_providers()[0] != wanted:
            # ORT lists providers it was built with, then silently falls back to the CPU when
            # the GPU or its libraries are missing: make that an explicit error.
            raise BackendUnavailableError(
                f"onnxruntime could not initialise {wanted} (no GPU, driver or CUDA/cuDNN "
                f"libraries?); it would run on {self._session.get_providers()[0]}"
            )
        (inp,) = self._session.get_inputs()
        (out,) = self._session.get_outputs()
        self._input_name, self._output_name = inp.name, out.name
        shape = list(inp.shape)
        self._batch = shape[0] if isinstance(shape[0], int) else None
        fixed = (shape[2], shape[3]) if all(isinstance(d, int) for d in shape[2:]) else None
        if isinstance(shape[1], int) and shape[1] != in_frames:
            raise ValueError(f"{onnx_path} takes {shape[1]} frames, not in_frames={in_frames}")
        self._info = ReconstructorInfo(
            name=name,
            backend="onnxruntime",
            in_frames=in_frames,
            scale=scale,
            fixed_shape=fixed,
            precision="fp32",
            device=device,
            weights_sha256=weights_sha256,
        )

    @property
    def info(self) -> ReconstructorInfo:
        """Static description of this reconstructor."""
        return self._info

    @property
    def providers(self) -> list[str]:
        """Execution providers the session actually uses, best first."""
        return list(self._session.get_providers())

    @property
    def batch_size(self) -> int | None:
        """The graph's static batch size, or None when the batch axis is dynamic."""
        return self._batch

    @property
    def parallel(self) -> int:
        """Sessions that run the parts of a batch side by side."""
        return len(self._sessions)

    def parts_for(self, shape: tuple[int, ...]) -> int:
        """Sessions a call with stacks of `shape` (N, F, Y, X) runs on side by side."""
        return max(1, min(len(self._sessions), shape[0]))

    def warmup(self) -> None:
        """One forward pass: ORT allocates its arena and (CUDA/TRT) builds kernels."""
        y, x = self._info.fixed_shape or (64, 64)
        n = (self._batch or 1) * len(self._sessions)
        self(np.zeros((n, self._info.in_frames, y, x), dtype=np.float32))

    def __call__(self, stacks: NDArray[np.float32]) -> NDArray[np.float32]:
        """Reconstruct float32 (N, F, Y, X) in [0, 1] -> float32 (N, 1, s*Y, s*X)."""
        check_batch(stacks, self._info.in_frames)
        fixed = self._info.fixed_shape
        if fixed is not None and tuple(stacks.shape[2:]) != fixed:
            raise ValueError(
                f"this ONNX graph takes {fixed[0]}x{fixed[1]} frames, got "
                f"{stacks.shape[2]}x{stacks.shape[3]}; wrap it in a TiledReconstructor or "
                "export the model for this frame size"
            )
        x = np.ascontiguousarray(stacks, dtype=np.float32)
        parts = [p for p in np.array_split(x, len(self._sessions)) if len(p)]
        if self._pool is None or len(parts) == 1:
            return self._run_all(self._session, x)
        # The first part runs on this thread, the others on the helpers, all at once.
        futures = [
            self._pool.submit(self._run_all, session, part)
            for session, part in zip(self._sessions[1:], parts[1:], strict=False)
        ]
        try:
            outs = [self._run_all(self._session, parts[0]), *(f.result() for f in futures)]
        finally:
            wait(futures)  # never leave a part running into the next call
        return np.concatenate(outs)

    def _run_all(self, session: Any, x: NDArray[np.float32]) -> NDArray[np.float32]:
        if self._batch is None or self._batch == x.shape[0]:
            return self._run(session, x)
        # A static batch: run in chunks, zero-padding the last one.
        outs = []
        for first in range(0, x.shape[0], self._batch):
            chunk = x[first : first + self._batch]
            n = chunk.shape[0]
            if n < self._batch:
                pad = np.zeros((self._batch - n, *chunk.shape[1:]), dtype=np.float32)
                chunk = np.concatenate([chunk, pad])
            outs.append(self._run(session, chunk)[:n])
        return np.concatenate(outs)

    def _run(self, session: Any, x: NDArray[np.float32]) -> NDArray[np.float32]:
        (y,) = session.run([self._output_name], {self._input_name: x})
        return np.asarray(y, dtype=np.float32)

    def close(self) -> None:
        """Release the sessions and helper threads."""
        if self._pool is not None:
            self._pool.shutdown()
        self._sessions.clear()
        del self._session
