"""Training DFCAN and DFGAN: data sources, losses, loops, checkpoints, weight export.

Data sources yield (input, ground truth) fields: BioSR as downloaded (`BioSRSource`), the
authors' DL-SR TIFF patch folders (`TiffPairsSource`) and livesr's simulator on the fly
(`SimulatedSource`). `PatchSampler` cuts foreground patches with random rotation/flips and the
authors' percentile normalisation. `train` runs the DFCAN or DFGAN loop a `TrainConfig`
describes; `export_weights` turns a checkpoint into safetensors + model card.

Torch is imported only when a loop runs, so the configs and data sources work without it.
"""

from ._biosr import BioSRSource, find_biosr_pairs, read_mrc
from ._checkpoint import CsvLog, load_checkpoint, save_checkpoint
from ._config import (
    TRAINING_SEED_START,
    BioSRDataConfig,
    DataConfig,
    SimulatedDataConfig,
    TiffPairsDataConfig,
    TrainConfig,
)
from ._data import make_sources
from ._export import export_weights
from ._loop import TrainResult, train
from ._patches import (
    augment,
    foreground_mask,
    normalize_input,
    normalize_target,
    random_patch,
    widefield_input,
)
from ._sources import Field, FieldSource, PatchSampler
from ._tiff_pairs import TiffPairsSource

__all__ = [
    "TRAINING_SEED_START",
    "BioSRDataConfig",
    "BioSRSource",
    "CsvLog",
    "DataConfig",
    "Field",
    "FieldSource",
    "PatchSampler",
    "SimulatedDataConfig",
    "TiffPairsDataConfig",
    "TiffPairsSource",
    "TrainConfig",
    "TrainResult",
    "augment",
    "export_weights",
    "find_biosr_pairs",
    "foreground_mask",
    "load_checkpoint",
    "make_sources",
    "normalize_input",
    "normalize_target",
    "random_patch",
    "read_mrc",
    "save_checkpoint",
    "train",
    "widefield_input",
]
