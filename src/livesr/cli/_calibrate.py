"""``livesr calibrate``: measure a SIM microscope's pattern once and write it as a calibration."""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from ._app import app


@app.command()
def calibrate(
    raw: Annotated[
        list[Path], typer.Argument(help="Raw SIM files of one good acquisition (pooled).")
    ],
    out: Annotated[Path, typer.Option(help="Calibration file to write (.yaml or .json).")],
    angles: Annotated[int, typer.Option(help="Pattern orientations.")] = 3,
    phases: Annotated[int, typer.Option(help="Phase steps per orientation.")] = 3,
    orders: Annotated[int, typer.Option(help="Band orders: 1 linear, 2 3-beam/nonlinear.")] = 1,
    na: Annotated[float, typer.Option(help="Detection NA.")] = 1.49,
    wavelength: Annotated[float, typer.Option(help="Emission wavelength in um.")] = 0.525,
    pixel_size: Annotated[
        Optional[float], typer.Option(help="Raw pixel size in um (default: file header).")
    ] = None,
    channel: Annotated[str, typer.Option(help="Channel name in the calibration.")] = "default",
    otf: Annotated[
        Optional[Path], typer.Option(help="Measured radial OTF (.mrc), recorded in the file.")
    ] = None,
    camera_offset: Annotated[
        Optional[float], typer.Option(help="Camera offset in ADU (default: estimated).")
    ] = None,
    gain: Annotated[Optional[float], typer.Option(help="Camera gain, e-/ADU.")] = None,
    k0: Annotated[
        Optional[float], typer.Option(help="Nominal k0 (cycles/um): search near it only.")
    ] = None,
    angle_offset: Annotated[
        Optional[float], typer.Option(help="Nominal first orientation (deg), with --k0.")
    ] = None,
    glob: Annotated[str, typer.Option(help="File pattern inside an input folder.")] = "*",
) -> None:
    """Estimate k, phase steps and modulation on several pooled stacks; write a calibration.

    Exits 1 with one line per problem when any orientation's fit is rejected: a calibration is
    only written from a fit that holds.
    """
    from livesr.config import OpticsConfig, PatternConfig
    from livesr.io import read_otf, read_stack
    from livesr.reconstruct import RadialOTF, SIMFitError
    from livesr.reconstruct.conventional import calibrate as measure

    try:
        reads = [read_stack(p, glob=glob) for p in raw]
        px = pixel_size or reads[0].pixel_size_um or 0.0626
        optics = OpticsConfig(na=na, emission_um={channel: wavelength}, pixel_size_um=px)
        pattern = PatternConfig(
            n_angles=angles,
            n_phases=phases,
            k0_fraction=0.9 if k0 is None else None,
            k0_per_um=k0,
            angle_offset_deg=angle_offset or 0.0,
            nonlinear_harmonics=(0.3,) if orders == 2 else (),
        )
        n = pattern.n_frames
        stacks = []
        for p, r in zip(raw, reads, strict=True):
            if r.data.shape[0] % n:
                raise ValueError(f"{p}: {r.data.shape[0]} frames is not a multiple of {n}")
            stacks.append(r.data.reshape(-1, n, *r.data.shape[-2:]).astype(np.float32))
        pooled = np.concatenate(stacks)
        otf_model = None
        if otf is not None:
            m = read_otf(otf)
            otf_model = RadialOTF.from_optics(optics, channel, measured=(m.radial, m.dk_per_um))
        cal, params = measure(
            pooled,
            pattern,
            optics,
            channel=channel,
            otf=otf_model,
            otf_path=None if otf is None else str(otf.resolve()),
            camera_offset=camera_offset,
            camera_gain=gain,
            search="nominal" if k0 is not None else "free",
            source=f"livesr calibrate on {len(pooled)} stacks: " + ", ".join(p.name for p in raw),
        )
    except SIMFitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if out.suffix == ".json":
        out.write_text(cal.model_dump_json(indent=2))
    else:
        cal.to_yaml(out)
    field = np.asarray(params.shape) * params.pixel_size_um
    typer.echo(f"wrote {out} ({len(pooled)} stacks pooled)")
    for d, o in enumerate(cal.channel(channel).orientations):
        typer.echo(
            f"  orientation {d}: |k| {o.k_magnitude_per_um:.3f}/um "
            f"({np.hypot(*(np.asarray(o.k_per_um) * field)):.2f} cycles/field), "
            f"{o.angle_deg:.1f} deg, m {o.modulation[0]:.2f}, confidence {o.confidence:.1f}"
        )
