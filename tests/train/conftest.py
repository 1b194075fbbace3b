from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile


def _field(rng: np.random.Generator, size: int, frames: int, scale: int):
    """A random blob field: GT (s*size)^2 and raw frames that are its binned, noisy copies."""
    gt = np.zeros((scale * size, scale * size), np.float32)
    for _ in range(6):
        y, x = rng.integers(4, scale * size - 4, size=2)
        gt[y - 2 : y + 2, x - 6 : x + 6] += rng.uniform(0.5, 1.0)
    binned = gt.reshape(size, scale, size, scale).mean(axis=(1, 3))
    raw = np.stack([binned * (1 + 0.3 * np.cos(k)) for k in range(frames)])
    raw = 100 + 1000 * raw + rng.normal(0, 5, raw.shape)
    return raw.astype(np.uint16), (1000 * gt).astype(np.uint16)


def _write_mrc(path: Path, data: np.ndarray) -> None:
    import mrcfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mrcfile.new(path, overwrite=True) as mrc:
            mrc.set_data(data)


@pytest.fixture
def biosr_tree(tmp_path: Path) -> Callable[..., Path]:
    """Write a tiny BioSR structure folder: Cell_NNN/RawSIMData_level_XX.mrc + SIM_gt.mrc."""

    def make(
        cells: tuple[int, ...] = (1, 2, 6, 7),
        levels: tuple[int, ...] = (1, 2),
        size: int = 24,
        frames: int = 9,
        er: bool = False,
    ) -> Path:
        rng = np.random.default_rng(0)
        root = tmp_path / ("ER" if er else "Microtubules")
        for cell in cells:
            folder = root / f"Cell_{cell:03d}"
            for level in levels:
                raw, gt = _field(rng, size, frames, 2)
                if er:
                    _write_mrc(folder / "RawSIMData" / f"RawSIMData_level_{level:02d}.mrc", raw)
                    _write_mrc(folder / "GTSIM" / f"GTSIM_level_{level:02d}.mrc", gt[None])
                else:
                    _write_mrc(folder / f"RawSIMData_level_{level:02d}.mrc", raw)
            if not er:
                _write_mrc(folder / "SIM_gt.mrc", gt[None])
        return root

    return make


@pytest.fixture
def dlsr_tree(tmp_path: Path) -> Path:
    """Write a tiny DL-SR TIFF pair folder (training + validate, raw frames, wf, gt)."""
    rng = np.random.default_rng(1)
    root = tmp_path / "dlsr"
    for split, count in (("training", 6), ("validate", 2)):
        for i in range(1, count + 1):
            raw, gt = _field(rng, 24, 9, 2)
            name = f"{i:08d}"
            folder = root / split / name
            folder.mkdir(parents=True)
            for f in range(9):
                tifffile.imwrite(folder / f"{f + 1}.tif", raw[f])
            (root / f"{split}_gt").mkdir(exist_ok=True)
            (root / f"{split}_wf").mkdir(exist_ok=True)
            tifffile.imwrite(root / f"{split}_gt" / f"{name}.tif", gt)
            wf = raw.astype(np.float64).sum(0)
            tifffile.imwrite(root / f"{split}_wf" / f"{name}.tif", wf.astype(np.float32))
    return root
