"""``livesr qc``: how far an SR image can be trusted, from any tool's TIFFs.

Writes ``error_map.tif`` (SQUIRREL-style resolution-scaled error on the SR grid) and
``qc.json`` (rsp, rse and, with raw frames, chi^2 per orientation, the energy beyond the SIM
passband, photons and modulation) into the output folder.
"""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
import json
import math
import warnings
from pathlib import Path
from typing import Annotated, Any, Optional

import numpy as np
import typer

from ._app import app


def _integer_scale(sr_shape: tuple[int, ...], raw_shape: tuple[int, ...], what: str) -> int:
    sy, sx = sr_shape[-2:]
    ny, nx = raw_shape[-2:]
    if sy % ny or sx % nx or sy // ny != sx // nx or sy < ny:
        raise ValueError(
            f"the SR image is {sy} x {sx} but {what} is {ny} x {nx}: the SR image must be an "
            "integer multiple (x2 for linear SIM) of the wide-field/raw frame in both axes; "
            "crop both to matching fields"
        )
    return sy // ny


def _pairs(n_sr: int, n_other: int, what: str) -> list[int]:
    """Index of the `what` plane that goes with each SR plane."""
    if n_other == n_sr:
        return list(range(n_sr))
    if n_other == 1:
        return [0] * n_sr
    raise ValueError(
        f"the SR file has {n_sr} planes but {what} has {n_other}: give one {what} plane per SR "
        "plane, or a single one for all"
    )


