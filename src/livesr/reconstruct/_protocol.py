"""The Reconstructor protocol every backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["BackendUnavailableError", "Reconstructor", "ReconstructorInfo"]


class BackendUnavailableError(RuntimeError):
    """A requested backend cannot run here; the message names what is missing."""


@dataclass(frozen=True)
class ReconstructorInfo:
    """What a reconstructor is and expects.

    Attributes
    ----------
    name : str
        Model or method name (``"dfcan"``, ``"wiener"``, ...).
    backend : str
        ``"torch"``, ``"onnxruntime"``, ``"tensorrt"`` or ``"wiener"``.
    in_frames : int
        Frames per input stack (F).
    scale : int
        Output pixels per input pixel along each axis (s).
    fixed_shape : (Y, X) or None
        The only input frame size accepted (compiled engines), or None for any size.
    precision : str
        ``"fp32"`` or ``"fp16"``.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    weights_sha256 : str or None
        Hash of the weights file, for provenance.
    """

    name: str
    backend: str
    in_frames: int
    scale: int
    fixed_shape: tuple[int, int] | None = None
    precision: str = "fp32"
    device: str = "cpu"
    weights_sha256: str | None = None


@runtime_checkable
class Reconstructor(Protocol):
    """Maps a batch of SIM stacks to SR images.

    Not thread-safe: one owner thread creates it, calls it and closes it.
    """

    @property
    def info(self) -> ReconstructorInfo:
        """Static description of this reconstructor."""
        ...

    def warmup(self) -> None:
        """Allocate buffers and compile; call once before frames flow."""
        ...

    def __call__(self, stacks: NDArray[np.float32]) -> NDArray[np.float32]:
        """Reconstruct.

        Parameters
        ----------
        stacks : ndarray, float32, shape (N, F, Y, X)
            Normalised input (deep-learning backends) or raw counts (Wiener).

        Returns
        -------
        ndarray, float32, shape (N, 1, s*Y, s*X)
        """
        ...

    def close(self) -> None:
        """Release devices and buffers; the object is unusable afterwards."""
        ...
