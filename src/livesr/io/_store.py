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

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from ._fast_raw import TensorstoreRaw
from ._keys import StackKey
from ._ome import display_window, ome_image_attrs, series_ome_xml
from ._quality import QualityImages
from ._recovery import remove_write_leftovers
from ._replace import remove_run_store
from ._sr_images import SRImages

if TYPE_CHECKING:
    import zarr

__all__ = ["SRStore", "open_store"]

#: Version of the store layout, in the root ``livesr`` attribute.
LAYOUT = "livesr-series-1"
#: Frames per channel sampled from the data for a display window.
_WINDOW_SAMPLES = 6


def _to_jsonable(value: Any) -> Any:
    """Round-trip through JSON so attributes never hold numpy scalars or Paths."""
    return json.loads(json.dumps(value, default=str))


def _positions(positions: int | Sequence[Mapping[str, Any] | str]) -> list[dict[str, Any]]:
    """Position descriptions: ``{"name", "x_um", "y_um", "z_um"}`` (coordinates may be None)."""
    if isinstance(positions, int):
        if positions < 1:
            raise ValueError(f"a store needs at least one position, got {positions}")
        return [
            {"name": f"p{i}", "x_um": None, "y_um": None, "z_um": None} for i in range(positions)
        ]
    out = []
    for i, pos in enumerate(positions):
        entry = {"name": pos} if isinstance(pos, str) else dict(pos)
        out.append(
            {
                "name": str(entry.get("name") or f"p{i}"),
                "x_um": entry.get("x_um"),
                "y_um": entry.get("y_um"),
                "z_um": entry.get("z_um"),
            }
        )
    if not out:
        raise ValueError("a store needs at least one position")
    return out


def _by_position(
    keys: Iterable[StackKey | tuple[int, int, int, int]],
) -> dict[int, list[StackKey]]:
    groups: dict[int, list[StackKey]] = defaultdict(list)
    for key in keys:
        groups[int(key[1])].append(StackKey(*key))
    return groups


