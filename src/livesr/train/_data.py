"""Build the training and validation field sources a `TrainConfig` describes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._biosr import BioSRSource
from ._config import BioSRDataConfig, SimulatedDataConfig, TiffPairsDataConfig
from ._tiff_pairs import TiffPairsSource

if TYPE_CHECKING:
    from ._config import TrainConfig
    from ._sources import FieldSource

__all__ = ["make_sources"]


def make_sources(config: TrainConfig) -> tuple[FieldSource, FieldSource]:
    """The (training, validation) sources of `config.data`.

    Raises
    ------
    FileNotFoundError, ValueError
        From the source when files are missing or shapes do not match (messages list what was
        found).
    """
    data = config.data
    frames, scale = config.model.in_frames, config.model.scale
    if isinstance(data, BioSRDataConfig):
        overlap = sorted(set(data.train_cells) & set(data.val_cells))
        if overlap:
            raise ValueError(f"cells {overlap} are in both train_cells and val_cells")
        common = {"in_frames": frames, "scale": scale, "gt_name": data.gt}
        return (
            BioSRSource(data.root, data.train_cells, data.levels, **common),  # type: ignore[arg-type]
            BioSRSource(data.root, data.val_cells, data.levels, **common),  # type: ignore[arg-type]
        )
    if isinstance(data, TiffPairsDataConfig):
        return (
            TiffPairsSource(data.root, "training", in_frames=frames, scale=scale),
            TiffPairsSource(data.root, "validate", in_frames=frames, scale=scale),
        )
    if isinstance(data, SimulatedDataConfig):
        from ._simulated import SimulatedSource

        return (
            SimulatedSource(data, in_frames=frames, scale=scale, validation=False),
            SimulatedSource(data, in_frames=frames, scale=scale, validation=True),
        )
    raise TypeError(f"unknown data source {type(data).__name__}")
