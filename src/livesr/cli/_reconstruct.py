"""``livesr reconstruct``: Wiener SIM, wide-field, Richardson-Lucy or a trained model.

Input: a raw SIM file (TIFF stack, folder of TIFFs, BioSR/DeltaVision MRC).
"""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional

import numpy as np
import typer

from ._app import app

if TYPE_CHECKING:
    from livesr.config import OpticsConfig, PatternConfig
    from livesr.io import MeasuredOTF
    from livesr.reconstruct import RadialOTF, WienerReconstructor

_BUILTIN = ("wiener", "rl", "wf")


def _frame_slice(text: Optional[str]) -> slice:
    if not text:
        return slice(None)
    try:
        parts = [int(p) if p else None for p in text.split(":")]
    except ValueError:
        raise typer.BadParameter(f"--frames {text!r}: use START:STOP, e.g. 0:15") from None
    if len(parts) != 2:
        raise typer.BadParameter(f"--frames {text!r}: use START:STOP, e.g. 0:15")
    start, stop = parts
    if start is not None and stop is not None and not 0 <= start < stop:
        raise typer.BadParameter(f"--frames {text!r}: START must be below STOP, e.g. 0:15")
    return slice(start, stop)


def _fail(message: str) -> "typer.Exit":
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _default_out(source: Path, method: str) -> Path:
    stem = source.name if source.is_dir() else source.stem
    tag = method if method in _BUILTIN else Path(method).stem
    return source.parent / f"{stem}_{tag}.tif"


