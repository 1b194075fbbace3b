"""What a killed run can leave in its store, found and repaired by the next writer.

- zarr's local store writes every file as ``<name>.<32 hex>.partial`` and renames it into
  place; a process killed in between leaves the temporary file behind. They are never data
  (the rename did not happen), but zarr warns about each one at group level on every listing.
  `remove_write_leftovers` deletes exactly those (their name pattern is zarr's own).
- a run killed between writing a stack's last raw frame and marking it in ``raw_done``
  leaves a complete stack unmarked, which ``reprocess`` would skip. `unmarked_complete_stacks`
  finds them by their chunk files: each raw frame is one chunk, written atomically.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._keys import StackKey

if TYPE_CHECKING:
    from ._store import SRStore

__all__ = ["remove_write_leftovers", "unmarked_complete_stacks"]

_LEFTOVER = re.compile(r"\.[0-9a-f]{32}\.partial$")


def remove_write_leftovers(path: Path) -> int:
    """Delete zarr's temporary ``*.<uuid hex>.partial`` files under store `path`; how many."""
    n = 0
    for file in path.rglob("*.partial"):
        if _LEFTOVER.search(file.name) and file.is_file():
            file.unlink(missing_ok=True)
            n += 1
    return n


def unmarked_complete_stacks(store: SRStore) -> list[StackKey]:
    """Keys of raw stacks with every frame's chunk on disk but no ``raw_done`` mark.

    Each raw frame is one chunk ``<p>/raw/c/<t>/<c>/<pattern>/<z>/0/0``, written atomically.
    """
    raw_done = store.raw_done()  # (T, P, Z, C)
    n_t, n_p, n_z, _ = raw_done.shape
    found = []
    for p in range(n_p):
        root = store.path / str(p) / "raw" / "c"
        if not root.is_dir():
            continue
        # Candidates: time points with a chunk folder (never-acquired slack has none).
        times = sorted(int(d.name) for d in root.iterdir() if d.name.isdigit())
        for t in (t for t in times if t < n_t):
            for z in range(n_z):
                for c in np.flatnonzero(~raw_done[t, p, z]):
                    frames = root / str(t) / str(int(c))
                    chunks = (
                        frames / str(f) / str(z) / "0" / "0" for f in range(store.n_patterns)
                    )
                    if all(chunk.is_file() for chunk in chunks):
                        found.append(StackKey(t, p, z, int(c)))
    return found
