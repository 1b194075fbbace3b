"""``livesr acquire``: a useq sequence on a real (or demo) microscope, SR live."""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._app import app
from ._demo import check_qc_overlay, start_preview
from ._progress import RunProgress, exit_code, look_at_it


@app.command()
def acquire(
    config: Annotated[
        str, typer.Option("--config", help="Micro-Manager .cfg of the microscope, or 'demo'.")
    ],
    sequence: Annotated[
        Path, typer.Option(help="useq MDASequence as YAML/JSON (channels, time_plan).")
    ],
    out: Annotated[Path, typer.Option(help="Run store to create.")],
    model: Annotated[
        list[str] | None,
        typer.Option(help="CHANNEL=MODEL (repeatable) or MODEL for all channels."),
    ] = None,
    backend: Annotated[
        str, typer.Option(help="auto, torch, onnxruntime, tensorrt, or wiener.")
    ] = "auto",
    pipeline_config: Annotated[
        Path | None, typer.Option(help="PipelineConfig YAML (optics, pattern, backlog).")
    ] = None,
    pattern_device: Annotated[
        str, typer.Option(help="Device whose Label selects the SIM pattern.")
    ] = "Pattern",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing store.")] = False,
    hardware_sequencing: Annotated[
        bool, typer.Option(help="Triggered bursts where the devices allow.")
    ] = True,
    preview: Annotated[bool, typer.Option(help="Show the live preview window.")] = False,
    qc_overlay: Annotated[
        bool, typer.Option(help="With --preview: start with the error maps in red over the SR.")
    ] = False,
) -> None:
    """Run a SIM acquisition from a .cfg and a useq sequence with live SR into OME-Zarr."""
    import useq
    from pydantic import ValidationError

    from livesr.acquire import close_core, open_core
    from livesr.config import PipelineConfig
    from livesr.pipeline import PipelineError, parse_model_options, run_live
    from livesr.reconstruct import BackendUnavailableError

    check_qc_overlay(preview, qc_overlay)
    if out.exists() and not overwrite:
        raise typer.BadParameter(
            f"{out} already exists: choose another path, delete it, or pass --overwrite",
            param_hint="--out",
        )
    if not sequence.is_file():
        raise typer.BadParameter(f"{sequence} does not exist", param_hint="--sequence")
    try:
        seq = useq.MDASequence.from_file(sequence)
    except (ValidationError, ValueError) as exc:
        raise typer.BadParameter(
            f"not a valid useq sequence: {exc}", param_hint="--sequence"
        ) from None
    if not seq.channels:
        raise typer.BadParameter(
            "the sequence has no channels: list the laser presets of the .cfg's channel group",
            param_hint="--sequence",
        )
    try:
        cfg = PipelineConfig.from_file(pipeline_config) if pipeline_config else PipelineConfig()
        models = parse_model_options(model or [], [c.config for c in seq.channels])
    except (ValidationError, ValueError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    cfg = cfg.model_copy(
        update={"writer": cfg.writer.model_copy(update={"path": out, "overwrite": overwrite})}
    )
    try:
        core = open_core(config, hardware_sequencing=hardware_sequencing)
    except (FileNotFoundError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        try:
            # One stack per base event of the sequence (each becomes n_angles x n_phases frames).
            with RunProgress(sum(1 for _ in seq)) as progress:
                summary = start_preview(run_live, preview, qc_overlay)(
                    core, seq, out, models=models, backend=backend, config=cfg,
                    pattern_device=pattern_device, connect=progress.connect,
                )  # fmt: skip
        except (ValueError, FileExistsError, BackendUnavailableError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except PipelineError as exc:  # the run failed (e.g. disk full): its counts, then why
            if exc.summary is not None:
                typer.echo(str(exc.summary))
            raise
        typer.echo(str(summary))
        typer.echo(look_at_it(out))
        code = exit_code(summary.status, summary.stopped_by)
        if code:
            sys.exit(code)
    finally:
        close_core(core)