@app.command()
def reconstruct(
    input: Annotated[
        Path, typer.Argument(help="TIFF stack, folder of TIFF frames, or MRC file (angle-major).")
    ],
    method: Annotated[
        str,
        typer.Option(
            help="auto (default; per stack: the physics-informed wiener-denoiser where its "
            "held-out table says it beats Wiener at the measured signal, else Wiener), "
            "wiener-denoiser, wiener | rl | wf, dfcan-sim / dfcan-sisr (the paper's raw-frame "
            "DFCAN, small), or a trained model (bundled weights name or .safetensors)."
        ),
    ] = "auto",
    angles: Annotated[int, typer.Option(help="Pattern orientations.")] = 3,
    phases: Annotated[int, typer.Option(help="Phase steps per orientation.")] = 3,
    orders: Annotated[
        int, typer.Option(help="Band orders: 1 = linear 2-beam, 2 = 3-beam or nonlinear.")
    ] = 1,
    na: Annotated[float, typer.Option(help="Detection NA.")] = 1.49,
    wavelength: Annotated[float, typer.Option(help="Emission wavelength in um.")] = 0.525,
    pixel_size: Annotated[
        Optional[float],
        typer.Option(help="Raw pixel size in um (default: from the MRC header, else 0.0626)."),
    ] = None,
    k0: Annotated[
        Optional[float], typer.Option(help="Nominal pattern frequency, cycles/um.")
    ] = None,
    k0_fraction: Annotated[
        float, typer.Option(help="Nominal pattern frequency as a fraction of 2 NA / lambda.")
    ] = 0.9,
    angle_offset: Annotated[
        Optional[float], typer.Option(help="Nominal first orientation, deg (with --k0).")
    ] = None,
    modulation: Annotated[float, typer.Option(help="Nominal modulation depth.")] = 0.8,
    search: Annotated[
        Optional[Literal["free", "nominal"]],
        typer.Option(
            help="Carrier search: 'free' (annulus; pattern unknown) or 'nominal' (near the "
            "nominal k; rejects fits more than 5 % away). Default: 'nominal' when --k0 or "
            "--angle-offset is given, the calibration with --calibration, else 'free'."
        ),
    ] = None,
    calibration: Annotated[
        Optional[Path],
        typer.Option(help="Instrument calibration (livesr calibrate); rejected refits use it."),
    ] = None,
    allow_nominal: Annotated[
        bool,
        typer.Option(help="Use the nominal pattern for an orientation whose fit is rejected."),
    ] = False,
    wiener: Annotated[
        Optional[float], typer.Option(help="Wiener parameter (default: from the SNR).")
    ] = None,
    attenuation: Annotated[
        float, typer.Option(help="OTF attenuation strength 0-1 (thick samples: 0.9-0.99).")
    ] = 0.0,
    scale: Annotated[
        Optional[int], typer.Option(help="Output upsampling (default 2; 3 with --orders 2).")
    ] = None,
    iterations: Annotated[int, typer.Option(help="Richardson-Lucy iterations.")] = 20,
    otf: Annotated[
        Optional[Path], typer.Option(help="Measured radial OTF (.mrc, e.g. *_OTF2d.mrc).")
    ] = None,
    frames: Annotated[
        Optional[str], typer.Option(help="Use only frames START:STOP of the input.")
    ] = None,
    glob: Annotated[str, typer.Option(help="File pattern inside an input folder.")] = "*",
    backend: Annotated[str, typer.Option(help="Backend of a trained model.")] = "auto",
    out: Annotated[
        Optional[Path], typer.Option(help="Output TIFF (default: INPUT_<method>.tif).")
    ] = None,
    params_out: Annotated[
        Optional[Path], typer.Option(help="Write the estimated parameters and fit as JSON.")
    ] = None,
) -> None:
    """Reconstruct raw SIM frames into a super-resolved (or wide-field) image.

    Frames are angle-major, phase-minor. A file holding several SIM stacks (a multiple of
    angles x phases frames) gives one output plane per stack; the pattern is estimated on all
    stacks pooled (one pattern per file). A rejected orientation is an error unless a calibration
    (--calibration) or --allow-nominal replaces it; every replacement is printed.
    """
    from livesr.config import OpticsConfig
    from livesr.io import read_otf, read_stack
    from livesr.reconstruct import widefield
    from livesr.reconstruct.conventional import repair_hot_pixels

    if search is None and calibration is None and (k0 is not None or angle_offset is not None):
        search = "nominal"
    if orders not in (1, 2):
        raise typer.BadParameter("--orders must be 1 (linear) or 2 (3-beam / nonlinear)")
    try:
        raw = read_stack(input, glob=glob)
        data = raw.data[_frame_slice(frames)]
        px = pixel_size or raw.pixel_size_um or 0.0626
        optics = OpticsConfig.single(na=na, wavelength_um=wavelength, pixel_size_um=px)
        pattern = _pattern(angles, phases, orders, k0, k0_fraction, angle_offset, modulation)
        measured = read_otf(otf) if otf is not None else None
        cal = _load_calibration(calibration)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    stacks = _split_stacks(data, pattern, input)
    report: dict[str, Any] = {
        "input": str(input),
        "method": method,
        "frames": int(data.shape[0]),
        "stacks": int(stacks.shape[0]),
        "optics": optics.model_dump(mode="json"),
        "pattern": pattern.model_dump(mode="json"),
    }
    try:
        if method == "wf":
            result, sr_pixel = widefield(stacks, scale=scale or 1), px / (scale or 1)
        elif method == "rl":
            s = scale or 2
            result = _richardson_lucy(stacks, optics, _radial_otf(optics, measured), s, iterations)
            sr_pixel = px / s
            report.update(iterations=iterations, scale=s)
        elif method == "wiener":
            otf_model = _radial_otf(optics, measured)
            rec = _wiener(stacks, pattern, optics, otf_model, wiener, scale, attenuation, search,
                          cal, allow_nominal)  # fmt: skip
            result = np.concatenate([rec(repair_hot_pixels(stack)[0][None]) for stack in stacks])
            result = result[:, 0]
            sr_pixel = px / rec.info.scale
            report.update(rec.report())
            if otf is not None:
                report["otf_file"] = str(otf)
        else:
            microscope = {"pattern": pattern, "optics": optics, "calibration": cal,
                          "allow_nominal": allow_nominal, "search": search}  # fmt: skip
            result, provenances = _trained(method, backend, stacks, microscope)
            sr_pixel = px / (result.shape[-1] // stacks.shape[-1])
            report["provenance"] = provenances[0]
            if "method" in provenances[0]:  # --method auto: the choice per stack
                report["auto_choices"] = [p["method"] for p in provenances]
                report["signal_photons"] = [p.get("signal_photons") for p in provenances]
    except (OSError, ValueError, ImportError, RuntimeError) as exc:
        raise _fail(f"{input}: {exc}") from None

    _write_outputs(out or _default_out(input, method), result, sr_pixel, report, params_out)
    if method == "wiener":
        _echo_fits(report)


def _pattern(
    angles: int, phases: int, orders: int, k0: Optional[float], k0_fraction: float,
    angle_offset: Optional[float], modulation: float,
) -> "PatternConfig":  # fmt: skip
    """The nominal pattern the command's options describe.

    Raises
    ------
    ValueError
        If the options make no valid pattern (pydantic names the field).
    """
    from livesr.config import PatternConfig

    return PatternConfig(
        n_angles=angles,
        n_phases=phases,
        k0_fraction=None if k0 else k0_fraction,
        k0_per_um=k0,
        angle_offset_deg=8.0 if angle_offset is None else angle_offset,
        modulation=modulation,
        nonlinear_harmonics=(0.3,) if orders == 2 else (),
    )


def _split_stacks(data: np.ndarray, pattern: "PatternConfig", source: Path) -> np.ndarray:
    """Frames (N*F, Y, X) as N SIM stacks (N, F, Y, X), F = angles x phases.

    A frame count that is not a multiple of F exits with one error line.
    """
    n = pattern.n_frames
    if data.shape[0] % n:
        raise _fail(
            f"{source}: {data.shape[0]} frames is not a multiple of {pattern.n_angles} angles x "
            f"{pattern.n_phases} phases = {n}; set --angles/--phases to match, or select frames "
            "with --frames START:STOP"
        )
    return data.reshape(-1, n, *data.shape[-2:])


def _write_outputs(
    target: Path,
    result: np.ndarray,
    sr_pixel: float,
    report: dict[str, Any],
    params_out: Optional[Path],
) -> None:
    """Write the image (and the report, if asked; it gains the output's facts); say so."""
    planes = _write_tiff(target, result, sr_pixel)
    report["output"] = str(target)
    report["output_pixel_size_um"] = sr_pixel
    report["output_shape"] = list(planes.shape)
    if params_out is not None:
        params_out.write_text(json.dumps(report, indent=2, default=float))
    typer.echo(f"wrote {target} ({'x'.join(map(str, planes.shape))}, {sr_pixel * 1000:.1f} nm px)")


def _radial_otf(optics: "OpticsConfig", measured: "MeasuredOTF | None") -> "RadialOTF | None":
    """The measured OTF as the reconstructors take it; None keeps the ideal OTF of `optics`."""
    from livesr.reconstruct import RadialOTF

    if not measured:
        return None
    return RadialOTF.from_optics(optics, measured=(measured.radial, measured.dk_per_um))


def _richardson_lucy(
    stacks: np.ndarray, optics: "OpticsConfig", otf: "RadialOTF | None", scale: int,
    iterations: int,
) -> np.ndarray:  # fmt: skip
    """Richardson-Lucy deconvolution of each stack's wide-field image, upsampled by `scale`."""
    from livesr.reconstruct import richardson_lucy, widefield

    return np.stack(
        [
            richardson_lucy(w, optics, otf=otf, scale=scale, iterations=iterations)
            for w in widefield(stacks)
        ]
    )


def _wiener(
    stacks: np.ndarray, pattern: "PatternConfig", optics: "OpticsConfig",
    otf: "RadialOTF | None", wiener: Optional[float], scale: Optional[int],
    attenuation: float, search: Optional[Literal["free", "nominal"]],
    calibration: Any, allow_nominal: bool,
) -> "WienerReconstructor":  # fmt: skip
    """A Wiener reconstructor calibrated on all stacks pooled; fit warnings go to stderr.

    A rejected fit raises `SIMFitError` (a ValueError), which the command prints as one
    error line.
    """
    from livesr.reconstruct import SIMFitWarning, WienerReconstructor

    rec = WienerReconstructor(pattern, optics, otf=otf, wiener=wiener, scale=scale,
                              attenuation=attenuation, search=search, calibration=calibration,
                              allow_nominal=allow_nominal)  # fmt: skip
    with warnings.catch_warnings():
        # Each rejected orientation is logged as one line already (the livesr logger).
        warnings.simplefilter("ignore", SIMFitWarning)
        rec.calibrate(stacks)  # one pattern per file: every stack pooled
    return rec


def _write_tiff(target: Path, result: np.ndarray, sr_pixel: float) -> np.ndarray:
    """Write the float32 planes as an ImageJ TIFF in um; returns what was written."""
    import tifffile

    planes = result.astype(np.float32)
    tifffile.imwrite(
        target,
        planes if planes.shape[0] > 1 else planes[0],
        imagej=True,
        resolution=(1.0 / sr_pixel, 1.0 / sr_pixel),
        metadata={"unit": "um", "axes": "TYX" if planes.shape[0] > 1 else "YX"},
    )
    return planes


def _echo_fits(report: dict[str, Any]) -> None:
    """One line per pattern angle of a Wiener report, and the Wiener parameter."""
    for d, fit in enumerate(report.get("angles", [])):
        f = fit["fit"] or {}
        typer.echo(
            f"  angle {d}: |k| {fit['k_magnitude_per_um']:.3f}/um "
            f"({np.hypot(*fit['k_cycles_per_field']):.2f} cycles/field), "
            f"{fit['angle_deg']:.1f} deg, m {fit['modulation'][0]:.2f}, "
            f"{f.get('status', '?')}"
        )
    typer.echo(f"  wiener parameter {report['wiener']:.3f}")


def _load_calibration(path: Optional[Path]) -> Any:
    if path is None:
        return None
    from livesr.config import Calibration

    try:
        return Calibration.from_file(path)
    except Exception as exc:  # pydantic.ValidationError names the field
        raise ValueError(f"{path}: not a livesr calibration: {exc}") from None


def _trained(
    method: str, backend: str, stacks: np.ndarray, microscope: dict[str, Any]
) -> tuple[np.ndarray, list[Any]]:
    """Run a trained model through the shared StackReconstructor."""
    try:
        from livesr.reconstruct import StackReconstructor
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            f"--method {method!r} is a trained model, which needs the torch extra: "
            "pip install 'livesr[torch]'"
        ) from exc
    from livesr._host import host_tuning
    from livesr.config import HostTuning

    # The command owns its process: CPU inference without per-op page faults (the allocator
    # setting lasts for the process, which ends with the command).
    with host_tuning(HostTuning(malloc=True)):
        sr_fn = StackReconstructor.create(
            method, backend, frame_shape=stacks.shape[-2:], microscope=microscope
        )
        try:
            outputs = [sr_fn(stack) for stack in stacks]
        finally:
            sr_fn.close()
    return np.stack([o[0] for o in outputs]), [o[1] for o in outputs]
