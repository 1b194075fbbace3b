"""``livesr reprocess``: reconstruct a run store's raw stacks on Dask (resumable)."""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._app import app


@app.command()
def reprocess(
    store: Annotated[Path, typer.Argument(help="Run store (*.zarr) to reprocess.")],
    model: Annotated[
        Optional[str],
        typer.Option(
            help="Bundled weights name, .safetensors path or 'wiener'. Default: the model the "
            "live run used (completes its sr image)."
        ),
    ] = None,
    name: Annotated[
        Optional[str],
        typer.Option(
            help="SR image to write (sr or sr_<something>). Default: sr for the "
            "run's own model, sr_<model> for another."
        ),
    ] = None,
    backend: Annotated[
        str, typer.Option(help="Backend for --model: auto, torch, onnxruntime, tensorrt.")
    ] = "auto",
    scheduler: Annotated[
        str,
        typer.Option(
            help="local (worker threads here), processes (local worker processes), or a "
            "scheduler address such as tcp://10.0.0.5:8786."
        ),
    ] = "local",
    workers: Annotated[
        Optional[int], typer.Option(min=1, help="Local workers (default: CPU count).")
    ] = None,
    redo: Annotated[bool, typer.Option(help="Also redo stacks that are already done.")] = False,
    qc: Annotated[
        bool,
        typer.Option(
            help="Give every reprocessed SR frame the live run's quality record and error map "
            "(<name>_qc, <name>_qc_map), summed up per channel at the end."
        ),
    ] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Reconstruct every raw stack without SR, on Dask; rerun to resume after an interrupt.

    Every reprocessed SR frame gets the quality record and error map the live run's quality
    checks give (unless --no-qc); a line per channel sums them up.
    """
    from livesr.distributed import reprocess as run_reprocess
    from livesr.models import WeightsUnavailableError

    if not store.exists():
        raise typer.BadParameter(f"no run store at {store}", param_hint="STORE")
    try:
        result = run_reprocess(
            store, model, name=name, backend=backend, scheduler=scheduler,
            n_workers=workers, redo=redo, qc=qc, progress=progress,
        )  # fmt: skip
    except KeyboardInterrupt:
        typer.echo(
            "interrupted: the finished stacks are saved and marked done; run the same command "
            "again to complete the rest",
            err=True,
        )
        raise typer.Exit(130) from None
    except WeightsUnavailableError as exc:
        # The run's recorded weights are gone or replaced: one line naming the file needed.
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except (ValueError, FileNotFoundError, ImportError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(str(result))
    if result.failed:
        raise typer.Exit(1)
