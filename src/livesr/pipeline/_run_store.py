"""The run store of a live run, created before its first frame from the microscope and config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from livesr._logger import logger
from livesr.config import PipelineConfig
from livesr.io import SRStore

from ._run_metadata import frame_interval_s, run_description, store_positions, z_step_um

if TYPE_CHECKING:
    import useq
    from pymmcore_plus import CMMCorePlus

__all__ = ["create_run_store"]


def create_run_store(
    core: CMMCorePlus,
    sequence: useq.MDASequence,
    config: PipelineConfig,
    out: Path,
    *,
    channels: tuple[str, ...],
    frame_shape: tuple[int, int],
    scale: int,
) -> SRStore:
    """Create the store a live run writes: its axes, scales and run description.

    The pixel size is the microscope's (the config's when the core has none); a mismatch
    with the config's ``optics.pixel_size_um``, which reconstruction uses, is logged.

    Parameters
    ----------
    core : CMMCorePlus
        The loaded core, for the pixel size.
    sequence : useq.MDASequence
        The experiment: positions, z planes, time points and interval of the store.
    config : PipelineConfig
        Pattern (raw frames per stack), writer options (overwrite, compression), and the
        description stored with the run.
    out : Path
        The store to create.
    channels : tuple of str
        Channel names, in the order of the store's ``c`` axis.
    frame_shape : (Y, X)
        The camera's frame size in pixels.
    scale : int
        SR pixels per raw pixel along each axis.

    Returns
    -------
    SRStore
        The new store, status ``"running"``.
    """
    px = core.getPixelSizeUm() or config.optics.pixel_size_um
    if abs(px - config.optics.pixel_size_um) > 0.01 * px:
        logger.warning(
            "the microscope's pixel size %.4f um differs from optics.pixel_size_um %.4f um "
            "of the pipeline config that reconstruction uses: fix one of them",
            px,
            config.optics.pixel_size_um,
        )
    return SRStore.create(
        out,
        channels=channels,
        n_patterns=config.pattern.n_frames,
        frame_shape=frame_shape,
        scale=scale,
        n_timepoints=sequence.sizes.get("t", 0) or 1,
        positions=store_positions(sequence),
        n_z=sequence.sizes.get("z", 0) or 1,
        z_step_um=z_step_um(sequence),
        pixel_size_um=float(px),
        interval_s=frame_interval_s(sequence),
        attrs=run_description(config, sequence),
        overwrite=config.writer.overwrite,
        compression=config.writer.compression,
    )
