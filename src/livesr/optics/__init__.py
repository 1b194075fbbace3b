"""Optics shared by simulation and reconstruction: OTF/PSF and SIM pattern geometry."""

from ._otf import frequency_grid, ideal_otf, ideal_otf_radial, psf_from_otf
from ._pattern import pattern_k0_per_um, pattern_phases, pattern_wavevectors

__all__ = [
    "frequency_grid",
    "ideal_otf",
    "ideal_otf_radial",
    "pattern_k0_per_um",
    "pattern_phases",
    "pattern_wavevectors",
    "psf_from_otf",
]
