"""Conventional SIM in numpy/scipy: band separation, parameter estimation, Wiener SIM, RL.

Imports neither torch nor onnxruntime, so a machine without the deep-learning extras can
reconstruct SIM data and estimate its pattern.
"""

from ._bands import RadialOTF
from ._estimate import AngleFit, SIMFitWarning, SIMParameters, estimate_parameters
from ._richardson_lucy import fourier_upsample, richardson_lucy, widefield
from ._wiener import WienerReconstructor

__all__ = [
    "AngleFit",
    "RadialOTF",
    "SIMFitWarning",
    "SIMParameters",
    "WienerReconstructor",
    "estimate_parameters",
    "fourier_upsample",
    "richardson_lucy",
    "widefield",
]
