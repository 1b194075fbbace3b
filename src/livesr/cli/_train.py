# typer reads annotations at runtime, so no `from __future__ import annotations` here.
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._app import app


@app.command()
def train(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Training config YAML (see examples/configs).")
    ],
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from out_dir/latest.pt if it exists.")
    ] = False,
    out_dir: Annotated[
        Optional[Path], typer.Option("--out-dir", help="Override out_dir of the config.")
    ] = None,
    iterations: Annotated[
        Optional[int], typer.Option("--iterations", help="Override iterations.", min=1)
    ] = None,
    max_minutes: Annotated[
        Optional[float], typer.Option("--max-minutes", help="Stop after this wall time.")
    ] = None,
    export: Annotated[
        Optional[Path],
        typer.Option("--export", help="Write the best weights here (.safetensors + card)."),
    ] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Model card name.")] = None,
) -> None:
    """Train DFCAN or DFGAN (single process, or every rank under torchrun)."""
    import os
    import shlex
    import sys

    from pydantic import ValidationError

    from livesr.train import TrainConfig, export_weights
    from livesr.train import train as run_training

    try:
        cfg = TrainConfig.from_file(config)
    except (FileNotFoundError, ValidationError, ValueError) as exc:
        typer.echo(f"error: invalid training config {config}:\n{exc}", err=True)
        raise typer.Exit(2) from None
    overrides = {
        "out_dir": out_dir,
        "iterations": iterations,
        "max_minutes": max_minutes,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:
        cfg = TrainConfig.model_validate({**cfg.model_dump(), **overrides})
    try:
        result = run_training(cfg, resume=resume)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    state = "finished" if result.finished else "stopped by max_minutes (resume with --resume)"
    typer.echo(
        f"{state}: step {result.step}, best val NRMSE {result.best_nrmse:.4f}, "
        f"{result.patches_per_s:.2f} patches/s, {result.elapsed_s / 60:.1f} min, "
        f"checkpoints in {result.out_dir}"
    )
    if export is not None and os.environ.get("RANK", "0") == "0":
        command = "livesr " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        path = export_weights(result.best_checkpoint, export, name=name, training_command=command)
        typer.echo(f"weights written to {path}")
