"""Replacing a run store: only ever a livesr store, never a folder a user made.

``--overwrite`` once meant ``rmtree(path)``, so ``--out ~/thesis --overwrite`` deleted a
thesis. A folder is replaced only when it is a livesr run store: its root ``zarr.json``
carries the ``livesr`` attribute and every entry in it is a zarr node (a folder with its own
``zarr.json``). The current folder, the home folder, the file-system root and any folder that
holds one of them are refused outright.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

__all__ = ["NotARunStoreError", "remove_run_store"]


class NotARunStoreError(FileExistsError):
    """The output path exists and is not a livesr run store, so it is left alone."""


def remove_run_store(path: str | Path) -> None:
    """Delete the livesr run store at `path`, or raise without touching anything.

    Raises
    ------
    NotARunStoreError
        `path` is a file, a protected folder, not a store livesr wrote, or holds entries
        that are not part of the store; the message names what and how to proceed.
    """
    path = Path(path)
    resolved = path.expanduser().resolve()
    protected = {Path.cwd().resolve(), Path.home().resolve(), Path(resolved.anchor)}
    if any(p == resolved or resolved in p.parents for p in protected):
        raise NotARunStoreError(
            f"refusing to replace {path}: it is (or contains) the current, home or root "
            "folder; give --out a new *.zarr path"
        )
    _check_is_run_store(path)
    shutil.rmtree(path)


def _check_is_run_store(path: Path) -> None:
    fix = "choose another output path; livesr only replaces run stores it wrote"
    if not path.is_dir():
        raise NotARunStoreError(f"{path} exists and is not a livesr run store: {fix}")
    try:
        root = json.loads((path / "zarr.json").read_text())
    except (OSError, ValueError):
        root = None
    if not isinstance(root, dict) or "livesr" not in (root.get("attributes") or {}):
        raise NotARunStoreError(f"{path} is not a livesr run store (no livesr zarr.json): {fix}")
    for entry in path.iterdir():
        if entry.name == "zarr.json" or (entry.is_dir() and (entry / "zarr.json").is_file()):
            continue
        raise NotARunStoreError(
            f"{path} holds {entry.name!r}, which livesr did not write; move it out first or {fix}"
        )
