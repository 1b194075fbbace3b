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

    Only tensors and plain values (dicts, lists, numbers, strings) are read: a checkpoint is a
    file a user can be handed, and unpickling arbitrary objects would run code from it.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the file holds anything else (a planted or foreign pickle), or is not a checkpoint.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist; nothing to resume")
    try:
        # weights_only=True: torch's restricted unpickler, which refuses every global that is
        # not a tensor type; numpy generator states are plain dicts of ints, so they pass.
        state = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        raise ValueError(
            f"{path} is not a livesr checkpoint of tensors and plain values ({_first_line(exc)}); "
            "livesr never unpickles objects from a file: delete it or point --resume elsewhere"
        ) from exc
    if not isinstance(state, dict):
        raise ValueError(f"{path} is not a livesr checkpoint (no dict of states)")
    return state


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


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
