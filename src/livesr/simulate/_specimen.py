"""The specimen: a seeded, moving fluorescent structure rendered analytically on any grid."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._gaussians import MIN_SIGMA_UM, Points
from ._render import render_gaussians
from ._structures import STRUCTURES, build_structure

__all__ = ["Specimen"]


class Specimen:
    """A fluorescent structure in a field of view, evolving over time.

    The structure is a sum of 2D Gaussians (see `livesr.simulate.STRUCTURES`), so
    `density` is exact at any pixel size and any time, and the same seed gives the same
    specimen on every machine.

    Parameters
    ----------
    structure : str
        One of ``"microtubules"``, ``"ccps"``, ``"er"``, ``"f-actin"``.
    field_um : float or (float, float)
        Size (y, x) of the field of view in um; the structure also extends a little beyond it,
        so padded grids (and moving structures) have content at their edges.
    seed : int
        Seed of the geometry and motion. livesr evaluates on seeds < 1000 and trains on seeds
        >= 1_000_000, so the two never overlap.
    motion : float
        Scale of all motion (drift, wobble, bending, puncta turnover speed); 0 freezes the
        specimen in time.

    Notes
    -----
    Coordinates are um, ``(y, x)``, with the field spanning ``[0, fy) x [0, fx)``. Time ``t``
    is in seconds; structures drift by a few nm/s, filaments bend slowly, and clathrin-coated
    pits appear and fade over 20-80 s.
    """

    def __init__(
        self,
        structure: str,
        field_um: float | tuple[float, float],
        seed: int,
        *,
        motion: float = 1.0,
    ) -> None:
        if structure not in STRUCTURES:
            raise ValueError(
                f"unknown structure {structure!r}; choose one of {', '.join(STRUCTURES)}"
            )
        if isinstance(field_um, (int, float)):
            field = (float(field_um), float(field_um))
        else:
            field = (float(field_um[0]), float(field_um[1]))
        if min(field) <= 0:
            raise ValueError(f"field_um={field_um} must be positive (um)")
        if seed < 0:
            raise ValueError(f"seed={seed} must be a non-negative integer")
        if motion < 0:
            raise ValueError(f"motion={motion} must be >= 0 (0 freezes the specimen)")
        self.structure = structure
        self.field_um = field
        self.seed = int(seed)
        self.motion = float(motion)
        rng = np.random.default_rng([self.seed, STRUCTURES.index(structure)])
        self._points = build_structure(structure, rng, field)

    #: Thinnest Gaussian any structure uses (um).
    min_sigma_um: float = MIN_SIGMA_UM

    def __repr__(self) -> str:
        return (
            f"Specimen({self.structure!r}, field_um={self.field_um}, seed={self.seed}, "
            f"motion={self.motion})"
        )

    def points(self, t: float = 0.0, blur_um: float = 0.0) -> Points:
        """The specimen at time `t` as Gaussians.

        Parameters
        ----------
        t : float
            Time in seconds.
        blur_um : float
            Blur the points will be rendered with: filaments are integrated with Gaussians
            spaced up to one blurred sigma apart (fewer points, same density to 1e-8).

        Returns
        -------
        (y, x, mass, sigma) : tuple of ndarray, float64, shape (n,)
            Centres (um), integrated masses and standard deviations (um).
        """
        return self._points(float(t) * self.motion, float(blur_um))

    def density(
        self,
        t: float,
        shape: tuple[int, int],
        pixel_size_um: float,
        *,
        origin_um: tuple[float, float] | None = None,
        blur_um: float = 0.0,
    ) -> NDArray[np.float32]:
        """Render the fluorophore density at time `t`.

        Parameters
        ----------
        t : float
            Time in seconds.
        shape : (ny, nx)
            Grid size in pixels.
        pixel_size_um : float
            Grid spacing in um.
        origin_um : (y, x), optional
            Position of the centre of pixel [0, 0]; default ``(p/2, p/2)``, so the grid tiles
            the field from its corner.
        blur_um : float
            Exact extra Gaussian blur (standard deviation, um).

        Returns
        -------
        ndarray, float32, shape `shape`
            Density (mass per um^2) sampled at pixel centres.
        """
        if pixel_size_um <= 0:
            raise ValueError(f"pixel_size_um={pixel_size_um} must be positive")
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"shape={shape} must be two positive sizes (ny, nx)")
        if origin_um is None:
            origin_um = (pixel_size_um / 2, pixel_size_um / 2)
        y, x, m, s = self.points(t, blur_um)
        return render_gaussians(y, x, m, s, shape, pixel_size_um, origin_um, blur_um)
