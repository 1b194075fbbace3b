"""Sweep reports: CSV of every row, markdown tables, metric-vs-signal plots, image panels.

Plots follow the paper's Fig. 1: each metric against the signal level (mean photons per
pixel, log axis), one line per method, one panel per structure. Image panels show the ground
truth and every method at a few levels on one common intensity scale (each image mapped onto
the ground truth by the photometric affine fit, so intensities are comparable). matplotlib is
imported only here (the ``plot`` extra).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._metrics import fit_affine
from ._sweep import METRICS, SweepResult, summarize

__all__ = ["PLOTTED_METRICS", "write_csv", "write_markdown", "write_plots", "write_report"]

#: Metric, axis label, and whether lower is better.
PLOTTED_METRICS: dict[str, tuple[str, bool]] = {
    "nrmse": ("NRMSE (min-max, authors)", True),
    "psnr": ("PSNR dB (min-max, authors)", False),
    "ssim": ("SSIM (min-max, authors)", False),
    "ms_ssim": ("MS-SSIM (min-max, authors)", False),
    "nrmse_photometric": ("NRMSE (photometric)", True),
    "ms_ssim_photometric": ("MS-SSIM (photometric)", False),
    "resolution_nm": ("decorrelation resolution (nm)", True),
    "frc_half_bit_nm": ("FRC resolution, half-bit (nm)", True),
}


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Every row (one per field and method) as CSV."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _fmt(value: float, std: float) -> str:
    if not math.isfinite(value):
        return "-"
    digits = 1 if abs(value) >= 10 else 3
    return f"{value:.{digits}f} ± {std:.{digits}f}" if std else f"{value:.{digits}f}"


def write_markdown(summary: Sequence[dict[str, Any]], path: Path) -> Path:
    """One table per structure and metric: levels as rows, methods as columns (mean ± sd)."""
    methods = list(dict.fromkeys(s["method"] for s in summary))
    structures = list(dict.fromkeys(s["structure"] for s in summary))
    lookup = {(s["structure"], s["level"], s["method"]): s for s in summary}
    lines = ["# livesr evaluation", ""]
    lines.append(
        "Mean ± standard deviation over fields. *photometric* (first): image affinely fitted "
        "to the ground truth; *authors*: each image min-max normalised to [0, 1] (DFCAN "
        "paper), which hides intensity errors. "
        "Resolution: decorrelation analysis and FRC (lower is better), on each method's native "
        "grid. Both assume that only signal correlates: for nonlinear methods (Richardson-Lucy, "
        "networks) structure-driven extrapolation correlates too and reads as resolution, so "
        "judge those by the ground-truth metrics."
    )
    # Photometric first: min-max normalisation hides intensity errors and flatters networks.
    ordered = [m for m in METRICS if m.endswith("_photometric")]
    ordered += [m for m in METRICS if m not in ordered]
    for structure in structures:
        levels = sorted({s["level"] for s in summary if s["structure"] == structure})
        for metric in ordered:
            if all(
                not math.isfinite(lookup[(structure, lv, m)][metric])
                for lv in levels
                for m in methods
                if (structure, lv, m) in lookup
            ):
                continue
            lines += ["", f"## {structure}: {metric}", ""]
            lines.append("| level | photons | " + " | ".join(methods) + " |")
            lines.append("|---|---|" + "---|" * len(methods))
            for lv in levels:
                cells = []
                photons = ""
                for m in methods:
                    s = lookup.get((structure, lv, m))
                    if s is None:
                        cells.append("-")
                        continue
                    photons = f"{s['photons']:.0f}"
                    cells.append(_fmt(s[metric], s[metric + "_std"]))
                lines.append(f"| {lv} | {photons} | " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_plots(
    summary: Sequence[dict[str, Any]],
    images: dict[tuple[str, int], dict[str, np.ndarray]],
    out_dir: Path,
) -> list[Path]:
    """PNG per metric vs signal level, and one image panel per structure.

    Returns
    -------
    list of Path
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    structures = list(dict.fromkeys(s["structure"] for s in summary))
    methods = list(dict.fromkeys(s["method"] for s in summary))
    for metric, (label, lower_better) in PLOTTED_METRICS.items():
        if not any(math.isfinite(s[metric]) for s in summary):
            continue
        fig, axes = plt.subplots(
            1, len(structures), figsize=(4.2 * len(structures), 3.6), squeeze=False
        )
        for ax, structure in zip(axes[0], structures, strict=True):
            for method in methods:
                pts = sorted(
                    (s["photons"], s[metric], s[metric + "_std"])
                    for s in summary
                    if s["structure"] == structure and s["method"] == method
                )
                if not pts:
                    continue
                x, y, e = (np.array(v, dtype=float) for v in zip(*pts, strict=True))
                ax.errorbar(x, y, yerr=e, marker="o", ms=3, capsize=2, label=method)
            ax.set_xscale("log")
            ax.set_xlabel("signal (mean photons / pixel)")
            ax.set_title(structure)
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel(label + (" ↓" if lower_better else " ↑"))
        axes[0][-1].legend(fontsize=8)
        fig.tight_layout()
        path = out_dir / f"{metric}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    for structure in structures:
        levels = sorted(lv for (st, lv) in images if st == structure)
        if not levels:
            continue
        shown = sorted({levels[0], levels[len(levels) // 2], levels[-1]})
        names = list(images[(structure, shown[0])])
        fig, axes = plt.subplots(
            len(shown), len(names), figsize=(2.6 * len(names), 2.6 * len(shown)), squeeze=False
        )
        for r, level in enumerate(shown):
            panel = images[(structure, level)]
            gt = panel["gt"]
            lo, hi = np.percentile(gt, [0.1, 99.9])
            for c, name in enumerate(names):
                image = panel[name] if name == "gt" else fit_affine(panel[name], gt)
                ax = axes[r][c]
                ax.imshow(image, cmap="magma", vmin=lo, vmax=hi, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(name, fontsize=9)
                if c == 0:
                    ax.set_ylabel(f"level {level}", fontsize=9)
        fig.suptitle(f"{structure}: common scale (ground-truth range)", fontsize=10)
        fig.tight_layout()
        path = out_dir / f"panels_{structure}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def write_report(result: SweepResult, out_dir: str | Path, *, plots: bool = True) -> list[Path]:
    """Write results.csv, results.md and (with matplotlib) the PNGs into `out_dir`.

    Rows with QC columns (``run_sweep(..., with_qc=True)``) add ``qc_correlation.json`` and
    ``qc_vs_error.png``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(result.rows)
    written = [write_csv(result.rows, out / "results.csv")]
    written.append(write_markdown(summary, out / "results.md"))
    if plots:
        written += write_plots(summary, result.images, out)
    if any("qc_rsp" in row for row in result.rows):
        from ._qc import write_qc_report

        written += write_qc_report(result.rows, out, plots=plots)
    return written
