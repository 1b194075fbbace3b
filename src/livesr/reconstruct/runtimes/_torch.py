"""Run a torch network (DFCAN, DFGAN generator, ...) eagerly on CPU or CUDA."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livesr.reconstruct._protocol import BackendUnavailableError, ReconstructorInfo

from ._batch import check_batch

if TYPE_CHECKING:
    import torch

__all__ = ["MIN_SPLIT_PIXELS", "TorchReconstructor"]

#: Smallest frame (Y * X) whose batches a CPU `TorchReconstructor` splits into parallel parts.
MIN_SPLIT_PIXELS = 256 * 256


class TorchReconstructor:
    """A `Reconstructor` that calls a ``torch.nn.Module`` in inference mode.

    Parameters
    ----------
    model : torch.nn.Module
        Maps float (N, F, Y, X) in [0, 1] to (N, 1, s*Y, s*X). It is put in eval mode and moved
        to `device`.
    name : str
        Model name for provenance.
    in_frames, scale : int, optional
        Frames per stack and upsampling factor; read from ``model.in_frames`` /
        ``model.scale`` when not given.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    precision : str
        ``"fp32"``, or ``"fp16"`` (CUDA only): autocast runs the conv trunk in fp16 while the
        model keeps its spectral branch in fp32 (the spectrum overflows fp16).
    channels_last : bool, optional
        Use the NHWC memory format. Default: on CUDA (cuDNN's tensor-core convs prefer it),
        off on the CPU, where the spectral MatMuls of the Fourier attention then need layout
        copies and DFCAN ran ~1.4x slower in a side-by-side test.
    weights_sha256 : str, optional
        Hash of the weights file, for provenance.
    threads : int, optional
        Intra-op threads of this reconstructor's CPU calls, e.g. to leave cores to
        acquisition threads. torch's count is process-wide, so each call sets it and restores
        the caller's afterwards; None runs with torch's setting.
    parallel : int
        CPU only, opt-in: a call with several stacks of at least `MIN_SPLIT_PIXELS` is split
        into `parallel` contiguous parts that run side by side on their own threads, each
        with ``torch.get_num_threads() // parallel`` intra-op threads (torch releases the GIL
        inside ops). In a process where only torch runs, one single-threaded part per core
        beat one two-threaded batch by 2-5 % (DFCAN at 256x256, two cores). It is not the
        default because the helper thread allocates from whatever glibc arena it is handed:
        if other threads created arenas before `livesr._host.tune_malloc` (ONNX Runtime
        sessions, thread
        pools), the helper can get one of those, where every block over 64 MB is a fresh
        mmap again (measured: 0.1-0.2 M page faults and 25-40 % slower per call next to ONNX
        Runtime). torch's thread count is process-wide, so it is lowered for the duration
        of a split call and then restored. Frames smaller than `MIN_SPLIT_PIXELS` are never
        split: their ops are so short that the parts contend for the GIL.

    Notes
    -----
    Not thread-safe: one owner thread (see `Reconstructor`).

    It changes nothing process-wide. On the CPU, glibc's default allocator makes every op's
    output a fresh, kernel-zeroed mapping (batch 2 of full-size DFCAN ran 2.8x slower than
    batch 1): an application that owns its process opts in to the allocator tuning with
    ``HostTuning(malloc=True)`` (`livesr._host.host_tuning`), as the ``livesr`` commands do.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        name: str = "model",
        in_frames: int | None = None,
        scale: int | None = None,
        device: str = "cpu",
        precision: str = "fp32",
        channels_last: bool | None = None,
        weights_sha256: str | None = None,
        threads: int | None = None,
        parallel: int = 1,
    ) -> None:
        import torch

        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendUnavailableError(
                f"torch backend on {device!r} needs a CUDA build of torch and a GPU; this torch "
                f"({torch.__version__}) sees no CUDA device. Use device='cpu'."
            )
        if precision not in ("fp32", "fp16"):
            raise ValueError(f"precision must be 'fp32' or 'fp16', got {precision!r}")
        if precision == "fp16" and not device.startswith("cuda"):
            raise BackendUnavailableError(
                "fp16 with the torch backend needs CUDA (CPU fp16 convolutions are slower than "
                "fp32); use precision='fp32' on the CPU"
            )
        in_frames = in_frames if in_frames is not None else getattr(model, "in_frames", None)
        scale = scale if scale is not None else getattr(model, "scale", None)
        if in_frames is None or scale is None:
            raise ValueError(
                "give in_frames and scale: the model has no `in_frames` / `scale` attributes"
            )
        if parallel < 1:
            raise ValueError(f"parallel must be >= 1, got {parallel}")
        if parallel > 1 and device.startswith("cuda"):
            raise ValueError(
                "parallel parts are for the CPU (one per core); a GPU runs the whole batch at "
                "once: use parallel=1"
            )
        self._torch_device = torch.device(device)
        self._model = model.eval().to(self._torch_device)
        self._channels_last = (
            self._torch_device.type == "cuda" if channels_last is None else channels_last
        )
        if self._channels_last:
            self._model = self._model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self._info = ReconstructorInfo(
            name=name,
            backend="torch",
            in_frames=int(in_frames),
            scale=int(scale),
            fixed_shape=None,
            precision=precision,
            device=str(self._torch_device),
            weights_sha256=weights_sha256,
        )
        self._parallel = parallel
        self._threads = None if device.startswith("cuda") else threads
        # Created on first use, so its threads start after a malloc tuning (one shared arena).
        self._pool: ThreadPoolExecutor | None = None

    @property
    def info(self) -> ReconstructorInfo:
        """Static description of this reconstructor."""
        return self._info

    @property
    def model(self) -> torch.nn.Module:
        """The wrapped module (eval mode, on the device)."""
        return self._model

    @property
    def parallel(self) -> int:
        """Parts a multi-stack call is split into at most (run side by side on the CPU)."""
        return self._parallel

    def parts_for(self, shape: tuple[int, ...]) -> int:
        """Parts a call with stacks of `shape` (N, F, Y, X) runs as."""
        if shape[-2] * shape[-1] < MIN_SPLIT_PIXELS:
            return 1
        return max(1, min(self._parallel, shape[0]))

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        import torch

        if self._info.precision == "fp16":
            return torch.autocast(device_type=self._torch_device.type, dtype=torch.float16)
        return contextlib.nullcontext()

    def warmup(self) -> None:
        """One small forward pass, so cuDNN/oneDNN pick kernels before frames flow."""
        self(np.zeros((1, self._info.in_frames, 64, 64), dtype=np.float32))

    def __call__(self, stacks: NDArray[np.float32]) -> NDArray[np.float32]:
        """Reconstruct float32 (N, F, Y, X) in [0, 1] -> float32 (N, 1, s*Y, s*X)."""
        import torch

        check_batch(stacks, self._info.in_frames)
        x = torch.from_numpy(np.ascontiguousarray(stacks, dtype=np.float32))
        n_parts = self.parts_for(x.shape)
        caller = torch.get_num_threads()
        total = self._threads or caller
        try:
            if n_parts == 1:
                return self._forward(x, None if total == caller else total)
            parts = torch.tensor_split(x, n_parts)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self._parallel - 1, thread_name_prefix="livesr-torch"
                )
            per_part = max(1, total // len(parts))
            futures = [self._pool.submit(self._forward, p, per_part) for p in parts[1:]]
            try:
                outs = [self._forward(parts[0], per_part), *(f.result() for f in futures)]
            finally:
                wait(futures)  # never leave a part running into the next call
            return np.concatenate(outs)
        finally:
            # The count is process-wide in torch: give the caller's back.
            if torch.get_num_threads() != caller:
                torch.set_num_threads(caller)

    def _forward(self, x: torch.Tensor, threads: int | None = None) -> NDArray[np.float32]:
        import torch

        if threads is not None:
            torch.set_num_threads(threads)
        x = x.to(self._torch_device, non_blocking=True)
        if self._channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self._autocast():
            y = self._model(x)
        return np.ascontiguousarray(y.float().cpu().numpy())

    def close(self) -> None:
        """Drop the model (frees GPU memory held by it) and the helper threads."""
        import torch

        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self._model = self._model.to("cpu")
        if self._torch_device.type == "cuda":
            torch.cuda.empty_cache()
