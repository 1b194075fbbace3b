"""BioSR-like specimens as moving sets of Gaussians: the catalogue of structures.

Each structure is drawn from a seeded generator once (geometry and motion parameters) and then
evaluated at any time ``t`` (seconds) as arrays of Gaussian centres, masses and widths
(`Points`). Widths follow the labelled structures: microtubules and actin about 30 nm FWHM,
ER tubules 50-100 nm, clathrin-coated pits 80-200 nm (rings when large).

Filaments and tubules are continuous polylines (nodes every 50 nm or less along smooth curves)
with a Gaussian cross-section, integrated as chains of Gaussians (`._gaussians.chains`). The
builders live in `._filaments` (microtubules, f-actin), `._pits` (clathrin-coated pits) and
`._er` (endoplasmic reticulum).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._er import er
from ._filaments import f_actin, microtubules
from ._gaussians import Points
from ._pits import ccps

__all__ = ["STRUCTURES", "Points", "build_structure"]

STRUCTURES: tuple[str, ...] = ("microtubules", "ccps", "er", "f-actin")

_BUILDERS: dict[
    str, Callable[[np.random.Generator, tuple[float, float]], Callable[[float, float], Points]]
]
_BUILDERS = {
    "microtubules": microtubules,
    "ccps": ccps,
    "er": er,
    "f-actin": f_actin,
}


def build_structure(
    structure: str, rng: np.random.Generator, field: tuple[float, float]
) -> Callable[[float, float], Points]:
    """Draw a structure's geometry and motion; return its ``points(t)`` function."""
    try:
        builder = _BUILDERS[structure]
    except KeyError:
        raise ValueError(
            f"unknown structure {structure!r}; choose one of {', '.join(STRUCTURES)}"
        ) from None
    return builder(rng, field)
