"""``livesr simulate``: write a simulated SIM sample (raw, GT, wide-field, parameters, preview)."""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from ._app import app


class _Structure(str, Enum):
    microtubules = "microtubules"
    ccps = "ccps"
    er = "er"
    f_actin = "f-actin"


class _Mode(str, Enum):
    linear = "linear"
    nonlinear = "nonlinear"


def write_preview(path: Path, wf: np.ndarray, gt: np.ndarray, title: str) -> None:
    """Save wide-field | ground truth side by side as a PNG (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "the preview PNG needs matplotlib: pip install 'livesr[plot]' (or pass --no-preview)"
        ) from None

    def _stretch(img: np.ndarray) -> np.ndarray:
        lo, hi = np.percentile(img, (0.5, 99.8))
        stretched: np.ndarray = np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1)
        return stretched

    fig, axes = plt.subplots(1, 2, figsize=(10, 5.3), constrained_layout=True)
    names = ("wide-field", "ground truth (SIM passband)")
    for ax, img, name in zip(axes, (wf, gt), names, strict=True):
        ax.imshow(_stretch(img), cmap="gray", interpolation="nearest")
        ax.set_title(name)
        ax.set_axis_off()
    fig.suptitle(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)


@app.command()
def simulate(
    structure: Annotated[
        _Structure, typer.Option(help="Specimen to simulate.")
    ] = _Structure.microtubules,
    level: Annotated[
        int, typer.Option(min=1, max=9, help="Signal level 1 (15 photons) .. 9 (600 photons).")
    ] = 3,
    mode: Annotated[
        _Mode, typer.Option(help="linear (3x3, GT x2) or nonlinear (5x5, GT x3) SIM.")
    ] = _Mode.linear,
    size: Annotated[int, typer.Option(min=16, help="Camera frame size in pixels.")] = 256,
    timepoints: Annotated[int, typer.Option(min=1, help="Number of SIM stacks.")] = 1,
    seed: Annotated[int, typer.Option(min=0, help="Seed (evaluation < 1000).")] = 0,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("sample"),
    preview: Annotated[bool, typer.Option(help="Write preview.png (needs matplotlib).")] = True,
    photons: Annotated[
        Optional[float], typer.Option(help="Mean signal photons per pixel (overrides --level).")
    ] = None,
) -> None:
    """Simulate a SIM sample: raw.tif, gt.tif, wf.tif, params.json and preview.png.

    raw.tif holds uint16 frames (F, Y, X), angle-major and phase-minor, or (T, F, Y, X) for a
    time-lapse; gt.tif (sY, sX) and wf.tif (Y, X) are float32 (with a leading T likewise).
    params.json has the exact k vectors, phases, modulation, optics and seed.
    """
    import tifffile
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from livesr.simulate import simulate_sample

    out.mkdir(parents=True, exist_ok=True)
    with Progress(
        TextColumn("[bold]simulating[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} stacks"),
        TimeElapsedColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task(f"{structure.value} {mode.value}", total=timepoints)
        sample = simulate_sample(
            structure.value,
            size=size,
            level=level,
            photons=photons,
            mode=mode.value,
            timepoints=timepoints,
            seed=seed,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    raw, gt, wf, params = sample
    t, f = raw.shape[:2]
    axes = "TCYX" if t > 1 else "CYX"
    # Grey pages, one per plane: what ImageJ, napari and livesr.io.read_stack expect.
    grey = "minisblack"
    tifffile.imwrite(
        out / "raw.tif", raw if t > 1 else raw[0], metadata={"axes": axes}, photometric=grey
    )
    tifffile.imwrite(out / "gt.tif", gt if t > 1 else gt[0], photometric=grey)
    tifffile.imwrite(out / "wf.tif", wf if t > 1 else wf[0], photometric=grey)
    params["files"] = {
        "raw.tif": f"uint16 {list(raw.shape if t > 1 else raw.shape[1:])}, frames angle-major",
        "gt.tif": f"float32 {list(gt.shape if t > 1 else gt.shape[1:])}",
        "wf.tif": f"float32 {list(wf.shape if t > 1 else wf.shape[1:])}, mean of raw frames",
    }
    (out / "params.json").write_text(json.dumps(params, indent=2) + "\n")
    written = ["raw.tif", "gt.tif", "wf.tif", "params.json"]
    if preview:
        try:
            write_preview(
                out / "preview.png",
                wf[0],
                gt[0],
                f"{structure.value}, {mode.value} SIM, {params['photons']:.0f} photons/px",
            )
        except ImportError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None
        written.append("preview.png")
    typer.echo(f"wrote {', '.join(written)} to {out} ({f} frames per stack, {t} stack(s))")
