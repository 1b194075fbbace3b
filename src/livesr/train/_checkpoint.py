"""Training checkpoints that resume exactly, and the run's CSV log.

A checkpoint holds everything that decides the next step: network (and discriminator) weights,
optimiser and scheduler states, the step, the best validation NRMSE, the patch sampler's
generator and source state, and torch's RNG state. Resuming from ``latest.pt`` therefore gives the
same weights as an uninterrupted run (on the same device and thread count).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["CsvLog", "load_checkpoint", "save_checkpoint"]

LOG_COLUMNS = ("step", "loss", "d_loss", "lr", "val_nrmse", "best_nrmse", "patches_per_s",
               "elapsed_s")  # fmt: skip


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` with ``torch.save`` atomically (a crash never leaves half a file)."""
    import torch

    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist; nothing to resume")
    # weights_only=False: the state holds numpy generator states (plain dicts of ints) and
    # the config; the file is our own, written by `save_checkpoint`.
    state: dict[str, Any] = torch.load(path, map_location=device, weights_only=False)
    return state


class CsvLog:
    """Append-only CSV of validation rows (`LOG_COLUMNS`); safe to reopen after a resume."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            with self.path.open("w", newline="") as f:
                csv.writer(f).writerow(LOG_COLUMNS)

    def write(self, row: dict[str, Any]) -> None:
        """Append one row; missing columns stay empty, unknown keys are an error."""
        unknown = set(row) - set(LOG_COLUMNS)
        if unknown:
            raise KeyError(f"unknown log columns {sorted(unknown)}; known: {LOG_COLUMNS}")
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([_fmt(row.get(c)) for c in LOG_COLUMNS])

    def rows(self) -> list[dict[str, str]]:
        """Every row written so far."""
        with self.path.open(newline="") as f:
            return list(csv.DictReader(f))

    def truncate_after(self, step: int) -> None:
        """Drop rows logged after `step` (a resume from an earlier checkpoint redoes them)."""
        kept = [r for r in self.rows() if int(r["step"]) <= step]
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=LOG_COLUMNS)
            writer.writeheader()
            writer.writerows(kept)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
