"""The run store: one OME-Zarr 0.5 (zarr v3) group per acquisition.

Layout (``T`` grows while the run goes on, ``C`` channels, ``F`` raw frames per SIM stack)::

    run.zarr/
        zarr.json        attributes: "ome" {"version": "0.5"} and "livesr" (config, sequence,
                         channels, pattern, versions, the ReconstructorSpec per channel of
                         every SR image, run status): written at the start and the end
        raw              uint16 (T, C, F, Y, X), dims (t, c, pattern, y, x), one chunk per frame
        raw_done         bool (T, C): every raw frame of stack (t, c) is on disk
        wf/0             float32 (T, C, Y, X): wide-field (mean of the stack), OME image
        sr/0             float32 (T, C, sY, sX): super-resolved, OME image
        sr_done          bool (T, C): sr[t, c] holds a reconstruction
        sr_stacks/...    (T, C) per-stack values of sr: normalisation, timing, backend
        sr_<name>/0      extra SR images of other models, with sr_<name>_done/_stacks

(SR images and their provenance: see `livesr.io._sr_images`.)

``raw`` is a plain zarr array (OME-Zarr 0.5 allows only one non-space, non-time axis in an image,
and ``raw`` has both a channel and a pattern axis); ``wf`` and ``sr`` are OME multiscale images
that napari and ndv open. Everything is written chunk by chunk as frames arrive, so the store
is readable while the run goes on and after a crash: ``raw_done`` and ``sr_done`` say what is
there, and zarr's local store writes each chunk atomically (temporary file + rename), so a
killed process leaves no half-written chunk.

Threads: a store may be written from several threads as long as each array has one writer
(the pipeline writes raw/wf from its writer thread and sr/sr_done from its inference thread).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from ._fast_raw import TensorstoreRaw
from ._ome import ome_image_attrs
from ._recovery import remove_write_leftovers
from ._replace import remove_run_store
from ._sr_images import SRImages

if TYPE_CHECKING:
    import zarr

__all__ = ["SRStore", "open_store"]


def _to_jsonable(value: Any) -> Any:
    """Round-trip through JSON so attributes never hold numpy scalars or Paths."""
    return json.loads(json.dumps(value, default=str))


class SRStore(SRImages):
    """An OME-Zarr run store with raw, wide-field and super-resolved arrays.

    Create one with `SRStore.create` (new run) or open an existing one with `open_store` /
    `SRStore.open` (read, or append/backfill with ``mode="r+"``).
    """

    def __init__(self, group: zarr.Group, path: Path) -> None:
        self._group = group
        self.path = path
        # Looking an array up in the group reads its metadata from disk: cache the handles.
        self._arrays: dict[str, zarr.Array] = {}
        self._ts_raw = TensorstoreRaw(path / "raw")

    def _array(self, name: str) -> zarr.Array:
        if name not in self._arrays:
            self._arrays[name] = self._group[name]  # type: ignore[assignment]
        return self._arrays[name]

    # ------------------------------------------------------------------ creation
    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        channels: Sequence[str],
        n_patterns: int,
        frame_shape: tuple[int, int],
        scale: int,
        n_timepoints: int | None = None,
        pixel_size_um: float = 1.0,
        interval_s: float = 1.0,
        attrs: Mapping[str, Any] | None = None,
        overwrite: bool = False,
        compression: Literal["zstd", "none"] = "zstd",
    ) -> SRStore:
        """Create a new run store.

        Parameters
        ----------
        path : str or Path
            Directory of the store (conventionally ``*.zarr``).
        channels : sequence of str
            Channel names, in the order of the ``c`` axis.
        n_patterns : int
            Raw frames per SIM stack (F).
        frame_shape : (Y, X)
            Raw frame size in pixels.
        scale : int
            SR pixels per raw pixel along each axis.
        n_timepoints : int or None
            Number of time points when known (arrays are preallocated); None grows on demand.
        pixel_size_um, interval_s : float
            Physical scales written into the OME metadata.
        attrs : mapping, optional
            JSON-ready run description stored under the ``livesr`` attribute.
        overwrite : bool
            Replace an existing store at `path` instead of raising.
        compression : {"zstd", "none"}
            Lossless compression of every array.

        Raises
        ------
        FileExistsError
            If `path` exists and `overwrite` is False, or (`NotARunStoreError`) it exists
            and is not a livesr run store, which is never deleted.
        """
        import zarr

        path = Path(path)
        if path.exists():
            if not overwrite:
                raise FileExistsError(
                    f"output {path} already exists: choose another path, delete it, or pass "
                    "overwrite=True (--overwrite on the command line)"
                )
            remove_run_store(path)
        if not channels:
            raise ValueError("a store needs at least one channel")
        if n_patterns < 1 or scale < 1:
            raise ValueError(f"n_patterns={n_patterns} and scale={scale} must be >= 1")
        group = zarr.open_group(path, mode="w-", zarr_format=3)
        store = cls(group, path)
        info: dict[str, Any] = {
            "channels": list(channels),
            "n_patterns": int(n_patterns),
            "frame_shape": [int(frame_shape[0]), int(frame_shape[1])],
            "scale": int(scale),
            "pixel_size_um": float(pixel_size_um),
            "interval_s": float(interval_s),
            "compression": compression,
            "status": "running",
            "sr_images": {},
            **dict(attrs or {}),
        }
        group.attrs.update({"ome": {"version": "0.5"}, "livesr": _to_jsonable(info)})
        t0 = int(n_timepoints or 0)
        n_c = len(channels)
        y, x = int(frame_shape[0]), int(frame_shape[1])
        compressors: Any = None if compression == "none" else "auto"
        group.create_array(
            "raw",
            shape=(t0, n_c, n_patterns, y, x),
            chunks=(1, 1, 1, y, x),
            dtype="uint16",
            fill_value=0,
            dimension_names=["t", "c", "pattern", "y", "x"],
            compressors=compressors,
        )
        store._create_mask("raw_done", t0)
        store._create_image("wf", t0, (y, x), pixel_size_um)
        store.add_sr("sr")
        return store

    def _create_image(
        self, name: str, n_t: int, shape: tuple[int, int], pixel_size_um: float
    ) -> None:
        import zarr

        info = self.info
        channels = info["channels"]
        group = self._group.create_group(name)
        # OME-Zarr forbids a zero scale; an interval of 0 (as fast as possible) is written as 1.
        dt = info["interval_s"] if info["interval_s"] > 0 else 1.0
        group.attrs.update({"ome": ome_image_attrs(name, channels, dt, pixel_size_um)})
        compressors: Any = None if info.get("compression") == "none" else "auto"
        zarr.Group.create_array(
            group,
            "0",
            shape=(n_t, len(channels), *shape),
            chunks=(1, 1, *shape),
            dtype="float32",
            fill_value=0.0,
            dimension_names=["t", "c", "y", "x"],
            compressors=compressors,
        )

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | Path, mode: Literal["r", "r+"] = "r") -> SRStore:
        """Open an existing run store for reading (``"r"``) or appending (``"r+"``)."""
        import zarr

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no run store at {path}")
        group = zarr.open_group(path, mode=mode, zarr_format=3)
        if "livesr" not in group.attrs or "raw" not in group:
            raise ValueError(f"{path} is a zarr group but not a livesr run store (no raw/livesr)")
        if mode == "r+":  # the next writer cleans what a killed one left (`_recovery`)
            remove_write_leftovers(path)
        return cls(group, path)

    # ------------------------------------------------------------------ description
    @property
    def group(self) -> zarr.Group:
        """The root zarr group."""
        return self._group

    @property
    def info(self) -> dict[str, Any]:
        """The ``livesr`` root attribute (a copy)."""
        info: dict[str, Any] = dict(self._group.attrs["livesr"])  # type: ignore[arg-type]
        return info

    def _update_info(self, **changes: Any) -> None:
        self._group.attrs.update({"livesr": _to_jsonable({**self.info, **changes})})

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names along the ``c`` axis."""
        return tuple(self.info["channels"])

    @property
    def n_patterns(self) -> int:
        """Raw frames per SIM stack."""
        return int(self.info["n_patterns"])

    @property
    def n_timepoints(self) -> int:
        """Current length of the ``t`` axis."""
        return int(self.raw.shape[0])

    @property
    def status(self) -> str:
        """``"running"``, else the final `livesr.pipeline.PipelineSummary` status."""
        return str(self.info["status"])

    def set_status(self, status: str, **extra: Any) -> None:
        """Record the run's final state (and e.g. its summary) in the attributes."""
        self._update_info(status=status, **extra)

    @property
    def raw(self) -> zarr.Array:
        """uint16 (T, C, F, Y, X) raw frames."""
        return self._array("raw")

    @property
    def wf(self) -> zarr.Array:
        """float32 (T, C, Y, X) wide-field images."""
        return self._array("wf/0")

    def read_stack(self, t: int, c: int) -> NDArray[np.uint16]:
        """Raw stack (t, c) as uint16 (F, Y, X), frames angle-major."""
        return np.asarray(self.raw[t, c], dtype=np.uint16)

    # ------------------------------------------------------------------ writing
    def _ensure_t(self, t: int, names: Sequence[str]) -> None:
        for name in names:
            arr = self._array(name)
            if arr.shape[0] <= t:
                # Grow in blocks so long runs resize (rewrite metadata) rarely.
                new_t = max(t + 1, arr.shape[0] + min(64, max(1, arr.shape[0])))
                arr.resize((new_t, *arr.shape[1:]))

    def write_raw_frame(self, t: int, c: int, pattern: int, frame: NDArray[np.uint16]) -> None:
        """Write one raw frame (Y, X) uint16 at (t, c, pattern)."""
        self.write_raw_frames(t, c, pattern, np.asarray(frame)[None])

    def write_raw_frames(
        self, t: int, c: int, first_pattern: int, frames: NDArray[np.uint16]
    ) -> None:
        """Write consecutive raw frames (n, Y, X) at (t, c, first_pattern ...) in one call.

        Uses tensorstore when it is installed (the same zarr v3 chunks, written by C++ with
        the GIL released: about half the CPU of zarr-python per frame, and the camera's
        threads keep running meanwhile), else zarr-python.
        """
        self._ensure_t(t, ("raw", "raw_done", "wf/0"))
        if not self._ts_raw.write(t, c, first_pattern, frames):
            self.raw[t, c, first_pattern : first_pattern + len(frames)] = frames

    def write_wf(
        self, t: int, c: int, image: NDArray[np.float32], *, mark_done: bool = True
    ) -> None:
        """Write the wide-field image (Y, X) of stack (t, c) and mark its raw stack complete.

        With ``mark_done=False`` the caller marks it later with `mark_raw_done` (one write for
        several stacks).
        """
        self._ensure_t(t, ("raw", "raw_done", "wf/0"))
        self.wf[t, c] = image
        if mark_done:
            self.mark_raw_done([(t, c)])

    def mark_raw_done(self, stacks: Sequence[tuple[int, int]]) -> None:
        """Mark raw stacks (t, c) complete in one write (their frames must be written)."""
        if not stacks:
            return
        ts, cs = zip(*stacks, strict=True)
        self._ensure_t(max(ts), ("raw", "raw_done", "wf/0"))
        self._array("raw_done").vindex[list(ts), list(cs)] = True

    def trim(self, n_timepoints: int) -> None:
        """Shrink every array to `n_timepoints` (drops the growth slack after a run)."""
        names = ["raw", "raw_done", "wf/0"]
        for name in self.info["sr_images"]:
            names += self.sr_array_names(name)
        for name in names:
            arr = self._array(name)
            if arr.shape[0] != n_timepoints:
                arr.resize((n_timepoints, *arr.shape[1:]))


def open_store(path: str | Path, mode: Literal["r", "r+"] = "r") -> SRStore:
    """Open a run store written by `livesr.acquire.LivePipeline` (or `livesr demo`).

    Parameters
    ----------
    path : str or Path
        The ``*.zarr`` directory.
    mode : {"r", "r+"}
        Read only, or read/write to backfill or add SR images.
    """
    return SRStore.open(path, mode)
