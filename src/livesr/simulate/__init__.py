"""Physically faithful SIM simulation: specimens, forward model, camera noise, signal levels.

Pure numpy/scipy. `Specimen` draws a moving BioSR-like structure analytically,
`SIMForwardModel` turns it into raw SIM frames (linear 3x3 or nonlinear 5x5) through an OTF,
pixel integration and an sCMOS camera, and `simulate_sample` does both for a time-lapse.

Ground truth is defined as what an ideal, noise-free SIM delivers: the specimen density
band-limited by the ideal incoherent OTF whose cutoff is the SIM passband ``kc + n_orders k0``
(about 1.9 kc for linear SIM at k0 = 0.9 kc), sampled at the SR scale (x2 linear, x3
nonlinear). It holds every frequency a SIM reconstruction can recover, including those beyond
the wide-field cutoff kc, and none it cannot.
The pymmcore-plus devices of the demo microscope live in ``livesr.simulate.devices``.
"""

from ._bands import SIMBands, signal_level
from ._calibration import DEMO_CALIBRATION, demo_calibration
from ._camera import NoiseMethod, camera_adu
from ._forward import SIMForwardModel
from ._levels import SIGNAL_LEVELS, level_photons
from ._sample import SimulatedSample, simulate_sample
from ._specimen import Specimen
from ._structures import STRUCTURES

__all__ = [
    "DEMO_CALIBRATION",
    "SIGNAL_LEVELS",
    "STRUCTURES",
    "NoiseMethod",
    "SIMBands",
    "SIMForwardModel",
    "SimulatedSample",
    "Specimen",
    "camera_adu",
    "demo_calibration",
    "level_photons",
    "signal_level",
    "simulate_sample",
]
