"""The run store seen by Dask: raw stacks as a dask array, SR frames written chunk by chunk.

`livesr.distributed` reprocesses a store on a Dask cluster. The workers read raw stacks through
a dask array over the zarr chunks (one per position) and each writes its SR frame straight into
its own chunk of the SR array (one chunk per stack (t, p, z, c), so workers never share a
chunk). The small ``*_done`` masks
and per-stack value arrays are shared by many frames, so only the client writes them
(:func:`mark_sr_done`), after each frame's chunk is on disk: a crash between the two leaves a
frame undone, to be recomputed, never a frame marked done that is not there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._keys import StackKey
from ._store import SRStore

if TYPE_CHECKING:
    import dask.array

__all__ = ["mark_sr_done", "prepare_sr", "raw_stacks", "write_sr_frame"]


def raw_stacks(path: str | Path, p: int = 0) -> dask.array.Array:
    """The raw array of position `p` of a run store as a dask array, one chunk per SIM stack.

    Parameters
    ----------
    path : str or Path
        The ``*.zarr`` run store.
    p : int
        Position (series) index.

    Returns
    -------
    dask.array.Array, uint16, shape (T, C, F, Z, Y, X), chunks (1, 1, F, 1, Y, X)
        Lazy; reading chunk (t, c, 0, z) reads the F frame chunks of stack (t, p, z, c).
    """
    import dask.array

    # dask is only partly typed: treat its API as Any.
    da: Any = dask.array
    arr = da.from_zarr(str(Path(path)), component=f"{p}/raw")
    stacks: dask.array.Array = arr.rechunk((1, 1, arr.shape[2], 1, *arr.shape[4:]))
    return stacks


def prepare_sr(store: SRStore, name: str, scale: int | None = None) -> None:
    """Make SR image `name` and its done mask exist and cover every raw time point.

    Call on the client before workers write, so no worker ever resizes an array (a resize
    rewrites metadata that other workers read).

    Parameters
    ----------
    store : SRStore
        Opened with ``mode="r+"``.
    name : str
        ``"sr"`` or ``"sr_<model>"``.
    scale : int, optional
        SR pixels per raw pixel of a new image; the run's scale when None.
    """
    store.add_sr(name, scale)
    n_t = store.n_timepoints
    for p in range(store.n_positions):
        for array_name in store.sr_array_names(name, p):
            array: Any = store.group[array_name]
            if array.shape[0] < n_t:
                array.resize((n_t, *array.shape[1:]))


def write_sr_frame(
    path: str | Path, name: str, key: StackKey | tuple[int, int, int, int], image: NDArray[Any]
) -> None:
    """Write the SR frame of stack `key` of image `name`, not touching the done mask (worker).

    Parameters
    ----------
    path : str or Path
        The run store.
    name : str
        SR image name (``"sr"`` or ``"sr_<model>"``), prepared with :func:`prepare_sr`.
    key : StackKey
        (t, p, z, c) of the stack.
    image : ndarray, float32, shape (sY, sX)
        The frame; its shape must match the SR image.

    Notes
    -----
    Safe from many processes at once: every stack is its own chunk.
    """
    import zarr

    t, p, z, c = key
    image_path = Path(path) / str(p) if name == "sr" else Path(path) / str(p) / name
    # Opened per frame (about a millisecond): a cached handle would keep a stale shape after
    # the client grows the array for a store that is still being acquired.
    array = zarr.open_array(str(image_path / "0"), mode="r+")
    if image.shape != tuple(array.shape[3:]):
        raise ValueError(
            f"SR frame of shape {image.shape} does not fit {name!r} frames {array.shape[3:]}: "
            "the model's scale differs from this SR image's; write it under another name"
        )
    array[t, c, z] = np.asarray(image, np.float32)


def mark_sr_done(
    store: SRStore,
    name: str,
    keys: Iterable[StackKey | tuple[int, int, int, int]],
    values: Mapping[str, Sequence[Any]] | None = None,
) -> None:
    """Mark SR frames `keys` of `name` done and record their per-stack values (client side).

    Parameters
    ----------
    store : SRStore
        Opened with ``mode="r+"``; the one writer of the masks and value arrays.
    name : str
        SR image name.
    keys : iterable of StackKey (t, p, z, c)
        Frames whose chunks are written.
    values : mapping of field -> sequence, optional
        One value per key for fields of `STACK_FIELDS` (normalisation, timing, backend).
    """
    stacks = [StackKey(*k) for k in keys]
    if not stacks:
        return
    if values:
        store.record_stacks(name, stacks, values)
    for p in sorted({k.p for k in stacks}):
        mask: Any = store.group[f"{p}/{name}_done"]
        done = np.asarray(mask[:], dtype=bool)
        ts, zs, cs = np.asarray([(k.t, k.z, k.c) for k in stacks if k.p == p], dtype=int).T
        done[ts, cs, zs] = True
        mask[:] = done
