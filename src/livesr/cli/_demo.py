"""``livesr demo``: a two-colour SIM time-lapse on the simulated microscope, SR live."""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ._app import app
from ._progress import RunProgress, exit_code, look_at_it


def start_preview(run: Any, preview: bool, qc_overlay: bool = False) -> Any:
    """`run` (run_live) under the commands' host tuning, as is or beside the preview window.

    The livesr commands own their process, so the run applies ``HostTuning.application()``
    (malloc tuned, inference on cores of its own at a lower priority; restored at the end).
    The window needs the main thread, so with a preview the run moves to a background thread
    (`livesr.preview.with_preview`); without a display it writes PNG snapshots instead.
    `qc_overlay` starts the preview with the quality error maps drawn in red over the SR.
    """

    def tuned(*args: Any, **kwargs: Any) -> Any:
        from livesr._host import host_tuning
        from livesr.config import HostTuning

        with host_tuning(HostTuning.application()):
            return run(*args, **kwargs)

    if not preview:
        return tuned
    from livesr.preview import with_preview

    return with_preview(tuned, qc_overlay=qc_overlay)


def check_qc_overlay(preview: bool, qc_overlay: bool) -> None:
    """``--qc-overlay`` draws over the live preview: refuse it without ``--preview``."""
    if qc_overlay and not preview:
        raise typer.BadParameter(
            "the error-map overlay is drawn on the live preview: add --preview",
            param_hint="--qc-overlay",
        )


@app.command()
def demo(
    timepoints: Annotated[int, typer.Option(min=1, help="Time points to acquire.")] = 10,
    channels: Annotated[str, typer.Option(help="Comma-separated laser lines.")] = "488,561",
    size: Annotated[int, typer.Option(help="Camera frame size: 64, 128, 256 or 512.")] = 128,
    backend: Annotated[
        str, typer.Option(help="auto, torch, onnxruntime, tensorrt, or wiener.")
    ] = "auto",
    model: Annotated[
        list[str] | None,
        typer.Option(help="CHANNEL=MODEL (repeatable): wiener, bundled weights or a path."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Run store to create.")] = Path("demo_run.zarr"),
    overwrite: Annotated[bool, typer.Option(help="Replace an existing store.")] = False,
    exposure: Annotated[float, typer.Option(help="Exposure per raw frame, ms.")] = 5.0,
    interval: Annotated[float, typer.Option(help="Seconds between time points.")] = 0.5,
    photons: Annotated[float, typer.Option(help="Mean photons per pixel (signal).")] = 100.0,
    hardware_sequencing: Annotated[
        bool, typer.Option(help="Triggered bursts (off: one software-timed snap per frame).")
    ] = True,
    preview: Annotated[bool, typer.Option(help="Show the live preview window.")] = False,
    qc_overlay: Annotated[
        bool, typer.Option(help="With --preview: start with the error maps in red over the SR.")
    ] = False,
) -> None:
    """Acquire a two-colour SIM time-lapse on the simulated microscope with live SR."""
    import useq

    from livesr.acquire import close_core, open_core
    from livesr.config import PipelineConfig, WriterConfig
    from livesr.pipeline import PipelineError, parse_model_options, run_live
    from livesr.reconstruct import BackendUnavailableError
    from livesr.simulate import demo_calibration
    from livesr.simulate.devices import DEMO_SIZES

    names = [c.strip() for c in channels.split(",") if c.strip()]
    check_qc_overlay(preview, qc_overlay)
    if size not in DEMO_SIZES:
        raise typer.BadParameter(f"choose one of {DEMO_SIZES}", param_hint="--size")
    if out.exists() and not overwrite:
        raise typer.BadParameter(
            f"{out} already exists: choose another path, delete it, or pass --overwrite",
            param_hint="--out",
        )
    try:
        models = parse_model_options(model or [], names)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from None
    core = open_core("demo", hardware_sequencing=hardware_sequencing)
    try:
        core.setProperty("Camera", "Size", size)
        core.setProperty("Camera", "Photons", photons)
        core.setExposure(exposure)
        sequence = useq.MDASequence(
            channels=names, time_plan={"interval": interval, "loops": timepoints}
        )
        # Conventional SIM uses the demo microscope's calibration, as a lab uses its own.
        config = PipelineConfig(
            writer=WriterConfig(path=out, overwrite=overwrite), calibration=demo_calibration()
        )
        typer.echo(
            f"demo: {timepoints} time points x {names} x 9 patterns at {size}x{size}, "
            f"exposure {exposure} ms -> {out}"
        )

        t0 = time.perf_counter()
        try:
            with RunProgress(timepoints * len(names)) as progress:
                summary = start_preview(run_live, preview, qc_overlay)(
                    core, sequence, out, models=models, backend=backend, config=config,
                    connect=progress.connect,
                )  # fmt: skip
        except (ValueError, FileExistsError, BackendUnavailableError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except PipelineError as exc:  # the run failed (e.g. disk full): its counts, then why
            if exc.summary is not None:
                typer.echo(str(exc.summary))
            raise
        typer.echo(str(summary))
        typer.echo(f"done in {time.perf_counter() - t0:.1f} s")
        typer.echo(look_at_it(out))
        code = exit_code(summary.status, summary.stopped_by)
        if code:
            sys.exit(code)
    finally:
        close_core(core)