class SRStore(SRImages, QualityImages):
    """An OME-Zarr run store with raw, wide-field and super-resolved images per position.

    Create one with `SRStore.create` (new run) or open an existing one with `open_store` /
    `SRStore.open` (read, or append/backfill with ``mode="r+"``). Stacks are addressed by
    `StackKey` ``(t, p, z, c)``; masks and per-stack values come back as (T, P, Z, C) arrays.
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
        pos = _positions(positions)
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
                "livesr": _to_jsonable(info),
            }
        )
        ome = group.create_group("OME")
        ome.attrs.update({"ome": {"version": "0.5", "series": [str(p) for p in range(len(pos))]}})
        t0 = int(n_timepoints or 0)
        n_c = len(channels)
        y, x = int(frame_shape[0]), int(frame_shape[1])
        compressors: Any = None if compression == "none" else "auto"
        for p, entry in enumerate(pos):
            pgroup = group.create_group(str(p))
            pgroup.attrs.update({"livesr": _to_jsonable({"position": p, **entry})})
            pgroup.create_array(
                "raw",
                shape=(t0, n_c, n_patterns, n_z, y, x),
                chunks=(1, 1, 1, 1, y, x),
                dtype="uint16",
                fill_value=0,
                dimension_names=["t", "c", "pattern", "z", "y", "x"],
                compressors=compressors,
            )
            store._create_mask(f"{p}/raw_done", t0)
            store._create_image(f"{p}/wf", "wf", t0, (y, x), pixel_size_um)
        store.add_sr("sr")
        store._write_ome_xml()
        return store

    def _create_image(
        self, path: str, name: str, n_t: int, shape: tuple[int, int], pixel_size_um: float
    ) -> None:
        """An OME image group at `path` (created unless it exists) with its array ``0``."""
        import zarr

        info = self.info
        channels = info["channels"]
        n_z = int(info["n_z"])
        group = self._group[path] if path in self._group else self._group.create_group(path)
        assert isinstance(group, zarr.Group)
        # OME-Zarr forbids a zero scale; an interval of 0 (as fast as possible) is written as 1.
        dt = info["interval_s"] if info["interval_s"] > 0 else 1.0
        ome = ome_image_attrs(
            name, channels, dt_s=dt, pixel_size_um=pixel_size_um, z_step_um=info["z_step_um"]
        )
        group.attrs.update({"ome": ome})
        compressors: Any = None if info.get("compression") == "none" else "auto"
        zarr.Group.create_array(
            group,
            "0",
            shape=(n_t, len(channels), n_z, *shape),
            chunks=(1, 1, 1, *shape),
            dtype="float32",
            fill_value=0.0,
            dimension_names=["t", "c", "z", "y", "x"],
            compressors=compressors,
        )

    def _write_ome_xml(self) -> None:
        """(Re)write ``OME/METADATA.ome.xml``: one OME-XML Image per series (position)."""
        info = self.info
        s = int(info["scale"])
        y, x = info["frame_shape"]
        images = [
            {
                "name": entry["name"],
                "size": (self.n_timepoints, len(self.channels), self.n_z, y * s, x * s),
                "type": "float",
                "pixel_size_um": info["pixel_size_um"] / s,
                "z_step_um": info["z_step_um"],
                "dt_s": info["interval_s"] if info["interval_s"] > 0 else 1.0,
                "channels": self.channels,
            }
            for entry in info["positions"]
        ]
        (self.path / "OME" / "METADATA.ome.xml").write_text(series_ome_xml(images))

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
        self._group.attrs.update({"livesr": _to_jsonable({**self.info, **changes})})

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

    def raw_array(self, p: int = 0) -> zarr.Array:
        """uint16 (T, C, F, Z, Y, X) raw frames of position `p`."""
        return self._array(f"{p}/raw")

    def wf_array(self, p: int = 0) -> zarr.Array:
        """float32 (T, C, Z, Y, X) wide-field image of position `p`."""
        return self._array(f"{p}/wf/0")

    @property
    def raw(self) -> zarr.Array:
        """Raw frames of position 0 (`raw_array`)."""
        return self.raw_array(0)

    @property
    def wf(self) -> zarr.Array:
        """Wide-field image of position 0 (`wf_array`)."""
        return self.wf_array(0)

    def read_stack(self, key: StackKey | tuple[int, int, int, int]) -> NDArray[np.uint16]:
        """Raw stack `key` (t, p, z, c) as uint16 (F, Y, X), frames angle-major."""
        t, p, z, c = key
        return np.asarray(self.raw_array(p)[t, c, :, z], dtype=np.uint16)

    # ------------------------------------------------------------------ writing
    def _ensure_t(self, t: int, names: Sequence[str]) -> None:
        for name in names:
            arr = self._array(name)
            if arr.shape[0] <= t:
                # Grow in blocks so long runs resize (rewrite metadata) rarely.
                new_t = max(t + 1, arr.shape[0] + min(64, max(1, arr.shape[0])))
                arr.resize((new_t, *arr.shape[1:]))

    def _raw_names(self, p: int) -> tuple[str, str, str]:
        return (f"{p}/raw", f"{p}/raw_done", f"{p}/wf/0")

    def write_raw_frame(
        self, key: StackKey | tuple[int, int, int, int], pattern: int, frame: NDArray[np.uint16]
    ) -> None:
        """Write one raw frame (Y, X) uint16 of stack `key` at pattern position `pattern`."""
        self.write_raw_frames(key, pattern, np.asarray(frame)[None])

    def write_raw_frames(
        self,
        key: StackKey | tuple[int, int, int, int],
        first_pattern: int,
        frames: NDArray[np.uint16],
    ) -> None:
        """Write consecutive raw frames (n, Y, X) of stack `key` from `first_pattern` on.

        Uses tensorstore when it is installed (the same zarr v3 chunks, written by C++ with
        the GIL released: about half the CPU of zarr-python per frame, and the camera's
        threads keep running meanwhile), else zarr-python.
        """
        t, p, z, c = key
        self._ensure_t(t, self._raw_names(p))
        fast = self._ts_raw.get(p)
        if fast is None:
            fast = self._ts_raw[p] = TensorstoreRaw(self.path / str(p) / "raw")
        if not fast.write((t, c, slice(first_pattern, first_pattern + len(frames)), z), frames):
            self.raw_array(p)[t, c, first_pattern : first_pattern + len(frames), z] = frames

    def write_wf(
        self,
        key: StackKey | tuple[int, int, int, int],
        image: NDArray[np.float32],
        *,
        mark_done: bool = True,
    ) -> None:
        """Write the wide-field image (Y, X) of stack `key` and mark its raw stack complete.

        With ``mark_done=False`` the caller marks it later with `mark_raw_done` (one write for
        several stacks).
        """
        t, p, z, c = key
        self._ensure_t(t, self._raw_names(p))
        self.wf_array(p)[t, c, z] = image
        if mark_done:
            self.mark_raw_done([StackKey(t, p, z, c)])

    def mark_raw_done(self, keys: Sequence[StackKey | tuple[int, int, int, int]]) -> None:
        """Mark raw stacks complete, one write per position (their frames must be written)."""
        for p, group in _by_position(keys).items():
            self._ensure_t(max(k.t for k in group), self._raw_names(p))
            ts, cs, zs = ([k.t for k in group], [k.c for k in group], [k.z for k in group])
            self._array(f"{p}/raw_done").vindex[ts, cs, zs] = True

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

    # ------------------------------------------------------------------ display
    def update_display(self) -> None:
        """Set every image's OMERO windows from its data and the OME-XML sizes.

        Per image and channel, one window for all positions (so positions compare), from the
        0.1-99.9 percentiles of a few written frames spread over the run. Images without data
        keep their windows.
        """
        raw_done = self.raw_done()
        images: list[tuple[str, NDArray[np.bool_]]] = [("wf", raw_done)]
        images += [(name, self.sr_done(name)) for name in self.sr_names()]
        for name, done in images:
            windows = []
            for c in range(len(self.channels)):
                keys = np.argwhere(done[..., c])
                n = min(len(keys), _WINDOW_SAMPLES)
                picks = keys[np.linspace(0, len(keys) - 1, n).astype(int)] if n else keys
                arrays = [self._image_array(name, int(p)) for p in range(self.n_positions)]
                samples = [np.asarray(arrays[p][t, c, z]) for t, p, z in picks]
                windows.append(display_window(samples))
            for p in range(self.n_positions):
                group = self._group[self._image_path(name, p)]
                ome: dict[str, Any] = _to_jsonable(group.attrs["ome"])
                omero: dict[str, Any] = ome["omero"]
                channels: list[dict[str, Any]] = omero["channels"]
                for ch, window in zip(channels, windows, strict=True):
                    if window is not None:
                        ch["window"] = window
                omero["channels"] = channels
                ome["omero"] = omero
                group.attrs["ome"] = ome
        self._write_ome_xml()

    def _image_path(self, name: str, p: int) -> str:
        """Group of image `name` (``"wf"``, ``"sr"``, ``"sr_<model>"``) of position `p`."""
        return str(p) if name == "sr" else f"{p}/{name}"

    def _image_array(self, name: str, p: int) -> zarr.Array:
        return self._array(f"{self._image_path(name, p)}/0")


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
