"""Per-frame quality records of SR images and their low-resolution error maps.

For SR image ``name`` (``"sr"``) a live run with quality control adds, in every position
group ``p``::

    p/<name>_qc/<field>        (T, C, Z) scalar per stack (`QC_FIELDS`)
    p/<name>_qc/chi2           (T, C, Z, A) raw re-synthesis chi^2 per orientation
    p/<name>_qc/modulation     (T, C, Z, A) first-order modulation per orientation
    p/<name>_qc_map            float32 (T, C, Z, Y, X) error map on the camera grid
                               (``|wide-field - blurred SR|`` in counts, NaN border and where
                               no record was made); a plain array, not an OME image

Values are NaN (or 0 for codes) where no record was made (QC off, decimated, or failed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._keys import StackKey
from ._store_parts import StoreParts

__all__ = ["FIT_STATUS_CODES", "LEVEL_CODES", "PATTERN_SOURCE_CODES", "QC_FIELDS", "QualityImages"]

_T_CHUNK = 256

#: Traffic light of a frame: 0 not checked, 1 ok, 2 warn, 3 bad.
LEVEL_CODES = ("", "ok", "warn", "bad")
#: Worst fit status over the orientations: 0 unknown (no fit, e.g. a network).
FIT_STATUS_CODES = ("", "ok", "calibration", "nominal", "rejected")
#: Where the pattern the checks assumed came from: 0 none.
PATTERN_SOURCE_CODES = ("", "reconstructor", "calibration", "nominal")

#: Scalar quality fields per stack: field -> (dtype, fill value for "not recorded").
#: rsp, rse: SQUIRREL; chi2_max: worst orientation's raw re-synthesis chi^2; out_of_band:
#: SR energy beyond the SIM passband; photons: mean photons per pixel per raw frame over the
#: structure; modulation_min: weakest orientation's modulation; fit_status: `FIT_STATUS_CODES`
#: (worst orientation of the reconstructor's pattern fit); fit_confidence: weakest
#: orientation's carrier peak confidence; carrier_drift_pct: largest ``(|k_fit| - |k_cal|) /
#: |k_cal|`` over the orientations, in %, signed (NaN without a calibration or a fit);
#: pattern_source: `PATTERN_SOURCE_CODES`; level: `LEVEL_CODES`; qc_ms: time of the check.
QC_FIELDS: dict[str, tuple[str, Any]] = {
    "rsp": ("float32", np.nan),
    "rse": ("float32", np.nan),
    "chi2_max": ("float32", np.nan),
    "out_of_band": ("float32", np.nan),
    "photons": ("float32", np.nan),
    "modulation_min": ("float32", np.nan),
    "fit_status": ("uint8", 0),
    "fit_confidence": ("float32", np.nan),
    "carrier_drift_pct": ("float32", np.nan),
    "pattern_source": ("uint8", 0),
    "level": ("uint8", 0),
    "qc_ms": ("float32", np.nan),
}
#: Per-orientation fields, (T, C, Z, A).
QC_VECTOR_FIELDS = ("chi2", "modulation")


class QualityImages(StoreParts):
    """The quality half of `SRStore` (a mixin: the store supplies group, info and arrays)."""

    def add_quality(self, name: str = "sr", n_angles: int = 3) -> None:
        """Add the quality arrays of SR image `name` (does nothing if they exist)."""
        info = self.info
        qc = dict(info.get("quality", {}))
        if name in qc:
            return
        y, x = info["frame_shape"]
        n_t, n_c, n_z = self.n_timepoints, len(self.channels), self.n_z
        compressors: Any = None if info.get("compression") == "none" else "auto"
        for p in range(self.n_positions):
            group = self._group.create_group(f"{p}/{name}_qc")
            for field, (dtype, fill) in QC_FIELDS.items():
                group.create_array(
                    field, shape=(n_t, n_c, n_z), chunks=(_T_CHUNK, n_c, n_z), dtype=dtype,
                    fill_value=fill, dimension_names=["t", "c", "z"],
                )  # fmt: skip
            for field in QC_VECTOR_FIELDS:
                group.create_array(
                    field, shape=(n_t, n_c, n_z, n_angles), chunks=(_T_CHUNK, n_c, n_z, n_angles),
                    dtype="float32", fill_value=np.nan, dimension_names=["t", "c", "z", "a"],
                )  # fmt: skip
            self._group.create_array(
                f"{p}/{name}_qc_map", shape=(n_t, n_c, n_z, y, x), chunks=(1, 1, 1, y, x),
                dtype="float32", fill_value=np.nan, dimension_names=["t", "c", "z", "y", "x"],
                compressors=compressors,
            )  # fmt: skip
        qc[name] = {"n_angles": int(n_angles), "map_grid": "camera"}
        self._update_info(quality=qc)

    def has_quality(self, name: str = "sr") -> bool:
        """Whether SR image `name` has quality arrays."""
        return name in self.info.get("quality", {})

    def quality_array_names(self, name: str, p: int) -> list[str]:
        """Paths of every (T, ...) quality array of SR image `name` in position `p`."""
        if not self.has_quality(name):
            return []
        return [
            f"{p}/{name}_qc_map",
            *(f"{p}/{name}_qc/{f}" for f in (*QC_FIELDS, *QC_VECTOR_FIELDS)),
        ]

    def write_error_map(
        self, key: StackKey | tuple[int, int, int, int], image: NDArray[np.float32],
        *, name: str = "sr",
    ) -> None:  # fmt: skip
        """Write the camera-grid error map (Y, X) of SR frame `key`."""
        t, p, z, c = key
        self._ensure_t(t, self.quality_array_names(name, p))
        self._array(f"{p}/{name}_qc_map")[t, c, z] = image

    def record_quality(
        self,
        name: str,
        keys: Sequence[StackKey | tuple[int, int, int, int]],
        values: Mapping[str, Sequence[Any]],
    ) -> None:
        """Write quality values of SR frames `keys`, one write per field and position.

        `values` maps fields of `QC_FIELDS` (scalars; codes as ints or their labels) and
        ``"chi2"``/``"modulation"`` (sequences per orientation, shorter ones NaN-padded) to one
        value per key.
        """
        if not keys:
            return
        known = {*QC_FIELDS, *QC_VECTOR_FIELDS}
        unknown = set(values) - known
        if unknown:
            raise KeyError(f"unknown quality fields {sorted(unknown)}; known: {sorted(known)}")
        n_a = int(self.info["quality"][name]["n_angles"])
        rows: dict[int, list[int]] = {}
        for i, key in enumerate(keys):
            rows.setdefault(int(key[1]), []).append(i)
        for p, idx in rows.items():
            ks = [StackKey(*keys[i]) for i in idx]
            self._ensure_t(max(k.t for k in ks), self.quality_array_names(name, p))
            ts, cs, zs = [k.t for k in ks], [k.c for k in ks], [k.z for k in ks]
            for field, column in values.items():
                array = self._array(f"{p}/{name}_qc/{field}")
                col = [column[i] for i in idx]
                if field in QC_VECTOR_FIELDS:
                    data = np.full((len(col), n_a), np.nan, np.float32)
                    for j, v in enumerate(col):
                        v = [] if v is None else list(v)[:n_a]
                        data[j, : len(v)] = [np.nan if x is None else x for x in v]
                    for j, (t, c, z) in enumerate(zip(ts, cs, zs, strict=True)):
                        array[t, c, z] = data[j]  # few keys per batch; vindex is 3-D only
                    continue
                col = [_code(field, v) for v in col]
                dtype, fill = QC_FIELDS[field]
                array.vindex[ts, cs, zs] = np.asarray(
                    [fill if v is None else v for v in col], dtype=dtype
                )

    def quality(self, name: str = "sr") -> dict[str, NDArray[Any]]:
        """Quality records of SR image `name`: field -> (T, P, Z, C) array.

        `QC_FIELDS` (codes as ints: see `LEVEL_CODES`, `FIT_STATUS_CODES`,
        `PATTERN_SOURCE_CODES`), ``"chi2"`` and ``"modulation"`` as (T, P, Z, C, A), and
        ``"photons_rel"``: photons relative to the first checked time point of the same
        (p, z, c) (bleaching). Empty when the run had no quality control.
        """
        if not self.has_quality(name):
            return {}
        out: dict[str, NDArray[Any]] = {}
        for field in (*QC_FIELDS, *QC_VECTOR_FIELDS):
            parts = [
                np.asarray(self._array(f"{p}/{name}_qc/{field}")[:])
                for p in range(self.n_positions)
            ]
            n_t = max(a.shape[0] for a in parts)
            fill = self._array(f"0/{name}_qc/{field}").fill_value
            tail = parts[0].shape[3:]
            shape = (n_t, len(parts), self.n_z, len(self.channels), *tail)
            data = np.full(shape, fill, dtype=parts[0].dtype)
            for p, a in enumerate(parts):
                data[: a.shape[0], p] = np.swapaxes(a, 1, 2)
            out[field] = data
        photons = out["photons"].astype(np.float64)
        rel = np.full(photons.shape, np.nan, np.float32)
        finite = np.isfinite(photons)
        first = np.argmax(finite, axis=0)  # first checked t per (p, z, c)
        base = np.take_along_axis(photons, first[np.newaxis], axis=0)[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = finite & (base > 0)[np.newaxis]
            rel[ok] = (photons / base[np.newaxis])[ok]
        out["photons_rel"] = rel
        return out

    def error_map(
        self, key: StackKey | tuple[int, int, int, int], name: str = "sr"
    ) -> NDArray[np.float32]:
        """The camera-grid error map (Y, X) of SR frame `key` (all NaN if none was made)."""
        t, p, z, c = key
        return np.asarray(self._array(f"{p}/{name}_qc_map")[t, c, z], dtype=np.float32)


def _code(field: str, value: Any) -> Any:
    """Labels of coded fields as their codes (ints pass)."""
    table = {
        "level": LEVEL_CODES,
        "fit_status": FIT_STATUS_CODES,
        "pattern_source": PATTERN_SOURCE_CODES,
    }.get(field)
    if table is None or not isinstance(value, str):
        return value
    return table.index(value) if value in table else 0
