"""What a live run's store records about the run: its geometry and its provenance.

Pure functions of the useq sequence and the pipeline config (and the installed packages):
the stage positions, z step and frame interval the store's OME metadata gives, and the run
description kept under the store's ``livesr`` attribute.
"""

from __future__ import annotations

import itertools
import sys
from typing import TYPE_CHECKING, Any

from livesr.config import PipelineConfig

if TYPE_CHECKING:
    import useq

__all__ = [
    "frame_interval_s",
    "package_versions",
    "run_description",
    "store_positions",
    "z_step_um",
]


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a run's data, for the store's provenance.

    Returns
    -------
    dict of str -> str
        ``python`` and ``livesr`` always; numpy, zarr, useq-schema, pymmcore-plus, torch,
        onnxruntime and tensorrt where installed.
    """
    from importlib.metadata import distributions

    from livesr._version import __version__

    wanted = {"numpy", "zarr", "useq-schema", "pymmcore-plus", "torch", "onnxruntime", "tensorrt"}
    out = {"python": sys.version.split()[0], "livesr": __version__}
    for dist in distributions():
        if dist.metadata["Name"] in wanted:
            out[dist.metadata["Name"]] = dist.version
    return out


def store_positions(sequence: useq.MDASequence) -> list[dict[str, Any]] | int:
    """The store's positions: name and stage coordinates of each, or 1 without any.

    Parameters
    ----------
    sequence : useq.MDASequence
        The experiment; each stage position becomes an image (series) of the store.

    Returns
    -------
    list of dict or int
        ``{"name", "x_um", "y_um", "z_um"}`` per stage position (unnamed ones are ``p<i>``),
        or 1 for a sequence without stage positions.
    """
    if not sequence.stage_positions:
        return 1
    return [
        {"name": pos.name or f"p{i}", "x_um": pos.x, "y_um": pos.y, "z_um": pos.z}
        for i, pos in enumerate(sequence.stage_positions)
    ]


def z_step_um(sequence: useq.MDASequence) -> float:
    """Distance between the z plan's planes (1 without a z plan or with uneven steps).

    Parameters
    ----------
    sequence : useq.MDASequence
        The experiment.

    Returns
    -------
    float
        The step in um, for the store's z scale.
    """
    plan = sequence.z_plan
    if plan is None:
        return 1.0
    planes = sorted(plan.positions())
    steps = {round(b - a, 6) for a, b in itertools.pairwise(planes)}
    return float(steps.pop()) if len(steps) == 1 and min(steps) > 0 else 1.0


def frame_interval_s(sequence: useq.MDASequence) -> float:
    """The time plan's interval in seconds (0 without one, or "as fast as possible").

    Parameters
    ----------
    sequence : useq.MDASequence
        The experiment.

    Returns
    -------
    float
        Seconds between time points, for the store's t scale.
    """
    step = getattr(sequence.time_plan, "interval", None)
    if step is None:
        return 0.0
    return float(step.total_seconds() if hasattr(step, "total_seconds") else step)


def run_description(config: PipelineConfig, sequence: useq.MDASequence) -> dict[str, Any]:
    """The run description the store keeps: config, sequence, pattern, optics, versions.

    Parameters
    ----------
    config : PipelineConfig
        The pipeline's config (its pattern, optics and calibration are stored on their own
        too, for readers that want only those).
    sequence : useq.MDASequence
        The experiment, as given (fields left unset are not stored).

    Returns
    -------
    dict of str -> Any
        JSON-ready values, for `SRStore.create`'s ``attrs``.
    """
    calibration = config.calibration
    return {
        "config": config.model_dump(mode="json"),
        "sequence": sequence.model_dump(mode="json", exclude_unset=True),
        "pattern": config.pattern.model_dump(mode="json"),
        "optics": config.optics.model_dump(mode="json"),
        "calibration": None if calibration is None else calibration.model_dump(mode="json"),
        "versions": package_versions(),
    }
