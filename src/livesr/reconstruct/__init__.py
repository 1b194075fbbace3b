"""Reconstruction: numpy in, numpy out. Conventional SIM and deep-learning backends."""

from ._protocol import BackendUnavailableError, Reconstructor, ReconstructorInfo

__all__ = ["BackendUnavailableError", "Reconstructor", "ReconstructorInfo"]
