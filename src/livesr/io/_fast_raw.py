"""Raw frame writes through tensorstore: the same zarr v3 chunks, written by C++."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["TensorstoreRaw"]


class TensorstoreRaw:
    """Write frames into a ``raw`` array of the store with tensorstore when it is installed.

    About half the CPU of zarr-python per frame, with the GIL released while encoding and
    writing, so a camera's Python threads keep running. The chunks are ordinary zarr v3
    chunks (zarr-python reads them). `write` returns False when tensorstore is unavailable
    and the caller writes with zarr-python instead.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.available = True
        self._handle: Any = None

    def write(self, index: tuple[int | slice, ...], frames: NDArray[np.uint16]) -> bool:
        """Write frames (n, Y, X) at `index` (t first; one slice of n); False if not possible."""
        t = index[0]
        assert isinstance(t, int)
        handle = self._open(t)
        if handle is None:
            return False
        handle[index].write(frames).result()
        return True

    def _open(self, t: int) -> Any:
        if not self.available:
            return None
        if self._handle is None or t >= self._handle.shape[0]:
            # (Re)open after the array grew: a handle's domain is fixed when it is opened.
            try:
                import tensorstore as ts

                spec = {
                    "driver": "zarr3",
                    "kvstore": {"driver": "file", "path": str(self.path.resolve())},
                }
                self._handle = ts.open(spec, open=True, read=True, write=True).result()
            except Exception:  # not installed, or cannot open: zarr-python writes instead
                self.available = False
                return None
        return self._handle
