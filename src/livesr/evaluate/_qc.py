"""`livesr evaluate --qc`: how well the QC numbers track the real error.

On simulated data the ground truth is known, so each method's SR image gets both its true
error (photometric NRMSE against the ground truth) and the QC numbers a live run would
record without the ground truth: SQUIRREL `rsp`, raw re-synthesis chi^2 (mean over
orientations, with the simulator's exact pattern) and the out-of-band energy. The report is
a scatter plot per QC number with its rank (Spearman) and Pearson correlation over every
(structure, level, field, method).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr.config import OpticsConfig, PatternConfig

__all__ = ["QC_COLUMNS", "qc_columns", "qc_correlations", "write_qc_report"]

#: QC column, axis label.
QC_COLUMNS: dict[str, str] = {
    "qc_rsp": "SQUIRREL rsp",
    "qc_chi2": "raw re-synthesis chi² (mean over orientations)",
    "qc_out_of_band": "energy beyond the SIM passband",
}
#: The true error the QC numbers are compared with.
TRUE_ERROR = "nrmse_photometric"


def qc_columns(
    image: NDArray[np.float32],
    raw: NDArray[np.generic],
    optics: OpticsConfig,
    pattern: PatternConfig,
    scale: int,
) -> dict[str, float]:
    """The QC numbers of one SR image of a simulated stack (exact pattern, simulator camera)."""
    from livesr.qc import PatternState, QualityChecker

    checker = QualityChecker(
        optics,
        (int(raw.shape[-2]), int(raw.shape[-1])),
        scale=scale,
        pattern=PatternState.from_config(pattern, optics),
    )
    record = checker.check(image, raw=raw, map_grid="none").record
    return {
        "qc_rsp": record.rsp,
        "qc_rse": record.rse,
        "qc_chi2": float(np.mean(record.chi2)) if record.chi2 else math.nan,
        "qc_out_of_band": record.out_of_band,
        "qc_photons": record.photons,
    }


def _spearman(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    rx = np.argsort(np.argsort(x)).astype(np.float64)
    ry = np.argsort(np.argsort(y)).astype(np.float64)
    return float(np.corrcoef(rx, ry)[0, 1])


def qc_correlations(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Spearman and Pearson correlation of each QC column with the true error.

    Returns
    -------
    dict
        ``{column: {"spearman": r, "pearson": r, "n": n}}`` for columns with 3+ finite rows.
    """
    out: dict[str, dict[str, float]] = {}
    for column in QC_COLUMNS:
        pairs = [
            (float(r[column]), float(r[TRUE_ERROR]))
            for r in rows
            if column in r and math.isfinite(r[column]) and math.isfinite(r[TRUE_ERROR])
        ]
        if len(pairs) < 3:
            continue
        x, y = (np.array(v) for v in zip(*pairs, strict=True))
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        out[column] = {
            "spearman": _spearman(x, y),
            "pearson": float(np.corrcoef(x, y)[0, 1]),
            "n": float(len(pairs)),
        }
    return out


def write_qc_report(
    rows: Sequence[dict[str, Any]], out_dir: Path, *, plots: bool = True
) -> list[Path]:
    """Write ``qc_correlation.json`` and (with matplotlib) ``qc_vs_error.png``."""
    correlations = qc_correlations(rows)
    path = out_dir / "qc_correlation.json"
    path.write_text(json.dumps({"true_error": TRUE_ERROR, **correlations}, indent=2) + "\n")
    written = [path]
    if not plots or not correlations:
        return written
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(r["method"] for r in rows))
    columns = list(correlations)
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.8), squeeze=False)
    for ax, column in zip(axes[0], columns, strict=True):
        for method in methods:
            pts = [
                (r[column], r[TRUE_ERROR], r["photons"])
                for r in rows
                if r["method"] == method and math.isfinite(r.get(column, math.nan))
            ]
            if not pts:
                continue
            x, y, photons = (np.array(v, dtype=float) for v in zip(*pts, strict=True))
            ax.scatter(x, y, s=8 + 10 * np.log10(photons), alpha=0.75, label=method)
        c = correlations[column]
        ax.set_title(f"Spearman {c['spearman']:+.2f}, Pearson {c['pearson']:+.2f}", fontsize=9)
        ax.set_xlabel(QC_COLUMNS[column])
        if column == "qc_chi2" or column == "qc_out_of_band":
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("true error: NRMSE vs ground truth (photometric)")
    axes[0][-1].legend(fontsize=8, title="marker size ~ log photons", title_fontsize=7)
    fig.suptitle("Do the QC numbers (no ground truth needed) track the true error?", fontsize=10)
    fig.tight_layout()
    png = out_dir / "qc_vs_error.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    written.append(png)
    return written
