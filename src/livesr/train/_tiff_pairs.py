"""Patch pairs in the authors' DL-SR TIFF layout.

::

    <root>/training/00000001/1.tif ... 9.tif     raw frames of one patch (SIM mode)
    <root>/training_wf/00000001.tif             wide-field of the patch (SISR mode)
    <root>/training_gt/00000001.tif             ground truth (scale x larger)
    <root>/validate/..., validate_wf/..., validate_gt/...

Frames are read in natural numeric order (1, 2, ..., 10, ...), not the authors' lexicographic
``sorted()`` order, which scrambles 25-frame stacks.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import tifffile

from ._sources import CachedFiles, Field, FieldSource, make_field

__all__ = ["TiffPairsSource"]


def _number(path: Path) -> int:
    match = re.search(r"(\d+)", path.stem)
    return int(match.group(1)) if match else 0


class TiffPairsSource(FieldSource):
    """Fields from a DL-SR patch folder (each patch pair is one field).

    Parameters
    ----------
    root : Path
        Folder holding ``<split>``, ``<split>_gt`` (and ``<split>_wf``).
    split : str
        ``"training"`` or ``"validate"``.
    in_frames : int
        1 reads ``<split>_wf`` (or sums the raw frames when there is no ``_wf`` folder); more
        reads the frame folders under ``<split>``.
    scale : int

    Raises
    ------
    FileNotFoundError
        If a folder or a ground-truth file is missing (the message lists what exists).
    """

    def __init__(self, root: Path, split: str, *, in_frames: int, scale: int) -> None:
        root = Path(root)
        self.in_frames = in_frames
        self.scale = scale
        gt_dir = root / f"{split}_gt"
        raw_dir = root / split
        wf_dir = root / f"{split}_wf"
        if not gt_dir.is_dir():
            found = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
            raise FileNotFoundError(
                f"{gt_dir} does not exist; {root} holds {found} (expected the DL-SR layout "
                f"{split}/, {split}_gt/, {split}_wf/)"
            )
        self._gts = {p.stem: p for p in gt_dir.glob("*.tif*")}
        use_wf = in_frames == 1 and wf_dir.is_dir()
        if use_wf:
            inputs = {p.stem: p for p in wf_dir.glob("*.tif*")}
        elif raw_dir.is_dir():
            inputs = {p.name: p for p in raw_dir.iterdir() if p.is_dir()}
        else:
            raise FileNotFoundError(f"neither {raw_dir} nor {wf_dir} exists")
        missing = sorted(set(inputs) - set(self._gts))
        if missing:
            raise FileNotFoundError(
                f"no ground truth in {gt_dir} for {len(missing)} input(s), e.g. {missing[:5]}; "
                f"ground truths found: {sorted(self._gts)[:5]}..."
            )
        if not inputs:
            raise FileNotFoundError(f"no input patches under {wf_dir if use_wf else raw_dir}")
        self._inputs = [inputs[k] for k in sorted(inputs)]
        self._use_wf = use_wf
        self._cache = CachedFiles(capacity=256)

    def __len__(self) -> int:
        return len(self._inputs)

    def _load(self, path: Path) -> Field:
        if self._use_wf:
            raw = np.asarray(tifffile.imread(path), dtype=np.float32)[None]
        else:
            frames = sorted(path.glob("*.tif*"), key=_number)
            raw = np.stack([np.asarray(tifffile.imread(f), dtype=np.float32) for f in frames])
            if self.in_frames != 1 and raw.shape[0] != self.in_frames:
                raise ValueError(
                    f"{path} holds {raw.shape[0]} frames but the model takes {self.in_frames}"
                )
        gt = np.asarray(tifffile.imread(self._gts[path.stem if self._use_wf else path.name]))
        return make_field(
            raw,
            gt,
            scale=self.scale,
            sisr=self.in_frames == 1 and not self._use_wf,
            name=str(path),
        )

    def draw(self, rng: np.random.Generator) -> Field:
        """A random patch pair."""
        path = self._inputs[int(rng.integers(len(self._inputs)))]
        return self._cache.get(path, lambda: self._load(path))
