"""Training configuration: one validated YAML file describes a whole run.

Every model is a frozen pydantic model that rejects unknown keys (`FrozenConfig`), so a typo in
``train.yaml`` is an error naming the key, never a silently ignored setting. The data source is a
tagged union on ``source``: ``simulated`` (no download), ``biosr`` (the BioSR data set as
downloaded) or ``tiff_pairs`` (the authors' DL-SR patch folders).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from typing_extensions import Self

from livesr.config import FrozenConfig, ModelConfig

__all__ = [
    "TRAINING_SEED_START",
    "BioSRDataConfig",
    "DataConfig",
    "SimulatedDataConfig",
    "TiffPairsDataConfig",
    "TrainConfig",
]

#: Simulated training fields use seeds from here up; evaluation uses seeds below 1000, so a
#: trained model never sees an evaluation field.
TRAINING_SEED_START = 1_000_000

_ALL_STRUCTURES = ("microtubules", "ccps", "er", "f-actin")


class SimulatedDataConfig(FrozenConfig):
    """Simulated fields rendered on the fly by `livesr.simulate`.

    Attributes
    ----------
    source : "simulated"
    structures : tuple of str
        Specimen structures to draw from (`livesr.simulate.STRUCTURES`).
    levels : tuple of int
        Signal levels 1-9 (`livesr.simulate.SIGNAL_LEVELS`) to draw from, uniformly.
    field_size : int
        Raw frame size (pixels) of each simulated field; patches are cut from it.
    pool_size : int
        Fields kept in memory; patches are drawn from the pool.
    refresh_every : int
        Replace one pool field with a freshly simulated one every this many patches, so the
        data keep changing without paying a simulation per patch.
    seed : int
        First training seed (>= 1,000,000, disjoint from evaluation seeds).
    validation_seed : int
        First seed of the fixed validation fields (also >= 1,000,000, away from `seed`).
    validation_fields : int
        Number of simulated validation fields.
    randomize_pattern : bool
        Randomise pattern angle offset, phase errors, modulation and k0 per field, so the model
        does not overfit one microscope's pattern.
    """

    source: Literal["simulated"] = "simulated"
    structures: tuple[str, ...] = _ALL_STRUCTURES
    levels: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9)
    field_size: int = Field(128, ge=16)
    pool_size: int = Field(32, ge=1)
    refresh_every: int = Field(16, ge=1)
    seed: int = Field(TRAINING_SEED_START, ge=TRAINING_SEED_START)
    validation_seed: int = Field(TRAINING_SEED_START + 900_000, ge=TRAINING_SEED_START)
    validation_fields: int = Field(8, ge=1)
    randomize_pattern: bool = True

    @model_validator(mode="after")
    def _check(self) -> Self:
        unknown = [s for s in self.structures if s not in _ALL_STRUCTURES]
        if unknown or not self.structures:
            raise ValueError(
                f"structures {list(self.structures)}: unknown {unknown}; "
                f"choose from {list(_ALL_STRUCTURES)}"
            )
        bad = [lv for lv in self.levels if not 1 <= lv <= 9]
        if bad or not self.levels:
            raise ValueError(f"levels {list(self.levels)}: signal levels are 1-9")
        return self


class BioSRDataConfig(FrozenConfig):
    """The BioSR data set as downloaded (one structure folder).

    Attributes
    ----------
    source : "biosr"
    root : Path
        A structure folder holding ``Cell_NNN`` sub-folders (for example ``BioSR/Microtubules``).
    levels : tuple of int or None
        Signal levels to use; None uses every level present.
    train_cells, val_cells : tuple of int
        Cell numbers; the authors' split is cells 6-35 for training, 1-5 for validation
        (36-50 are the test cells, never used in training).
    gt : str
        Ground-truth file name in each cell folder: ``SIM_gt.mrc`` (linear SIM) or
        ``SIM_gt_a.mrc`` (nonlinear SIM). ER's per-level ``GTSIM`` layout is detected.
    """

    source: Literal["biosr"] = "biosr"
    root: Path
    levels: tuple[int, ...] | None = None
    train_cells: tuple[int, ...] = tuple(range(6, 36))
    val_cells: tuple[int, ...] = (1, 2, 3, 4, 5)
    gt: str = "SIM_gt.mrc"


class TiffPairsDataConfig(FrozenConfig):
    """Patch folders in the authors' DL-SR layout.

    ``<root>/training/00000001/1.tif..9.tif``, ``<root>/training_gt/00000001.tif``,
    ``<root>/training_wf/00000001.tif`` and the same under ``validate``.

    Attributes
    ----------
    source : "tiff_pairs"
    root : Path
        The folder holding ``training``, ``training_gt`` (and ``training_wf``, ``validate*``).
    """

    source: Literal["tiff_pairs"] = "tiff_pairs"
    root: Path


DataConfig = Annotated[
    SimulatedDataConfig | BioSRDataConfig | TiffPairsDataConfig,
    Field(discriminator="source"),
]


class TrainConfig(FrozenConfig):
    """A whole training run (DFCAN or DFGAN).

    The mode follows ``model.in_frames``: 1 trains SISR (wide-field in), more trains SIM-mode
    (raw frames in, angle-major). ``model.architecture`` ``"dfgan"`` runs the GAN loop.

    Attributes
    ----------
    model : ModelConfig
        Network to build (`livesr.models.build_model`).
    data : DataConfig
        Where patches come from.
    out_dir : Path
        Run folder: ``latest.pt``, ``best.pt``, ``log.csv``, ``config.yaml``, exported weights.
    iterations : int
        Generator optimiser steps in total.
    batch_size : int
        Patches per step (per process under DDP).
    patch_size : int
        Input patch size in raw pixels (the ground truth patch is ``scale`` times larger).
    lr, d_lr : float
        Adam learning rates of the network (generator) and of the DFGAN discriminator.
    ssim_weight : float
        Weight of ``1 - SSIM`` next to the MSE (the authors use 0.1).
    adversarial_weight : float
        DFGAN: weight of the generator's BCE term (0.1).
    g_steps_per_d_step : int
        DFGAN: generator steps per discriminator step (3).
    discriminator : dict
        DFGAN: `livesr.models.DFGANDiscriminator` options (``widths``, ``stem``, ``dense``);
        empty gives the authors' discriminator.
    val_every : int
        Validate (and checkpoint) every this many iterations.
    val_patches : int
        Fixed validation patches (drawn once with `seed`).
    plateau_patience : int
        Validations without an improvement of `plateau_min_delta` in NRMSE before the learning
        rate halves.
    plateau_min_delta : float
        Smallest NRMSE decrease that counts as an improvement.
    min_lr : float
        Floor of the learning rate.
    percentiles : (float, float)
        Low and high percentile of the input normalisation (0, 100 = the authors' min-max).
    seed : int
        Seed of the patch sampler, augmentation and weight initialisation.
    threads : int or None
        ``torch.set_num_threads`` on CPU (None leaves torch's default).
    amp : bool
        Mixed precision on CUDA (ignored on CPU).
    device : "auto", "cpu" or "cuda"
        Where to train; ``auto`` picks CUDA when present.
    max_minutes : float or None
        Wall-time budget: stop (validate, checkpoint) at the first step after it, even before
        `iterations`. A later resume continues the schedule.
    progress : bool
        Show the rich progress bar (loss, validation NRMSE) on rank 0.
    """

    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=SimulatedDataConfig)
    out_dir: Path = Path("runs/train")
    iterations: int = Field(200_000, ge=1)
    batch_size: int = Field(4, ge=1)
    patch_size: int = Field(128, ge=8)
    lr: float = Field(1e-4, gt=0.0)
    d_lr: float = Field(2e-5, gt=0.0)
    ssim_weight: float = Field(0.1, ge=0.0)
    adversarial_weight: float = Field(0.1, ge=0.0)
    g_steps_per_d_step: int = Field(3, ge=1)
    discriminator: dict[str, Any] = Field(default_factory=dict)
    val_every: int = Field(2000, ge=1)
    val_patches: int = Field(500, ge=1)
    plateau_patience: int = Field(10, ge=1)
    plateau_min_delta: float = Field(1e-4, ge=0.0)
    min_lr: float = Field(1e-5, ge=0.0)
    percentiles: tuple[float, float] = (0.0, 100.0)
    seed: int = 0
    threads: int | None = Field(None, ge=1)
    amp: bool = True
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_minutes: float | None = Field(None, gt=0.0)
    progress: bool = True

    @model_validator(mode="after")
    def _check(self) -> Self:
        lo, hi = self.percentiles
        if not 0.0 <= lo < hi <= 100.0:
            raise ValueError(f"percentiles {self.percentiles}: need 0 <= low < high <= 100")
        if self.model.architecture not in ("dfcan", "dfgan"):
            raise ValueError(
                f"model.architecture={self.model.architecture!r}: training supports "
                "'dfcan' and 'dfgan'"
            )
        return self

    @property
    def is_gan(self) -> bool:
        """True when the DFGAN loop (generator + discriminator) runs."""
        return self.model.architecture == "dfgan"

    @property
    def mode(self) -> Literal["sim", "sisr"]:
        """``"sisr"`` for one input frame (wide-field), else ``"sim"``."""
        return "sisr" if self.model.in_frames == 1 else "sim"
