"""Raw frames and wide-field images of a run store: per-frame writes, per-stack reads.

In every position group ``p``::

    p/raw        uint16 (T, C, F, Z, Y, X), one chunk per raw frame
    p/raw_done   bool (T, C, Z): every raw frame of the stack is on disk
    p/wf/0       float32 (T, C, Z, Y, X), the wide-field image (stack mean)

Written by the pipeline's raw writer thread (the only writer of these arrays), read by
backfill and ``livesr reprocess``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ._fast_raw import TensorstoreRaw
from ._keys import StackKey
from ._store_parts import StoreParts

if TYPE_CHECKING:
    import zarr

__all__ = ["RawImages"]


def _by_position(
    keys: Iterable[StackKey | tuple[int, int, int, int]],
) -> dict[int, list[StackKey]]:
    groups: dict[int, list[StackKey]] = defaultdict(list)
    for key in keys:
        groups[int(key[1])].append(StackKey(*key))
    return groups


class RawImages(StoreParts):
    """The raw half of `SRStore` (a mixin: the store supplies group, info and arrays)."""

    #: Per position, the tensorstore writer of its raw array (made on first write).
    _ts_raw: dict[int, TensorstoreRaw]

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
