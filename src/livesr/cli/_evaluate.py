"""``livesr evaluate``: the SNR sweep over structures x signal levels x fields x methods.

Writes a CSV, a markdown table, metric-vs-signal plots and image panels.
"""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._app import app


def _levels(text: str) -> list[int]:
    levels: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part:
                lo, hi = part.split("-")
                levels += range(int(lo), int(hi) + 1)
            elif part.strip():
                levels.append(int(part))
    except ValueError:
        raise typer.BadParameter(f"--levels {text!r}: use e.g. 1-9 or 1,3,5") from None
    return levels


@app.command()
def evaluate(
    structures: Annotated[
        str, typer.Option(help="Comma-separated: microtubules, ccps, er, f-actin.")
    ] = "microtubules,ccps,er,f-actin",
    levels: Annotated[str, typer.Option(help="Signal levels, e.g. 1-9 or 1,5,9.")] = "1-9",
    fields: Annotated[int, typer.Option(help="Held-out simulated fields per level.")] = 2,
    size: Annotated[int, typer.Option(help="Raw frame size in pixels.")] = 128,
    methods: Annotated[
        str, typer.Option(help="Comma-separated built-in methods: wf, rl, wiener.")
    ] = "wf,rl,wiener",
    model: Annotated[
        Optional[list[str]],
        typer.Option(help="Trained model to add (bundled name or .safetensors); repeatable."),
    ] = None,
    mode: Annotated[str, typer.Option(help="linear (3x3, x2) or nonlinear (5x5, x3).")] = "linear",
    frc: Annotated[
        bool, typer.Option("--frc/--no-frc", help="FRC from a second noise realisation.")
    ] = False,
    backend: Annotated[str, typer.Option(help="Backend of trained models.")] = "auto",
    scheduler: Annotated[
        Optional[str],
        typer.Option(help="Run tasks on Dask: processes, threads, local, or a scheduler address."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("evaluation"),
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write the PNGs.")] = True,
    qc: Annotated[
        bool,
        typer.Option(
            help="Also record each image's QC numbers (rsp, chi^2, out-of-band) and plot how "
            "well they predict the true error (qc_vs_error.png)."
        ),
    ] = False,
    held_out: Annotated[
        bool,
        typer.Option(
            "--held-out",
            help="Score on a microscope training never used (NA 1.2, 600 nm, 80 nm pixels, "
            "k0 0.8, angles 23/83/143 deg) at --photons, photometric metrics only; adds "
            "Wiener tuned per stack against the ground truth (wiener-tuned).",
        ),
    ] = False,
    photons: Annotated[
        str, typer.Option(help="--held-out photon levels (mean signal photons per pixel).")
    ] = "2,5,10,20,50,200",
) -> None:
    """Score wide-field, RL, Wiener SIM and trained models against simulated ground truth.

    The sweep covers structures x signal levels x fields, as in Fig. 1 of the DFCAN paper.

    Writes results.csv (every field), results.md (mean ± sd tables), one PNG per metric against
    signal level and image panels per structure into OUT. Evaluation seeds are < 1000 and never
    overlap the training seeds (>= 1_000_000).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from livesr.evaluate import BUILTIN_METHODS, run_sweep, write_report

    names = [s.strip() for s in structures.split(",") if s.strip()]
    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    if held_out:
        _held_out(names, chosen, list(model or []), photons, fields, size, backend, out)
        return
    unknown = [m for m in chosen if m not in BUILTIN_METHODS]
    if unknown:
        raise typer.BadParameter(
            f"--methods {unknown}: built-in methods are {BUILTIN_METHODS}; add trained models "
            "with --model NAME_OR_PATH"
        )
    chosen += list(model or [])
    if mode not in ("linear", "nonlinear"):
        raise typer.BadParameter("--mode must be 'linear' or 'nonlinear'")
    level_list = _levels(levels)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} fields"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns) as bar:
            job = bar.add_task("evaluating", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(job, completed=done, total=total)

            if scheduler is None:
                result = run_sweep(
                    names, level_list, fields, size, chosen, mode=mode, with_frc=frc,
                    backend=backend, progress=progress, with_qc=qc,
                )  # fmt: skip
            else:
                if qc:
                    raise ValueError("--qc runs in this process only; leave out --scheduler")
                from livesr.distributed import run_sweep as run_distributed

                result = run_distributed(
                    names, level_list, fields, size, chosen, mode=mode, with_frc=frc,
                    backend=backend, scheduler=scheduler, progress=progress,
                )  # fmt: skip
        written = write_report(result, out, plots=plots)
    except (ValueError, OSError, ImportError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {len(written)} files to {out}: " + ", ".join(p.name for p in written))


def _held_out(
    structures: list[str],
    methods: list[str],
    models: list[str],
    photons: str,
    fields: int,
    size: int,
    backend: str,
    out: Path,
) -> None:
    from livesr.evaluate import write_csv
    from livesr.evaluate._heldout import heldout_rows, heldout_summary, write_heldout_markdown

    try:
        levels = [float(p) for p in photons.split(",") if p.strip()]
    except ValueError:
        raise typer.BadParameter(f"--photons {photons!r}: use e.g. 5,10,20") from None
    chosen = [*methods, *(["wiener-tuned"] if "wiener" in methods else []), *models]
    try:
        rows = heldout_rows(
            chosen, photons=levels, structures=structures, fields=fields, size=size,
            backend="torch" if backend == "auto" else backend,
        )  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        write_csv(rows, out / "heldout.csv")
        md = write_heldout_markdown(heldout_summary(rows), out / "heldout.md")
    except (ValueError, OSError, ImportError, RuntimeError, TypeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(md.read_text(encoding="utf-8"))
