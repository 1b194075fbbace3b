"""Conventional SIM in numpy/scipy: band separation, parameter estimation, Wiener SIM, RL.

Imports neither torch nor onnxruntime, so a machine without the deep-learning extras can
reconstruct SIM data and estimate its pattern.
"""

from ._bands import RadialOTF
from ._calibrate import calibrate, calibration_parameters, pattern_from_calibration
from ._camera import prepare_frames, repair_hot_pixels
from ._estimate import estimate_parameters
from ._params import AngleFit, SIMFitError, SIMFitWarning, SIMParameters
from ._richardson_lucy import fourier_upsample, richardson_lucy, widefield
from ._wiener import WienerReconstructor

__all__ = [
    "AngleFit",
    "RadialOTF",
    "SIMFitError",
    "SIMFitWarning",
    "SIMParameters",
    "WienerReconstructor",
    "calibrate",
    "calibration_parameters",
    "estimate_parameters",
    "fourier_upsample",
    "pattern_from_calibration",
    "prepare_frames",
    "repair_hot_pixels",
    "richardson_lucy",
    "widefield",
]
