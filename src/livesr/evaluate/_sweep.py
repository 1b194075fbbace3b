"""The SNR sweep: structures x signal levels x held-out simulated fields x methods.

The sweep is split into independent tasks (one simulated field each) so it can run in a loop
(`run_sweep`) or be distributed (`sweep_tasks` + `evaluate_task`, e.g. on Dask). Every method
starts from the same raw stack; its output is compared with the simulator's ground truth on
the SR grid in both metric conventions, and its resolution is measured by decorrelation on
the method's native grid (wide-field on the camera grid, so its upsampling adds nothing).
Evaluation seeds are < 1000; training uses seeds >= 1_000_000, so they never overlap.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr.config import OpticsConfig, PatternConfig

from ._decorrelation import decorrelation_resolution
from ._frc import frc
from ._metrics import Convention, ms_ssim, nrmse, psnr, ssim

__all__ = [
    "BUILTIN_METHODS",
    "METRICS",
    "SweepResult",
    "SweepTask",
    "TaskResult",
    "evaluate_task",
    "run_sweep",
    "summarize",
    "sweep_tasks",
]

BUILTIN_METHODS = ("wf", "rl", "wiener")
#: Metric columns of a result row (both conventions), plus resolution and FRC.
METRICS = (
    "nrmse",
    "psnr",
    "ssim",
    "ms_ssim",
    "nrmse_photometric",
    "psnr_photometric",
    "ssim_photometric",
    "ms_ssim_photometric",
    "resolution_nm",
    "frc_half_bit_nm",
    "frc_one_seventh_nm",
)
_MAX_EVAL_SEED = 1000


@dataclass(frozen=True)
class SweepTask:
    """One held-out simulated field at one signal level."""

    structure: str
    level: int
    field: int
    seed: int
    size: int
    mode: str = "linear"


@dataclass
class TaskResult:
    """Rows of one task (one per method) and, if kept, the images (GT and each method)."""

    rows: list[dict[str, Any]]
    images: dict[str, NDArray[np.float32]] | None = None


@dataclass
class SweepResult:
    """All rows of a sweep and the kept example images per (structure, level)."""

    rows: list[dict[str, Any]]
    images: dict[tuple[str, int], dict[str, NDArray[np.float32]]] = field(default_factory=dict)


def sweep_tasks(
    structures: Sequence[str],
    levels: Sequence[int],
    fields: int,
    size: int = 128,
    mode: str = "linear",
    seed_base: int = 0,
) -> list[SweepTask]:
    """The tasks of a sweep, in (structure, level, field) order.

    The seed of field f of a structure is ``seed_base + 100 * index + f`` (index in
    `livesr.simulate.STRUCTURES`), the same at every level, so every level shows the same
    specimens (as BioSR images the same cells at each level).

    Raises
    ------
    ValueError
        Unknown structure or level, or seeds that would reach the training range (>= 1000).
    """
    from livesr.simulate import SIGNAL_LEVELS, STRUCTURES

    tasks = []
    for structure in structures:
        if structure not in STRUCTURES:
            raise ValueError(f"unknown structure {structure!r}; choose from {STRUCTURES}")
        index = STRUCTURES.index(structure)
        for level in levels:
            if not 1 <= level <= len(SIGNAL_LEVELS):
                raise ValueError(f"level {level} is not in 1..{len(SIGNAL_LEVELS)}")
            for f in range(fields):
                seed = seed_base + 100 * index + f
                if seed >= _MAX_EVAL_SEED or f >= 100:
                    raise ValueError(
                        f"evaluation seeds must stay below {_MAX_EVAL_SEED} (training uses "
                        ">= 1_000_000): use fewer fields (< 100) or a smaller seed_base"
                    )
                tasks.append(SweepTask(structure, int(level), f, seed, size, mode))
    return tasks


_MODEL_CACHE: dict[tuple[str, str, tuple[int, int]], Any] = {}


def _model_reconstructor(model: str, backend: str, shape: tuple[int, int]) -> Any:
    # One StackReconstructor per (model, backend, frame size) and process: loading weights
    # and compiling is far costlier than a field.
    key = (model, backend, shape)
    if key not in _MODEL_CACHE:
        from livesr.reconstruct import StackReconstructor

        _MODEL_CACHE[key] = StackReconstructor.create(model, backend, frame_shape=shape)
    return _MODEL_CACHE[key]


def _method_output(
    method: str,
    raw: NDArray[np.uint16],
    pattern: PatternConfig,
    optics: OpticsConfig,
    scale: int,
    backend: str,
    info: dict[str, Any],
) -> tuple[NDArray[np.float32], NDArray[np.float32], float]:
    """(image on the SR grid, image on its native grid, native pixel size in um)."""
    from livesr.reconstruct import (
        SIMFitWarning,
        WienerReconstructor,
        fourier_upsample,
        richardson_lucy,
        widefield,
    )

    px = optics.pixel_size_um
    if method == "wf":
        native = widefield(raw)
        return fourier_upsample(native, scale), native, px
    if method == "rl":
        image = richardson_lucy(widefield(raw), optics, scale=scale)
        return image, image, px / scale
    if method == "wiener":
        # Simulated data: the pattern IS the truth, so it may stand in for a rejected fit.
        rec = WienerReconstructor(
            pattern, optics, scale=scale, search="nominal", allow_nominal=True
        )
        with warnings.catch_warnings():
            # A rejected fit at low signal is a result to record, not an error.
            warnings.simplefilter("ignore", SIMFitWarning)
            image = rec(raw[np.newaxis].astype(np.float32))[0, 0]
        params = rec.params
        info["fit_ok"] = bool(params is not None and params.ok)
        info["wiener"] = rec.wiener
        return image, image, px / scale
    sr_fn = _model_reconstructor(method, backend, (int(raw.shape[-2]), int(raw.shape[-1])))
    if sr_fn.scale != scale:
        raise ValueError(
            f"model {method!r} upsamples x{sr_fn.scale} but the sweep's ground truth is "
            f"x{scale}: evaluate it with the matching --mode"
        )
    image, _ = sr_fn(raw)
    return image, image, px / scale


def evaluate_task(
    task: SweepTask,
    methods: Sequence[str] = BUILTIN_METHODS,
    *,
    with_frc: bool = False,
    keep_images: bool = False,
    backend: str = "auto",
    with_qc: bool = False,
) -> TaskResult:
    """Simulate one field and score every method on it.

    Parameters
    ----------
    task : SweepTask
        From `sweep_tasks`.
    methods : sequence of str
        ``"wf"``, ``"rl"``, ``"wiener"``, or a trained model (bundled weights name or
        ``.safetensors`` path, run through `livesr.reconstruct.StackReconstructor`).
    with_frc : bool
        Also simulate a second noise realisation of the (static) field and compute FRC
        between the two reconstructions (doubles the work).
    keep_images : bool
        Return the GT and every method's SR image (for panels).
    backend : str
        Backend of trained models (``"auto"``, ``"torch"``, ``"onnxruntime"``...).
    with_qc : bool
        Add the QC numbers of each SR image (``qc_rsp``, ``qc_chi2``, ... from
        `livesr.qc`), to compare with the true error.

    Returns
    -------
    TaskResult
        One row per method: task fields, photons, every metric in `METRICS`, the GT's own
        decorrelation resolution, seconds, and Wiener fit facts.
    """
    from livesr.simulate import simulate_sample

    sample = simulate_sample(
        task.structure,
        size=task.size,
        level=task.level,
        mode=task.mode,  # type: ignore[arg-type]
        timepoints=2 if with_frc else 1,
        motion=0.0,
        seed=task.seed,
    )
    params = sample.params
    optics = OpticsConfig.model_validate(params["optics"])
    pattern = PatternConfig.model_validate(params["pattern"])
    scale = int(params["sr_scale"])
    gt = sample.gt[0]
    gt_px_nm = 1000.0 * optics.pixel_size_um / scale
    gt_resolution = decorrelation_resolution(gt, gt_px_nm)
    rows = []
    images: dict[str, NDArray[np.float32]] = {"gt": gt} if keep_images else {}
    for method in methods:
        info: dict[str, Any] = {}
        start = time.perf_counter()
        image, native, native_px = _method_output(
            method, sample.raw[0], pattern, optics, scale, backend, info
        )
        seconds = time.perf_counter() - start
        row: dict[str, Any] = {
            "structure": task.structure,
            "level": task.level,
            "photons": float(params["photons"]),
            "field": task.field,
            "seed": task.seed,
            "size": task.size,
            "mode": task.mode,
            "method": method,
        }
        conventions: tuple[tuple[Convention, str], ...] = (
            ("authors", ""),
            ("photometric", "_photometric"),
        )
        for convention, suffix in conventions:
            row["nrmse" + suffix] = nrmse(image, gt, convention=convention)
            row["psnr" + suffix] = psnr(image, gt, convention=convention)
            row["ssim" + suffix] = ssim(image, gt, convention=convention)
            row["ms_ssim" + suffix] = ms_ssim(image, gt, convention=convention)
        row["resolution_nm"] = decorrelation_resolution(native, 1000.0 * native_px)
        row["gt_resolution_nm"] = gt_resolution
        if with_frc:
            # On the native grid, like decorrelation: zero-padded spectra (Fourier upsampling)
            # would carry window leakage that is identical in both images.
            _, second, _ = _method_output(
                method, sample.raw[1], pattern, optics, scale, backend, {}
            )
            result = frc(native, second, 1000.0 * native_px)
            row["frc_half_bit_nm"] = result.resolution_half_bit
            row["frc_one_seventh_nm"] = result.resolution_one_seventh
        else:
            row["frc_half_bit_nm"] = float("nan")
            row["frc_one_seventh_nm"] = float("nan")
        row["seconds"] = seconds
        if with_qc:
            from ._qc import qc_columns

            row.update(qc_columns(image, sample.raw[0], optics, pattern, scale))
        row["fit_ok"] = info.get("fit_ok")
        row["wiener"] = info.get("wiener")
        rows.append(row)
        if keep_images:
            images[method] = image
    return TaskResult(rows, images if keep_images else None)


def run_sweep(
    structures: Sequence[str],
    levels: Sequence[int],
    fields: int = 2,
    size: int = 128,
    methods: Sequence[str] = BUILTIN_METHODS,
    *,
    mode: str = "linear",
    with_frc: bool = False,
    backend: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    with_qc: bool = False,
) -> SweepResult:
    """Run the whole sweep in this process.

    Parameters
    ----------
    structures, levels, fields, size, mode
        As for `sweep_tasks`.
    methods, with_frc, backend, with_qc
        As for `evaluate_task`.
    progress : callable, optional
        ``progress(done, total)`` after each task (calling thread).

    Returns
    -------
    SweepResult
        All rows, and the images of field 0 at every (structure, level).
    """
    tasks = sweep_tasks(structures, levels, fields, size, mode)
    result = SweepResult([])
    for i, task in enumerate(tasks):
        out = evaluate_task(
            task,
            methods,
            with_frc=with_frc,
            keep_images=task.field == 0,
            backend=backend,
            with_qc=with_qc,
        )
        result.rows.extend(out.rows)
        if out.images is not None:
            result.images[(task.structure, task.level)] = out.images
        if progress is not None:
            progress(i + 1, len(tasks))
    return result


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation over fields per (structure, level, method).

    Returns
    -------
    list of dict
        Keys: structure, level, photons, method, n_fields, and ``<metric>`` (mean) plus
        ``<metric>_std`` for every metric in `METRICS` (NaN when not computed).
    """
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["structure"], row["level"], row["method"]), []).append(row)
    out = []
    for (structure, level, method), members in groups.items():
        entry: dict[str, Any] = {
            "structure": structure,
            "level": level,
            "photons": members[0]["photons"],
            "method": method,
            "n_fields": len(members),
        }
        for metric in METRICS:
            values = np.array([m.get(metric, np.nan) for m in members], dtype=np.float64)
            finite = values[np.isfinite(values)]
            entry[metric] = float(finite.mean()) if finite.size else float("nan")
            entry[metric + "_std"] = float(finite.std()) if finite.size > 1 else 0.0
        out.append(entry)
    return out