@app.command()
def qc(
    sr: Annotated[Path, typer.Argument(help="SR image or stack (TIFF/MRC), one plane per frame.")],
    out: Annotated[Path, typer.Option(help="Output folder (created if missing).")],
    widefield: Annotated[
        Optional[Path],
        typer.Option(help="Wide-field reference, camera grid (default: mean of --raw)."),
    ] = None,
    raw: Annotated[
        Optional[Path],
        typer.Option(help="Raw SIM frames, angle-major (angles x phases per SR plane)."),
    ] = None,
    params: Annotated[
        Optional[Path],
        typer.Option(
            help="SIM parameters JSON (livesr reconstruct --params-out); default: estimated "
            "from --raw."
        ),
    ] = None,
    calibration: Annotated[
        Optional[Path],
        typer.Option(help="Instrument calibration (livesr calibrate) for the pattern."),
    ] = None,
    channel: Annotated[
        Optional[str], typer.Option(help="Calibration channel (default: its only/first one).")
    ] = None,
    nominal: Annotated[
        bool, typer.Option(help="Use the nominal pattern flags instead of estimating.")
    ] = False,
    na: Annotated[float, typer.Option(help="Detection NA.")] = 1.49,
    wavelength: Annotated[float, typer.Option(help="Emission wavelength in um.")] = 0.525,
    pixel_size: Annotated[
        Optional[float],
        typer.Option(
            help="Camera pixel size in the sample, um (default: MRC header, else 0.0626)."
        ),
    ] = None,
    angles: Annotated[int, typer.Option(help="Pattern orientations.")] = 3,
    phases: Annotated[int, typer.Option(help="Phase steps per orientation.")] = 3,
    k0: Annotated[Optional[float], typer.Option(help="Pattern frequency, cycles/um.")] = None,
    k0_fraction: Annotated[
        float, typer.Option(help="Pattern frequency as a fraction of 2 NA / lambda.")
    ] = 0.9,
    angle_offset: Annotated[float, typer.Option(help="First orientation, deg.")] = 8.0,
    modulation: Annotated[float, typer.Option(help="Modulation depth.")] = 0.8,
    offset: Annotated[Optional[float], typer.Option(help="Camera offset, ADU.")] = None,
    gain: Annotated[Optional[float], typer.Option(help="Camera gain, electrons per ADU.")] = None,
    read_noise: Annotated[
        Optional[float], typer.Option(help="Camera read noise, electrons rms.")
    ] = None,
    qe: Annotated[Optional[float], typer.Option(help="Camera quantum efficiency.")] = None,
    sigma: Annotated[
        Optional[float],
        typer.Option(help="Resolution-scaling sigma in um (default 0.21 lambda / NA)."),
    ] = None,
    fit_sigma: Annotated[
        bool, typer.Option(help="Fit sigma per frame (minimum RSE) instead of fixing it.")
    ] = False,
) -> None:
    """Check SR images against their wide-field reference and raw SIM frames.

    The error map is |wide-field - I_RS| on the SR grid, I_RS = (alpha SR + beta) blurred by a
    Gaussian of fixed sigma (NanoJ-SQUIRREL with the blur taken from the optics); rsp and rse
    are the Pearson correlation and RMS error on the camera grid. With --raw, the raw frames
    the SR image implies under the SIM pattern are compared with the measured ones (chi^2 per
    orientation, about 1 when consistent) and the SR energy beyond the SIM passband is
    reported (raw data hold no information there).
    """
    from livesr.config import CameraConfig, OpticsConfig, PatternConfig
    from livesr.io import read_stack

    if widefield is None and raw is None:
        raise ValueError("give the wide-field reference (--widefield WF.tif) or --raw RAW.tif")
    sr_data = read_stack(sr).data.astype(np.float32)
    wf_data = read_stack(widefield).data.astype(np.float32) if widefield is not None else None
    raw_stack = read_stack(raw) if raw is not None else None
    px = pixel_size or (raw_stack.pixel_size_um if raw_stack is not None else None) or 0.0626
    optics = OpticsConfig.single(na=na, wavelength_um=wavelength, pixel_size_um=px)
    pattern = PatternConfig(
        n_angles=angles, n_phases=phases, k0_fraction=None if k0 else k0_fraction,
        k0_per_um=k0, angle_offset_deg=angle_offset, modulation=modulation,
    )  # fmt: skip
    cam_fields = {"offset_adu": offset, "gain_e_per_adu": gain, "read_noise_e": read_noise}
    cam_fields["qe"] = qe
    camera = CameraConfig(**{k: v for k, v in cam_fields.items() if v is not None})

    raw_shape = (wf_data if wf_data is not None else raw_stack.data).shape[-2:]  # type: ignore[union-attr]
    scale = _integer_scale(sr_data.shape, raw_shape, "the wide-field image")
    stacks = _raw_stacks(raw_stack, raw, raw_shape, pattern) if raw_stack is not None else None
    report: dict[str, Any] = {
        "sr": str(sr),
        "widefield": str(widefield) if widefield is not None else None,
        "raw": str(raw) if raw is not None else None,
        "scale": scale,
        "optics": optics.model_dump(mode="json"),
        "camera": camera.model_dump(mode="json"),
    }
    shape = (int(raw_shape[0]), int(raw_shape[1]))
    state = _pattern(report, params, calibration, channel, stacks, nominal, pattern, optics, shape)
    from livesr.qc import QualityChecker

    checker = QualityChecker(
        optics, shape, scale=scale, pattern=state, camera=camera, sigma_um=sigma,
        fit_sigma=fit_sigma,
    )  # fmt: skip
    records, maps = _check_all(checker, sr_data, wf_data, stacks, str(widefield), str(raw))
    _write(out, maps, px / scale, report, records)


def _raw_stacks(
    raw_stack: Any, raw: Optional[Path], raw_shape: tuple[int, ...], pattern: Any
) -> np.ndarray:
    """The raw frames as (N, F, Y, X) stacks, checked against the wide-field grid."""
    frames = raw_stack.data
    if frames.shape[-2:] != tuple(raw_shape):
        raise ValueError(
            f"{raw}: raw frames are {frames.shape[-2]} x {frames.shape[-1]} but the "
            f"wide-field image is {raw_shape[0]} x {raw_shape[1]}; they must match"
        )
    if frames.shape[0] % pattern.n_frames:
        raise ValueError(
            f"{raw}: {frames.shape[0]} frames is not a multiple of {pattern.n_angles} angles x "
            f"{pattern.n_phases} phases = {pattern.n_frames}; set --angles/--phases to match"
        )
    return np.asarray(frames.reshape(-1, pattern.n_frames, *frames.shape[-2:]))


