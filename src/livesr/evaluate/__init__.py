"""Evaluation: image metrics, resolution (decorrelation, FRC) and the SNR sweep.

Metrics take 2D images against a ground truth in two conventions (``"authors"``: min-max
normalised as in the DFCAN paper; ``"photometric"``: affine fit to the ground truth).
`run_sweep` (or `sweep_tasks` + `evaluate_task`, for distributing) scores wide-field,
Richardson-Lucy, Wiener SIM and trained models over structures x signal levels x fields.
"""

from ._decorrelation import Decorrelation, decorrelation_analysis, decorrelation_resolution
from ._frc import FRCResult, frc
from ._metrics import fit_affine, ms_ssim, normalize_minmax, nrmse, psnr, ssim
from ._report import write_csv, write_markdown, write_plots, write_report
from ._sweep import (
    BUILTIN_METHODS,
    METRICS,
    SweepResult,
    SweepTask,
    TaskResult,
    evaluate_task,
    run_sweep,
    summarize,
    sweep_tasks,
)

__all__ = [
    "BUILTIN_METHODS",
    "METRICS",
    "Decorrelation",
    "FRCResult",
    "SweepResult",
    "SweepTask",
    "TaskResult",
    "decorrelation_analysis",
    "decorrelation_resolution",
    "evaluate_task",
    "fit_affine",
    "frc",
    "ms_ssim",
    "normalize_minmax",
    "nrmse",
    "psnr",
    "run_sweep",
    "ssim",
    "summarize",
    "sweep_tasks",
    "write_csv",
    "write_markdown",
    "write_plots",
    "write_report",
]
