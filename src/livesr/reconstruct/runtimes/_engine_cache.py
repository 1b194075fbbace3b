"""On-disk cache of exported ONNX graphs, TensorRT engines and timing caches.

Exporting DFCAN to ONNX takes seconds and building a TensorRT engine minutes, so both are done
once per (model, shape, ...) and reused. Every artefact is named by a hash of everything that
makes it valid, so a changed model, TensorRT version, GPU or frame size can never pick up a stale
file. The root is ``platformdirs.user_cache_dir("livesr")`` or ``$LIVESR_CACHE_DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from livesr._logger import logger

if TYPE_CHECKING:
    from livesr.models import LoadedModel

__all__ = [
    "EngineKey",
    "atomic_write_bytes",
    "cache_dir",
    "cached_onnx",
    "file_sha256",
    "onnx_cache_path",
    "timing_cache_path",
]


def cache_dir(kind: str = "") -> Path:
    """The cache root (or its sub-folder `kind`), created on demand."""
    root = os.environ.get("LIVESR_CACHE_DIR")
    if root:
        base = Path(root)
    else:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("livesr"))
    path = base / kind if kind else base
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers never see a partial file (two processes may race)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class EngineKey:
    """Everything a serialised TensorRT engine depends on.

    Attributes
    ----------
    onnx_sha256 : str
        Hash of the ONNX file the engine was built from (covers weights and graph).
    trt_version : str
        ``tensorrt.__version__``; plans do not load across versions.
    gpu_name : str
        ``torch.cuda.get_device_name()``; plans are specific to the GPU model.
    compute_capability : str
        ``"major.minor"`` of that GPU.
    precision : str
        ``"fp32"`` or ``"fp16"`` (fp16 trunk, fp32 spectral branch).
    shape : (N, F, Y, X)
        The input shape of the optimisation profile.
    """

    onnx_sha256: str
    trt_version: str
    gpu_name: str
    compute_capability: str
    precision: str
    shape: tuple[int, int, int, int]

    def digest(self) -> str:
        """Stable hex digest of all fields (sha256 of their sorted JSON)."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    @property
    def filename(self) -> str:
        """Readable and unique: ``<shape>_<precision>_<digest[:16]>.engine``."""
        shape = "x".join(str(d) for d in self.shape)
        return f"{shape}_{self.precision}_{self.digest()[:16]}.engine"

    def path(self) -> Path:
        """Where the engine lives in the cache."""
        return cache_dir("tensorrt") / self.filename

    def metadata(self) -> dict[str, object]:
        """JSON-ready fields, written next to the engine for humans."""
        return {**asdict(self), "digest": self.digest()}


def timing_cache_path(trt_version: str, gpu_name: str) -> Path:
    """One timing cache per TensorRT version and GPU, shared by all engine builds."""
    tag = hashlib.sha256(f"{trt_version}|{gpu_name}".encode()).hexdigest()[:16]
    return cache_dir("tensorrt") / f"timing_{tag}.cache"


def onnx_cache_path(
    model_sha256: str,
    shape: tuple[int, ...] | None,
    *,
    precision: str = "fp32",
    extra: str = "",
) -> Path:
    """Where the ONNX export of a model (by its weights hash) for `shape` is cached.

    `shape` None means an export with dynamic batch and frame axes; `extra` is anything else
    the graph depends on (architecture options, exporter versions).
    """
    shape_tag = "dynamic" if shape is None else "x".join(str(d) for d in shape)
    blob = f"{model_sha256}|{shape_tag}|{precision}|{extra}".encode()
    tag = hashlib.sha256(blob).hexdigest()[:16]
    return cache_dir("onnx") / f"{shape_tag}_{precision}_{tag}.onnx"


def cached_onnx(
    loaded: LoadedModel, shape: tuple[int, int, int, int] | None, *, precision: str = "fp32"
) -> Path:
    """Export `loaded` to ONNX once per (weights, shape, precision); return the cached file.

    `shape` None exports dynamic batch and frame axes.
    """
    import torch

    from livesr._version import __version__

    from ._export import export_onnx

    # The graph also depends on run-time options (e.g. the spectrum mode) and on the exporter.
    options = json.dumps(getattr(loaded.module, "options", {}), sort_keys=True, default=str)
    extra = f"{options}|livesr {__version__}|torch {torch.__version__}"
    path = onnx_cache_path(loaded.weights_sha256, shape, precision=precision, extra=extra)
    if path.exists() and not _intact(path):
        # A crash, a full disk or a user can damage a cached graph; livesr made it, so it
        # rebuilds it instead of failing on it forever.
        logger.warning("cached ONNX graph %s is damaged; exporting it again", path)
        path.unlink(missing_ok=True)
    if not path.exists():
        example = shape or (1, loaded.in_frames, 64, 64)
        logger.info("exporting %s to ONNX for shape %s -> %s", loaded.name, shape, path)
        module = loaded.module
        if precision == "fp16":
            import copy

            module = copy.deepcopy(module).half()
        tmp = path.with_suffix(f".{os.getpid()}.tmp.onnx")
        export_onnx(module, tmp, example, dynamic=shape is None)
        _digest_path(path).write_text(file_sha256(tmp))
        os.replace(tmp, path)
    return path


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _intact(path: Path) -> bool:
    """Whether a cached file still has the sha256 recorded when it was written."""
    digest = _digest_path(path)
    return digest.is_file() and digest.read_text().strip() == file_sha256(path)
