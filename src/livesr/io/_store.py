"""The run store: one OME-Zarr 0.5 (zarr v3) hierarchy per acquisition, readable from the root.

Layout, bioformats2raw-style: one OME image (series) per stage position. ``T`` grows while the
run goes on; ``C`` channels, ``Z`` planes (1 without a z plan), ``F`` raw frames per SIM
stack::

    run.zarr/
        zarr.json           "ome": {"version": "0.5", "bioformats2raw.layout": 3}
                            "livesr": run description (channels, positions, pattern, scales),
                            the useq sequence, config and calibration, versions, the
                            ReconstructorSpec per channel of every SR image, run status
        OME/zarr.json       "ome": {"series": ["0", "1", ...]}: one series per position
        OME/METADATA.ome.xml  the series as OME-XML (what napari-ome-zarr and Bio-Formats read)
        0/                  position 0: the SR image, float32 (T, C, Z, sY, sX) at 0/0,
                            axes t c z y x with physical scale (s, -, um, um/scale, um/scale)
            raw             uint16 (T, C, F, Z, Y, X) raw frames, one chunk per frame
            raw_done        bool (T, C, Z): every raw frame of the stack is on disk
            wf/             the wide-field image (stack mean), float32 (T, C, Z, Y, X) at wf/0
            sr_done         bool (T, C, Z): the SR frame is written
            sr_stacks/...   (T, C, Z) per-stack values of sr (normalisation, timing, backend)
            sr_<name>/      extra SR images of other models (OME images), with
                            sr_<name>_done and sr_<name>_stacks next to them
        1/                  position 1, the same
        ...

Why this shape: OME-Zarr 0.5 has one way to keep several images in one hierarchy that
readers open from the root, the (transitional) bioformats2raw layout; a plate is for wells.
Each position is one series, an image in its own right, so validators (ome-zarr-models,
yaozarrs), napari-ome-zarr and OMERO open every position from the root. The series image is
the SR (the run's product); the wide-field image is an OME image nested in it (opened from its
own path), so WF and SR keep their own pixel sizes. ``raw`` is a plain zarr array with
dimension names: an OME image has at most one axis besides time and space, and the raw data
have two (channel and pattern) plus z, six axes in all. The OMERO windows are computed from
the data when the run ends (`SRStore.set_status`), and by ``livesr reprocess``.

Everything is written chunk by chunk as frames arrive, so the store is readable while the run
goes on and after a crash: ``raw_done`` and ``sr_done`` say what is there, and zarr's local
store writes each chunk atomically (temporary file + rename), so a killed process leaves no
half-written chunk. Stores of livesr before this layout (a single ``raw`` at the root) are not
readable by this version.

Threads: a store may be written from several threads as long as each array has one writer
(the pipeline writes raw/wf from its writer thread and sr/sr_done from its SR writer thread).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._display import DisplayWindows
from ._fast_raw import TensorstoreRaw
from ._quality import QualityImages
from ._raw_images import RawImages
from ._recovery import remove_write_leftovers
from ._replace import remove_run_store
from ._sr_images import SRImages
from ._store_layout import LAYOUT, StoreLayout, position_entries, to_jsonable

if TYPE_CHECKING:
    import zarr

__all__ = ["SRStore", "open_store"]


class SRStore(RawImages, SRImages, QualityImages, DisplayWindows, StoreLayout):
    """An OME-Zarr run store with raw, wide-field and super-resolved images per position.

    Create one with `SRStore.create` (new run) or open an existing one with `open_store` /
    `SRStore.open` (read, or append/backfill with ``mode="r+"``). Stacks are addressed by
    `StackKey` ``(t, p, z, c)``; masks and per-stack values come back as (T, P, Z, C) arrays.

    Made of parts, one job each: `StoreLayout` (groups, OME images, t growth), `RawImages`
    (raw frames, wide-field), `SRImages` (SR images, provenance), `QualityImages` (quality
    checks), `DisplayWindows` (display windows from the data); this class creates, opens
    and describes the store and records the run's status.
    """

    def __init__(self, group: zarr.Group, path: Path) -> None:
        self._group = group
        self.path = path
        # Looking an array up in the group reads its metadata from disk: cache the handles.
        self._arrays: dict[str, zarr.Array] = {}
        self._ts_raw: dict[int, TensorstoreRaw] = {}

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
        positions: int | Sequence[Mapping[str, Any] | str] = 1,
        n_z: int = 1,
        pixel_size_um: float = 1.0,
        z_step_um: float = 1.0,
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
        positions : int or sequence
            Number of stage positions, or one description per position: a name or a mapping
            with ``name`` and the stage coordinates ``x_um``, ``y_um``, ``z_um``.
        n_z : int
            Z planes per position.
        pixel_size_um, z_step_um, interval_s : float
            Physical scales written into the OME metadata (an interval of 0, "as fast as
            possible", is written as 1 s, OME-Zarr forbidding a zero scale).
        attrs : mapping, optional
            JSON-ready run description stored under the ``livesr`` attribute (the sequence,
            config, calibration ...).
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
        if n_patterns < 1 or scale < 1 or n_z < 1:
            raise ValueError(f"n_patterns={n_patterns}, scale={scale}, n_z={n_z} must be >= 1")
        pos = position_entries(positions)
        group = zarr.open_group(path, mode="w-", zarr_format=3)
        store = cls(group, path)
        info: dict[str, Any] = {
            "layout": LAYOUT,
            "channels": list(channels),
            "positions": pos,
            "n_z": int(n_z),
            "n_patterns": int(n_patterns),
            "frame_shape": [int(frame_shape[0]), int(frame_shape[1])],
            "scale": int(scale),
            "pixel_size_um": float(pixel_size_um),
            "z_step_um": float(z_step_um) if z_step_um > 0 else 1.0,
            "interval_s": float(interval_s),
            "compression": compression,
            "status": "running",
            "sr_images": {},
            **dict(attrs or {}),
        }
        group.attrs.update(
            {
                "ome": {"version": "0.5", "bioformats2raw.layout": 3},
                "livesr": to_jsonable(info),
            }
        )
        store._create_positions(
            pos, n_patterns=n_patterns, n_z=n_z, frame_shape=frame_shape,
            n_t=int(n_timepoints or 0), pixel_size_um=pixel_size_um, compression=compression,
        )  # fmt: skip
        store.add_sr("sr")
        store._write_ome_xml()
        return store

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | Path, mode: Literal["r", "r+"] = "r") -> SRStore:
        """Open an existing run store for reading (``"r"``) or appending (``"r+"``)."""
        import zarr

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no run store at {path}")
        group = zarr.open_group(path, mode=mode, zarr_format=3)
        info = group.attrs.get("livesr")
        if not isinstance(info, dict):
            raise ValueError(f"{path} is a zarr group but not a livesr run store (no livesr)")
        if info.get("layout") != LAYOUT:
            raise ValueError(
                f"{path} is a livesr run store of an older layout ({info.get('layout')!r}, "
                f"this livesr reads {LAYOUT!r}: one OME image per position); open it with the "
                "livesr version that wrote it"
            )
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
        self._group.attrs.update({"livesr": to_jsonable({**self.info, **changes})})

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names along the ``c`` axis."""
        return tuple(self.info["channels"])

    @property
    def positions(self) -> tuple[str, ...]:
        """Position names; position ``p`` is the image (series) at path ``"p"``."""
        return tuple(str(p["name"]) for p in self.info["positions"])

    @property
    def n_positions(self) -> int:
        """Number of stage positions (series)."""
        return len(self.info["positions"])

    @property
    def n_z(self) -> int:
        """Z planes per position."""
        return int(self.info["n_z"])

    @property
    def n_patterns(self) -> int:
        """Raw frames per SIM stack."""
        return int(self.info["n_patterns"])

    @property
    def n_timepoints(self) -> int:
        """Current length of the ``t`` axis (the longest of the positions)."""
        return max(int(self.raw_array(p).shape[0]) for p in range(self.n_positions))

    @property
    def status(self) -> str:
        """``"running"``, else the final `livesr.pipeline.PipelineSummary` status."""
        return str(self.info["status"])

    def set_status(self, status: str, **extra: Any) -> None:
        """Record the run's state (and e.g. its summary) in the attributes.

        A final state (anything but ``"running"``) also sets every image's OMERO display
        windows from the data (`update_display`) and the series' OME-XML sizes.
        """
        self._update_info(status=status, **extra)
        if status != "running":
            self.update_display()

    # ------------------------------------------------------------------ end of run
    def trim(self, n_timepoints: int) -> None:
        """Shrink every array to `n_timepoints` (drops the growth slack after a run)."""
        for p in range(self.n_positions):
            names = list(self._raw_names(p))
            for name in self.info["sr_images"]:
                names += self.sr_array_names(name, p)
                names += self.quality_array_names(name, p)
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
