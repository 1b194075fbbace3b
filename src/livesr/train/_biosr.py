"""BioSR (Qiao et al. 2021) as downloaded: MRC files per cell and signal level.

Layout of one structure folder (CCPs, Microtubules, F-actin, F-actin_Nonlinear)::

    Cell_001/RawSIMData_level_01.mrc ... RawSIMData_level_09.mrc   (9 or 25 raw frames)
    Cell_001/SIM_gt.mrc                                             (SIM_gt_a.mrc nonlinear)

and of ER, with one ground truth per level::

    Cell_001/RawSIMData/RawSIMData_level_01.mrc ...
    Cell_001/GTSIM/GTSIM_level_01.mrc ...

The authors' split: cells 1-5 validation, 6-35 training, 36-50 test.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ._sources import CachedFiles, Field, FieldSource, make_field

__all__ = ["BioSRSource", "find_biosr_pairs", "read_mrc"]

_CELL = re.compile(r"^Cell_(\d+)$", re.IGNORECASE)
_LEVEL = re.compile(r"_level_(\d+)\.mrc$", re.IGNORECASE)


def read_mrc(path: Path) -> NDArray:
    """All sections of a BioSR (Priism/DeltaVision) MRC file, shape (nz, ny, nx).

    BioSR files have no ``MAP`` id and a zero machine stamp, so mrcfile needs permissive mode and
    warns about both; the warnings say nothing the user can act on and are silenced here.
    """
    import mrcfile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mrcfile.open(path, permissive=True) as mrc:
            if mrc.data is None:
                raise ValueError(f"{path}: no image data (truncated or not an MRC file)")
            data = np.asarray(mrc.data)
    return data[None] if data.ndim == 2 else data


@dataclass(frozen=True)
class BioSRPair:
    """One (cell, level) raw stack and its ground-truth file."""

    cell: int
    level: int
    raw: Path
    gt: Path


def _levels_in(folder: Path, prefix: str) -> dict[int, Path]:
    found: dict[int, Path] = {}
    for path in folder.glob(f"{prefix}_level_*.mrc"):
        match = _LEVEL.search(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def find_biosr_pairs(
    root: Path,
    cells: tuple[int, ...],
    levels: tuple[int, ...] | None = None,
    gt_name: str = "SIM_gt.mrc",
) -> list[BioSRPair]:
    """Every (cell, level) pair of a BioSR structure folder.

    Parameters
    ----------
    root : Path
        Structure folder with ``Cell_NNN`` sub-folders.
    cells : tuple of int
        Cell numbers to use.
    levels : tuple of int or None
        Signal levels; None takes every level present in each cell.
    gt_name : str
        Ground-truth file of the linear/nonlinear layout (ER's per-level GT is found itself).

    Raises
    ------
    FileNotFoundError
        If `root`, a requested cell, level, or a ground-truth file is missing; the message lists
        what was found.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"BioSR folder {root} does not exist")
    present = {}
    for sub in root.iterdir():
        match = _CELL.match(sub.name)
        if match and sub.is_dir():
            present[int(match.group(1))] = sub
    if not present:
        raise FileNotFoundError(
            f"no Cell_NNN folders in {root}; point data.root at one structure folder of BioSR "
            "(for example BioSR/Microtubules)"
        )
    missing = sorted(set(cells) - set(present))
    if missing:
        raise FileNotFoundError(
            f"cells {missing} are not in {root}; found cells {sorted(present)}"
        )
    pairs: list[BioSRPair] = []
    for cell in cells:
        folder = present[cell]
        if (folder / "RawSIMData").is_dir():  # ER layout: one GT per level
            raws = _levels_in(folder / "RawSIMData", "RawSIMData")
            gts = _levels_in(folder / "GTSIM", "GTSIM")
        else:
            raws = _levels_in(folder, "RawSIMData")
            gt_path = folder / gt_name
            if not gt_path.is_file():
                found = sorted(p.name for p in folder.glob("*.mrc"))
                raise FileNotFoundError(
                    f"ground truth {gt_path} is missing; files in {folder.name}: {found}"
                )
            gts = dict.fromkeys(raws, gt_path)
        wanted = sorted(raws) if levels is None else list(levels)
        absent = [lv for lv in wanted if lv not in raws]
        if absent:
            raise FileNotFoundError(
                f"levels {absent} are not in {folder}; found levels {sorted(raws)}"
            )
        for lv in wanted:
            if lv not in gts:
                raise FileNotFoundError(
                    f"no ground truth for level {lv} in {folder}; GT levels {sorted(gts)}"
                )
            pairs.append(BioSRPair(cell, lv, raws[lv], gts[lv]))
    if not pairs:
        raise FileNotFoundError(f"no RawSIMData_level_XX.mrc files in the cells {cells}")
    return pairs


class BioSRSource(FieldSource):
    """Fields from BioSR, one per (cell, level), drawn uniformly; recently used ones cached.

    Parameters
    ----------
    root, cells, levels, gt_name
        See `find_biosr_pairs`.
    in_frames : int
        Input frames of the model: 1 (SISR, wide-field = sum of the raw frames) or the number
        of raw frames per file (9 linear, 25 nonlinear).
    scale : int
        Must equal ground-truth size / raw size.
    """

    def __init__(
        self,
        root: Path,
        cells: tuple[int, ...],
        levels: tuple[int, ...] | None,
        *,
        in_frames: int,
        scale: int,
        gt_name: str = "SIM_gt.mrc",
    ) -> None:
        self.pairs = find_biosr_pairs(root, cells, levels, gt_name)
        self.in_frames = in_frames
        self.scale = scale
        self._cache = CachedFiles(capacity=8)

    def _load(self, pair: BioSRPair) -> Field:
        raw = read_mrc(pair.raw)
        gt = read_mrc(pair.gt)[0]
        name = f"{pair.raw} (cell {pair.cell}, level {pair.level})"
        if self.in_frames != 1 and raw.shape[0] != self.in_frames:
            raise ValueError(
                f"{name} has {raw.shape[0]} raw frames but the model takes {self.in_frames}"
            )
        return make_field(raw, gt, scale=self.scale, sisr=self.in_frames == 1, name=name)

    def draw(self, rng: np.random.Generator) -> Field:
        """A random (cell, level) field."""
        pair = self.pairs[int(rng.integers(len(self.pairs)))]
        return self._cache.get(pair, lambda: self._load(pair))
