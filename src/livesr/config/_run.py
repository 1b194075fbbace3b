"""A live run: where it is stored, the pipeline settings, and opt-in host tuning."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
)

from ._architectures import ModelConfig
from ._base import FrozenConfig
from ._calibration import Calibration
from ._instrument import CameraConfig, OpticsConfig, PatternConfig
from ._reconstructor import BackendConfig


class WriterConfig(FrozenConfig):
    """Where and how a run is stored.

    Attributes
    ----------
    path : Path
        The OME-Zarr run store to create.
    overwrite : bool
        Replace an existing store instead of refusing to start.
    compression : {"zstd", "none"}
        Lossless compression of every array; ``"none"`` costs disk but halves the writer's CPU
        per raw frame (for fast cameras on small machines).
    raw_backlog_mb : float
        Most raw frame data held in memory on its way to disk. When the disk falls this far
        behind, the acquisition thread waits for the writer (the camera's own buffer holds
        frames meanwhile) and the run says so: memory stays bounded and no frame is dropped.
    """

    path: Path = Path("run.zarr")
    overwrite: bool = False
    compression: Literal["zstd", "none"] = "zstd"
    raw_backlog_mb: float = Field(256.0, gt=0)


class PipelineConfig(FrozenConfig):
    """Everything a live run needs, written into the store's attributes."""

    optics: OpticsConfig = Field(default_factory=OpticsConfig)
    pattern: PatternConfig = Field(default_factory=PatternConfig)
    camera: CameraConfig = Field(default_factory=CameraConfig)
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    backend: BackendConfig = Field(default_factory=BackendConfig)
    writer: WriterConfig = Field(default_factory=WriterConfig)
    #: The instrument's calibrated pattern (``livesr calibrate``) for conventional SIM: k is
    #: refitted only near it and a rejected refit uses it. None: `pattern` is the prior, and a
    #: rejected fit falls back to it with status "nominal" (acquisition never stops for it).
    calibration: Calibration | None = None
    #: Stacks waiting for live SR before the oldest is skipped (and backfilled at the end).
    max_backlog: int = Field(4, ge=1)
    #: Where live reconstruction runs. "process": a child process per channel (CPU backends
    #: then never wait for the interpreter lock held by acquisition and writer threads);
    #: "thread": the inference thread itself; "auto": a process for network models on the CPU
    #: built by name (`StackReconstructor.create`), a thread otherwise (GPU, Wiener, objects).
    inference_mode: Literal["auto", "process", "thread"] = "auto"
    #: Longest one reconstructor call may take. A call that has not returned by then is
    #: abandoned: its channel gets no more SR this run (a child process is killed), the run
    #: ends "finished with errors", and ``livesr reprocess`` completes the SR.
    reconstruct_timeout_s: float = Field(120.0, gt=0)
    #: Quality control of live SR (`livesr.qc`): a record (rsp, chi^2, out-of-band energy,
    #: photons, pattern fit, ...) and a camera-grid error map for every `qc_every`-th time
    #: point of every channel with SR, on a thread of its own; 0 turns it off.
    qc_every: int = Field(1, ge=0)


class HostTuning(FrozenConfig):
    """Process-wide tuning livesr may apply, only where the application opts in.

    Off by default: a library leaves its host process as it found it. The ``livesr demo``,
    ``acquire`` and ``bench`` commands apply `application` with ``livesr._host.host_tuning``,
    which restores everything but ``malloc`` when it exits. docs/benchmarks.md has the
    measurements behind each setting.

    Attributes
    ----------
    malloc : bool
        Tune glibc's allocator so CPU inference reuses its large activations instead of
        page-faulting them in per op (2.8x slower batch-2 DFCAN without it). Lasts for the
        life of the process (glibc has no way back); ``LIVESR_MALLOC_TUNING=0`` still opts
        out. Inference children apply it too.
    pin_threads : bool
        During a live run with inference in child processes (Linux, 2+ cores): the children
        get cores of their own (the last ones, as many as their threads) and this process's
        threads keep to the rest, so neither side stalls the other; restored at the run's end.
    nice : int
        Nice increment of a live run's inference thread and child processes (Linux), so CPU
        reconstruction yields the cores to acquisition; both end with the run. 0: unchanged.
    torch_threads : int, optional
        torch's intra-op threads for the process while applied (restored on exit); None
        leaves torch's setting. A reconstructor's own ``threads`` apply to its calls only.
    """

    malloc: bool = False
    pin_threads: bool = False
    nice: int = Field(0, ge=0, le=19)
    torch_threads: int | None = Field(None, ge=1)

    @classmethod
    def off(cls) -> HostTuning:
        """Change nothing process-wide (the default for library use)."""
        return cls()

    @classmethod
    def application(cls, torch_threads: int | None = None) -> HostTuning:
        """What the ``livesr`` commands apply: malloc tuned, pinned cores, inference at nice 10."""
        return cls(malloc=True, pin_threads=True, nice=10, torch_threads=torch_threads)
