"""The hierarchy of a run store: its groups and OME images, made at creation and grown in t.

`StoreLayout` is the part of `SRStore` that lays the store out (the tree is drawn in
`livesr.io._store`): each position's group with its raw array, raw_done mask and wide-field
image, every OME image group with its ``0`` array, the series' OME-XML, and growth of the
``t`` axis as a run goes on. The run description itself is written by `SRStore.create`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._ome import ome_image_attrs, series_ome_xml
from ._store_parts import StoreParts

if TYPE_CHECKING:
    import zarr

__all__ = ["LAYOUT", "StoreLayout", "position_entries", "to_jsonable"]

#: Version of the store layout, in the root ``livesr`` attribute.
LAYOUT = "livesr-series-1"


def to_jsonable(value: Any) -> Any:
    """Round-trip through JSON so attributes never hold numpy scalars or Paths.

    Parameters
    ----------
    value : Any
        A value for zarr attributes; what JSON cannot hold is written as its ``str``.

    Returns
    -------
    Any
        The same value made of JSON types only.
    """
    return json.loads(json.dumps(value, default=str))


def position_entries(positions: int | Sequence[Mapping[str, Any] | str]) -> list[dict[str, Any]]:
    """Position descriptions: ``{"name", "x_um", "y_um", "z_um"}`` (coordinates may be None).

    Parameters
    ----------
    positions : int or sequence
        A number of positions (named ``p<i>``), or one name or mapping per position.

    Returns
    -------
    list of dict
        One description per position, unnamed ones named ``p<i>``.

    Raises
    ------
    ValueError
        For no position at all.
    """
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


class StoreLayout(StoreParts):
    """The layout half of `SRStore` (a mixin: the store supplies group, info and arrays)."""

    if TYPE_CHECKING:

        def _create_mask(
            self, name: str, n_t: int, dtype: str = "bool", fill_value: Any = False
        ) -> None: ...

    def _create_positions(
        self,
        positions: Sequence[Mapping[str, Any]],
        *,
        n_patterns: int,
        n_z: int,
        frame_shape: tuple[int, int],
        n_t: int,
        pixel_size_um: float,
        compression: Literal["zstd", "none"],
    ) -> None:
        """The series list and one group per position: raw, raw_done and the wide-field image.

        Parameters
        ----------
        positions : sequence of mapping
            `position_entries`, stored in each position group's ``livesr`` attribute.
        n_patterns, n_z : int
            Raw frames per SIM stack (F) and z planes (Z).
        frame_shape : (Y, X)
            Raw frame size; one chunk per raw frame.
        n_t : int
            Time points to preallocate (0: grown as frames arrive).
        pixel_size_um : float
            Raw pixel size, the wide-field image's scale.
        compression : {"zstd", "none"}
            Compression of the raw array (the images follow the stored description).
        """
        ome = self._group.create_group("OME")
        series = [str(p) for p in range(len(positions))]
        ome.attrs.update({"ome": {"version": "0.5", "series": series}})
        n_c = len(self.channels)
        y, x = int(frame_shape[0]), int(frame_shape[1])
        compressors: Any = None if compression == "none" else "auto"
        for p, entry in enumerate(positions):
            pgroup = self._group.create_group(str(p))
            pgroup.attrs.update({"livesr": to_jsonable({"position": p, **entry})})
            pgroup.create_array(
                "raw",
                shape=(n_t, n_c, n_patterns, n_z, y, x),
                chunks=(1, 1, 1, 1, y, x),
                dtype="uint16",
                fill_value=0,
                dimension_names=["t", "c", "pattern", "z", "y", "x"],
                compressors=compressors,
            )
            self._create_mask(f"{p}/raw_done", n_t)
            self._create_image(f"{p}/wf", "wf", n_t, (y, x), pixel_size_um)

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

    def _image_path(self, name: str, p: int) -> str:
        """Group of image `name` (``"wf"``, ``"sr"``, ``"sr_<model>"``) of position `p`."""
        return str(p) if name == "sr" else f"{p}/{name}"

    def _image_array(self, name: str, p: int) -> zarr.Array:
        return self._array(f"{self._image_path(name, p)}/0")

    def _ensure_t(self, t: int, names: Sequence[str]) -> None:
        """Grow arrays `names` along t so that time point `t` fits."""
        for name in names:
            arr = self._array(name)
            if arr.shape[0] <= t:
                # Grow in blocks so long runs resize (rewrite metadata) rarely.
                new_t = max(t + 1, arr.shape[0] + min(64, max(1, arr.shape[0])))
                arr.resize((new_t, *arr.shape[1:]))
