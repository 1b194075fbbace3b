"""SR images of a run store and their provenance: static specs and per-stack values.

Each SR image ``name`` (``"sr"``, or ``"sr_<model>"`` for another model) is, in every
position group ``p`` next to the raw data::

    p/0 (sr) or p/<name>/0    float32 (T, C, Z, sY, sX), OME image (sr is the series image)
    p/<name>_done             bool (T, C, Z): the SR frame is written
    p/<name>_stacks/<field>   (T, C, Z) per-stack values, one small array per field
                              (`STACK_FIELDS`)

and in the root ``livesr`` attribute ``sr_images[name] = {"scale": s, "specs": {channel:
ReconstructorSpec}}``. The specs are static: written when the run starts (and once more for
Wiener SIM, when its first stack fixed the pattern parameters), never per frame. What changes
per stack (the normalisation applied, timing, the backend that ran, live or backfilled) goes
into the ``_stacks`` arrays, indexed like ``<name>_done``, so no stack's values overwrite
another's and the root attributes are not rewritten while frames flow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livesr.config import ReconstructorSpec

from ._keys import StackKey
from ._store_parts import StoreParts

if TYPE_CHECKING:
    import zarr

__all__ = ["STACK_FIELDS", "SRImages", "stack_values"]

_T_CHUNK = 256  # time points per chunk of the small (T, C, Z) arrays

#: Per-stack values of an SR image: field -> (dtype, fill value for "not recorded").
#: norm_low/high: raw counts mapped to 0 and 1 (NaN: raw counts fed, no normalisation);
#: reconstruct_ms: time in the reconstructor; latency_ms: last raw frame -> SR (NaN when
#: backfilled or reprocessed); backfill: reconstructed after the live run (from the raw store);
#: backend: code of "<backend>-<device>" that ran, 1-based into the array's ``codes`` attribute;
#: method: code of the method ``--method auto`` chose ("network", "wiener" or "wiener (network
#: refused)" when its raw-consistency check turned the network output down), same coding;
#: signal_photons: the measured signal level that choice was made at.
STACK_FIELDS: dict[str, tuple[str, Any]] = {
    "norm_low": ("float64", np.nan),
    "norm_high": ("float64", np.nan),
    "reconstruct_ms": ("float32", np.nan),
    "latency_ms": ("float32", np.nan),
    "backfill": ("bool", False),
    "backend": ("uint8", 0),
    "method": ("uint8", 0),
    "signal_photons": ("float32", np.nan),
}


def stack_values(
    provenance: Mapping[str, Any], reconstruct_ms: float, latency_ms: float | None
) -> dict[str, Any]:
    """The `STACK_FIELDS` values of one SR frame, from its reconstruction's provenance.

    Parameters
    ----------
    provenance : mapping
        What `StackReconstructor` (or the pipeline's adapter) reported for the frame.
    reconstruct_ms : float
        Time in the reconstructor.
    latency_ms : float or None
        Last raw frame -> SR, live; None when backfilled or reprocessed (from the raw store).
    """
    norm = provenance.get("normalization")
    stats = norm if isinstance(norm, dict) else {}
    values = {
        "norm_low": stats.get("low"),
        "norm_high": stats.get("high"),
        "reconstruct_ms": reconstruct_ms,
        "latency_ms": latency_ms,
        "backfill": latency_ms is None,
        "backend": f"{provenance.get('backend')}-{provenance.get('device')}",
    }
    if "method" in provenance:  # --method auto: the choice for this stack
        values["method"] = provenance["method"]
        values["signal_photons"] = provenance.get("signal_photons")
    return values


class SRImages(StoreParts):
    """The SR-image half of `SRStore` (a mixin: the store supplies group, info and arrays)."""

    if TYPE_CHECKING:

        def _create_image(
            self, path: str, name: str, n_t: int, shape: tuple[int, int], pixel_size_um: float
        ) -> None: ...
        def _image_path(self, name: str, p: int) -> str: ...
        def _image_array(self, name: str, p: int) -> zarr.Array: ...

    def _create_mask(
        self, name: str, n_t: int, dtype: str = "bool", fill_value: Any = False
    ) -> None:
        n_c, n_z = len(self.channels), self.n_z
        self._group.create_array(
            name,
            shape=(n_t, n_c, n_z),
            chunks=(_T_CHUNK, n_c, n_z),
            dtype=dtype,
            fill_value=fill_value,
            dimension_names=["t", "c", "z"],
        )

    def _gather(self, name: str) -> NDArray[Any]:
        """Per-position (T, C, Z) arrays `p/<name>` as one (T, P, Z, C) array."""
        parts = [np.asarray(self._array(f"{p}/{name}")[:]) for p in range(self.n_positions)]
        n_t = max(a.shape[0] for a in parts)
        fill = self._array(f"0/{name}").fill_value
        out = np.full((n_t, len(parts), self.n_z, len(self.channels)), fill, dtype=parts[0].dtype)
        for p, a in enumerate(parts):
            out[: a.shape[0], p] = a.transpose(0, 2, 1)
        return out

    def add_sr(self, name: str, scale: int | None = None) -> None:
        """Add an SR image `name` (``"sr"`` or ``"sr_<model>"``), its done mask and values.

        Other models' reconstructions of the same raw data live next to the main ``sr`` in
        every position. Does nothing if it already exists.
        """
        if name != "sr" and not name.startswith("sr_"):
            raise ValueError(f"SR image names are 'sr' or start with 'sr_', got {name!r}")
        info = self.info
        if name in info["sr_images"]:
            return
        s = int(scale or info["scale"])
        y, x = info["frame_shape"]
        n_t = self.n_timepoints
        for p in range(self.n_positions):
            self._create_image(
                self._image_path(name, p), name, n_t, (y * s, x * s), info["pixel_size_um"] / s
            )
            self._create_mask(f"{p}/{name}_done", n_t)
            self._group.create_group(f"{p}/{name}_stacks")
            for field, (dtype, fill) in STACK_FIELDS.items():
                self._create_mask(f"{p}/{name}_stacks/{field}", n_t, dtype, fill)
        self._update_info(sr_images={**info["sr_images"], name: {"scale": s, "specs": {}}})

    def sr_names(self) -> tuple[str, ...]:
        """Names of the SR images in this store (``"sr"`` first)."""
        return tuple(self.info["sr_images"])

    def sr_array_names(self, name: str, p: int = 0) -> list[str]:
        """Paths of every (T, ...) array of SR image `name` in position `p`."""
        return [
            f"{self._image_path(name, p)}/0",
            f"{p}/{name}_done",
            *(f"{p}/{name}_stacks/{f}" for f in STACK_FIELDS),
        ]

    def sr_array(self, name: str = "sr", p: int = 0) -> zarr.Array:
        """float32 (T, C, Z, sY, sX) SR image `name` of position `p`."""
        return self._image_array(name, p)

    @property
    def sr(self) -> zarr.Array:
        """float32 (T, C, Z, sY, sX) main SR image of position 0."""
        return self.sr_array("sr", 0)

    def sr_done(self, name: str = "sr") -> NDArray[np.bool_]:
        """Mask (T, P, Z, C), bool: which SR frames of `name` are written."""
        return self._gather(f"{name}_done").astype(bool)

    def raw_done(self) -> NDArray[np.bool_]:
        """Mask (T, P, Z, C), bool: which raw stacks are completely on disk."""
        return self._gather("raw_done").astype(bool)

    def missing_sr(self, name: str = "sr") -> list[StackKey]:
        """Keys of complete raw stacks whose SR `name` is not written yet, in key order."""
        raw = self.raw_done()
        done = self.sr_done(name)
        n = min(raw.shape[0], done.shape[0])
        todo = raw.copy()
        todo[:n] &= ~done[:n]
        return [StackKey(*(int(i) for i in key)) for key in np.argwhere(todo)]

    # ------------------------------------------------------------------ writing
    def write_sr(
        self, key: StackKey | tuple[int, int, int, int], image: NDArray[np.float32],
        *, name: str = "sr",
    ) -> None:  # fmt: skip
        """Write SR frame (sY, sX) of stack `key` (t, p, z, c) and mark it done.

        The raw frames of an SR frame are always those of the same key; record how it was
        made with `set_reconstructor_specs` (once) and `record_stacks` (per stack).
        """
        t, p, z, c = key
        self._ensure_t(t, self.sr_array_names(name, p))
        self.sr_array(name, p)[t, c, z] = image
        self._array(f"{p}/{name}_done")[t, c, z] = True

    def set_reconstructor_specs(
        self, name: str, specs: Mapping[str, ReconstructorSpec | None]
    ) -> None:
        """Record how SR image `name` is made, per channel name (static provenance).

        Channels mapped to None keep what they had. One write of the root attributes.
        """
        images = self.info["sr_images"]
        entry = images.setdefault(name, {"scale": self.info["scale"], "specs": {}})
        for channel, spec in specs.items():
            if channel not in self.channels:
                raise KeyError(f"channel {channel!r} not in this store; known: {self.channels}")
            if spec is not None:
                entry["specs"][channel] = spec.model_dump(mode="json")
        self._update_info(sr_images=images)

    def reconstructor_specs(self, name: str = "sr") -> dict[str, ReconstructorSpec]:
        """The recorded `ReconstructorSpec` of SR image `name` per channel (empty if none)."""
        entry = self.info["sr_images"].get(name, {})
        return {
            channel: ReconstructorSpec.model_validate(spec)
            for channel, spec in entry.get("specs", {}).items()
        }

    def record_stacks(
        self,
        name: str,
        keys: Sequence[StackKey | tuple[int, int, int, int]],
        values: Mapping[str, Sequence[Any]],
    ) -> None:
        """Write per-stack values of SR frames `keys`, one write per field and position.

        Parameters
        ----------
        name : str
            SR image.
        keys : sequence of StackKey (t, p, z, c)
            The stacks.
        values : mapping of field -> sequence, one value per key
            Fields of `STACK_FIELDS`; ``"backend"`` as strings (``"torch-cpu"``), coded here.
            Fields left out stay unrecorded.
        """
        if not keys:
            return
        unknown = set(values) - set(STACK_FIELDS)
        if unknown:
            raise KeyError(f"unknown per-stack fields {sorted(unknown)}; known: {STACK_FIELDS}")
        for field, column in values.items():
            if len(column) != len(keys):
                raise ValueError(f"{field}: {len(column)} values for {len(keys)} stacks")
        rows: dict[int, list[int]] = {}
        for i, key in enumerate(keys):
            rows.setdefault(int(key[1]), []).append(i)
        for p, idx in rows.items():
            ks = [StackKey(*keys[i]) for i in idx]
            self._ensure_t(max(k.t for k in ks), self.sr_array_names(name, p))
            ts, cs, zs = [k.t for k in ks], [k.c for k in ks], [k.z for k in ks]
            for field, column in values.items():
                array = self._array(f"{p}/{name}_stacks/{field}")
                col = [column[i] for i in idx]
                coded = field in ("backend", "method")
                data = self._codes(name, field, col) if coded else col
                array.vindex[ts, cs, zs] = np.asarray(data, dtype=STACK_FIELDS[field][0])

    def _codes(self, name: str, field: str, labels: Sequence[Any]) -> list[int]:
        """Codes of string labels (backend, method), shared by all positions (kept on p 0)."""
        array = self._array(f"0/{name}_stacks/{field}")
        codes: list[str] = list(array.attrs.get("codes", []))  # type: ignore[arg-type]
        new = [str(x) for x in dict.fromkeys(labels) if x is not None and str(x) not in codes]
        if new:
            codes += new
            array.attrs["codes"] = codes  # a new backend: rare, one small metadata write
        return [0 if x is None else codes.index(str(x)) + 1 for x in labels]

    def stack_values(self, name: str = "sr") -> dict[str, NDArray[Any]]:
        """Per-stack values of SR image `name`: field -> (T, P, Z, C) array (`STACK_FIELDS`).

        ``"backend"`` and ``"method"`` come back decoded, as object arrays of strings (None:
        unrecorded).
        """
        out: dict[str, NDArray[Any]] = {}
        for field in STACK_FIELDS:
            data = self._gather(f"{name}_stacks/{field}")
            if field in ("backend", "method"):
                array = self._array(f"0/{name}_stacks/{field}")
                codes: list[Any] = [None, *array.attrs.get("codes", [])]  # type: ignore[misc]
                labels = np.empty(len(codes), dtype=object)
                labels[:] = codes
                data = labels[data]
            out[field] = data
        return out