def _pattern(
    report: dict[str, Any], params: Optional[Path], calibration: Optional[Path],
    channel: Optional[str], stacks: Optional[np.ndarray], nominal: bool, pattern: Any,
    optics: Any, shape: tuple[int, int],
) -> Any:  # fmt: skip
    """The SIM pattern the checks assume, from where the user said; recorded in `report`."""
    from livesr.qc import PatternState, pattern_state

    if params is not None:
        from livesr.reconstruct.conventional import SIMParameters

        if not params.is_file():
            raise FileNotFoundError(f"--params {params} does not exist")
        state = pattern_state(SIMParameters.from_dict(json.loads(params.read_text())))
        report["pattern_source"] = str(params)
    elif calibration is not None:
        from livesr.config import Calibration
        from livesr.reconstruct.conventional import calibration_parameters

        cal = Calibration.from_file(calibration)
        state = pattern_state(calibration_parameters(cal, channel, shape))
        report["pattern_source"] = str(calibration)
    elif stacks is not None and not nominal:
        from livesr.reconstruct.conventional import SIMFitWarning, estimate_parameters

        with warnings.catch_warnings():
            # Each rejected orientation is logged as one line already (the livesr logger).
            warnings.simplefilter("ignore", SIMFitWarning)
            fitted = estimate_parameters(stacks, pattern, optics, search="free")
        state = pattern_state(fitted)
        report["pattern_source"] = "estimated"
        report["pattern_fit"] = fitted.to_dict()
    else:
        # Without raw frames the pattern only sets the passband of the out-of-band energy.
        state = PatternState.from_config(pattern, optics)
        report["pattern_source"] = "nominal"
    report["pattern"] = {"k_per_um": state.k_per_um.tolist(), "modulation": list(state.modulation)}
    return state


def _check_all(
    checker: Any, sr_data: np.ndarray, wf_data: Optional[np.ndarray],
    stacks: Optional[np.ndarray], wf_name: str, raw_name: str,
) -> tuple[list[Any], np.ndarray]:  # fmt: skip
    """One quality record and SR-grid error map per SR plane."""
    n_sr = sr_data.shape[0]
    wf_index = _pairs(n_sr, wf_data.shape[0], wf_name) if wf_data is not None else None
    raw_index = _pairs(n_sr, stacks.shape[0], raw_name) if stacks is not None else None
    records = []
    maps = np.empty_like(sr_data)
    for i in range(n_sr):
        frames_i = stacks[raw_index[i]] if stacks is not None and raw_index is not None else None
        ref = wf_data[wf_index[i]] if wf_data is not None and wf_index is not None else None
        result = checker.check(sr_data[i], raw=frames_i, reference=ref, map_grid="sr")
        assert result.error_map is not None
        maps[i] = result.error_map
        records.append(result.record)
    return records, maps


def _write(
    out: Path, maps: np.ndarray, sr_px: float, report: dict[str, Any], records: list[Any]
) -> None:
    """``error_map.tif`` and ``qc.json`` in `out`, and a one-line summary."""
    import tifffile

    n_sr = maps.shape[0]
    out.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(
        out / "error_map.tif",
        maps if n_sr > 1 else maps[0],
        imagej=True,
        resolution=(1.0 / sr_px, 1.0 / sr_px),
        metadata={"unit": "um", "axes": "TYX" if n_sr > 1 else "YX"},
    )
    report.update(_summary(records))
    report["frames"] = [r.to_dict() for r in records]
    (out / "qc.json").write_text(json.dumps(report, indent=2) + "\n")
    typer.echo(f"wrote {out / 'error_map.tif'} and {out / 'qc.json'} ({n_sr} frame(s))")
    line = f"  rsp {report['rsp']:.4f}  rse {report['rse']:.4g}"
    if report.get("chi2"):
        line += "  chi2 " + " ".join(f"{c:.3f}" for c in report["chi2"])
    if report.get("out_of_band") is not None:
        line += f"  out-of-band {report['out_of_band']:.2e}"
    typer.echo(line)


def _summary(records: list[Any]) -> dict[str, Any]:
    """Mean over frames of every number (per orientation for chi^2 and modulation)."""

    def mean(values: list[float]) -> Optional[float]:
        finite = [v for v in values if math.isfinite(v)]
        return float(np.mean(finite)) if finite else None

    out: dict[str, Any] = {"n_frames": len(records)}
    for key in ("rsp", "rse", "alpha", "beta", "sigma_um", "out_of_band", "photons"):
        out[key] = mean([getattr(r, key) for r in records])
    for key in ("chi2", "modulation"):
        rows = [getattr(r, key) for r in records if getattr(r, key)]
        out[key] = [float(v) for v in np.mean(rows, axis=0)] if rows else []
    return out
