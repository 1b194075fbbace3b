"""One call from a structure name to raw SIM stacks, ground truth and wide-field images."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from livesr._version import __version__
from livesr.config import CameraConfig, OpticsConfig, PatternConfig

from ._camera import NoiseMethod
from ._forward import SIMForwardModel
from ._levels import level_photons
from ._specimen import Specimen

__all__ = ["SimulatedSample", "simulate_sample"]


class SimulatedSample(NamedTuple):
    """Result of `simulate_sample` (unpacks as ``raw, gt, wf, params``).

    Attributes
    ----------
    raw : ndarray, uint16, shape (T, F, Y, X)
        Raw SIM frames, F = n_angles x n_phases, angle-major, phase-minor.
    gt : ndarray, float32, shape (T, sY, sX)
        Ground truth at the SR scale (x2 linear, x3 nonlinear): the noise-free density
        band-limited to the SIM passband, in photons per camera-pixel area.
    wf : ndarray, float32, shape (T, Y, X)
        Wide-field image: the mean of each stack's raw frames (ADU, offset included).
    params : dict
        JSON-ready description: configs, exact k vectors, phases, modulation, seed, scale.
    """

    raw: NDArray[np.uint16]
    gt: NDArray[np.float32]
    wf: NDArray[np.float32]
    params: dict[str, Any]


def simulate_sample(
    structure: str = "microtubules",
    *,
    size: int | tuple[int, int] = 256,
    level: int | None = 3,
    photons: float | None = None,
    mode: Literal["linear", "nonlinear"] = "linear",
    timepoints: int = 1,
    interval_s: float = 1.0,
    seed: int = 0,
    optics: OpticsConfig | None = None,
    pattern: PatternConfig | None = None,
    camera: CameraConfig | None = None,
    noise: NoiseMethod = "poisson",
    motion: float = 1.0,
    phase_offsets: Sequence[float] | None = None,
    phase_jitter: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
) -> SimulatedSample:
    """Simulate a SIM time-lapse of one structure.

    Parameters
    ----------
    structure : str
        One of `livesr.simulate.STRUCTURES`.
    size : int or (int, int)
        Camera frame size (Y, X) in pixels.
    level : int or None
        Signal level 1..9 (`SIGNAL_LEVELS`); ignored when `photons` is given.
    photons : float, optional
        Mean signal photons per pixel per raw frame over the structure.
    mode : {"linear", "nonlinear"}
        3 x 3 linear SIM (x2 GT) or 5 x 5 nonlinear SIM with a second harmonic (x3 GT). Ignored
        when `pattern` is given.
    timepoints : int
        Number of stacks T; the specimen moves between them.
    interval_s : float
        Time between stacks in seconds.
    seed : int
        Seeds the specimen and the noise. Evaluation uses seeds < 1000, training seeds
        >= 1_000_000.
    optics, pattern, camera : config, optional
        Defaults: `OpticsConfig()` (NA 1.49, 62.6 nm pixels; first channel), the mode's
        `PatternConfig`, `CameraConfig()`.
    noise : {"poisson", "fast"}
        Camera noise method (`camera_adu`).
    motion : float
        Motion scale of the specimen (0 = static).
    phase_offsets, phase_jitter
        Global pattern phase per angle and rms per-frame phase error, radians (see
        `SIMForwardModel`); zero by default.
    progress : callable, optional
        Called as ``progress(done, total)`` after each timepoint (main thread).

    Returns
    -------
    SimulatedSample
        ``raw`` (T, F, Y, X) uint16, ``gt`` (T, sY, sX) float32, ``wf`` (T, Y, X) float32 and
        ``params``.
    """
    if mode not in ("linear", "nonlinear"):
        raise ValueError(f"mode={mode!r} is unknown; use 'linear' or 'nonlinear'")
    if timepoints < 1:
        raise ValueError(f"timepoints={timepoints} must be at least 1")
    if photons is None:
        if level is None:
            raise ValueError("give a signal level (1..9) or photons=...")
        photons = level_photons(level)
    elif photons <= 0:
        raise ValueError(f"photons={photons} must be positive")
    shape = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    optics = optics or OpticsConfig()
    if pattern is None:
        pattern = PatternConfig.linear() if mode == "linear" else PatternConfig.nonlinear()
    camera = camera or CameraConfig()
    model = SIMForwardModel(
        pattern,
        optics,
        camera,
        shape,
        noise=noise,
        phase_offsets=phase_offsets,
        phase_jitter=phase_jitter,
    )
    field = (shape[0] * optics.pixel_size_um, shape[1] * optics.pixel_size_um)
    specimen = Specimen(structure, field, seed, motion=motion)
    # Noise draws are independent of the specimen's geometry stream.
    rng = np.random.default_rng([seed, 0x5EED])

    sy, sx = model.sr_scale * shape[0], model.sr_scale * shape[1]
    raw = np.empty((timepoints, pattern.n_frames, *shape), np.uint16)
    gt = np.empty((timepoints, sy, sx), np.float32)
    scale: float | None = None
    bands = None
    for ti in range(timepoints):
        t = ti * interval_s
        # A static specimen needs its bands and GT once: later stacks only redraw the noise.
        if bands is None or motion != 0:
            bands = model.prepare(specimen, t)
            truth = model.ground_truth(specimen, t)
        if scale is None:
            # Fixed from the first stack, so fading and drift change the brightness over time.
            scale = bands.photon_scale(photons)
        raw[ti] = model.render_stack(bands, scale=scale, rng=rng)
        gt[ti] = truth * np.float32(scale)
        if progress is not None:
            progress(ti + 1, timepoints)
    wf = raw.mean(axis=1, dtype=np.float32)
    assert scale is not None
    params = describe(model, specimen, photons=photons, level=level, seed=seed, scale=scale)
    params.update(timepoints=timepoints, interval_s=interval_s, noise=noise)
    return SimulatedSample(raw, gt, wf, params)


def describe(
    model: SIMForwardModel,
    specimen: Specimen,
    *,
    photons: float,
    level: int | None,
    seed: int,
    scale: float,
) -> dict[str, Any]:
    """JSON-ready parameters of a simulation (what a reconstruction needs to know)."""
    pat = model.pattern
    return {
        "livesr_version": __version__,
        "structure": specimen.structure,
        "seed": seed,
        "level": level,
        "photons": photons,
        "photon_scale": scale,
        "mode": pat.mode,
        "shape": list(model.shape),
        "sr_scale": model.sr_scale,
        "gt_pixel_size_um": model.pixel_size_um / model.sr_scale,
        "field_um": list(specimen.field_um),
        "frame_order": "angle-major, phase-minor",
        "k_vectors_per_um": model.wavevectors.tolist(),
        "k0_per_um": model.k0_per_um,
        "angles_deg": np.degrees(np.arctan2(*model.wavevectors.T)).tolist(),
        "phases_rad": model.phases.tolist(),
        "phase_offsets_rad": model.phase_offsets.tolist(),
        "phase_jitter_rad": model.phase_jitter,
        "modulation": list(model.strengths),
        "cutoff_per_um": model.cutoff_per_um,
        "passband_per_um": model.passband_per_um,
        "coordinates": (
            "illumination 1 + sum_n m_n cos(n (2 pi k . r + phase + phase_offset[angle])); "
            "r = (y, x) um from the centre of camera pixel [0, 0]; k = (ky, kx) cycles/um"
        ),
        "ground_truth": (
            "density band-limited by the ideal incoherent OTF of cutoff passband_per_um "
            "(kc + n_orders k0), photons per camera-pixel area"
        ),
        "oversample": model.oversample,
        "fluctuation": model.fluctuation,
        "optics": model.optics.model_dump(mode="json"),
        "pattern": pat.model_dump(mode="json"),
        "camera": model.camera.model_dump(mode="json"),
    }
