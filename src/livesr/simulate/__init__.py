"""Physically faithful SIM simulation: specimens, forward model, camera noise, signal levels.

Pure numpy/scipy. `Specimen` draws a moving BioSR-like structure analytically,
`SIMForwardModel` turns it into raw SIM frames (linear 3x3 or nonlinear 5x5) through an OTF,
pixel integration and an sCMOS camera, and `simulate_sample` does both for a time-lapse.
The pymmcore-plus devices of the demo microscope live in ``livesr.simulate.devices``.
"""

from ._camera import NoiseMethod, camera_adu
from ._forward import SIMBands, SIMForwardModel, signal_level
from ._levels import SIGNAL_LEVELS, level_photons
from ._sample import SimulatedSample, simulate_sample
from ._specimen import Specimen
from ._structures import STRUCTURES

__all__ = [
    "SIGNAL_LEVELS",
    "STRUCTURES",
    "NoiseMethod",
    "SIMBands",
    "SIMForwardModel",
    "SimulatedSample",
    "Specimen",
    "camera_adu",
    "level_photons",
    "signal_level",
    "simulate_sample",
]
