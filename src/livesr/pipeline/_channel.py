"""`ChannelReconstructor`: one channel's reconstructor behind one call signature.

The pipeline's channels are reconstructed by a `livesr.reconstruct.StackReconstructor` (a
network) or a bare `Reconstructor` (Wiener SIM on raw counts); this adapter gives the
inference worker one way to call either and read its provenance.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr.config import ReconstructorSpec
from livesr.reconstruct import Reconstructor, ReconstructorInfo

__all__ = ["ChannelReconstructor"]


class ChannelReconstructor:
    """One channel's reconstruction: raw uint16 (F, Y, X) -> float32 (sY, sX) + provenance.

    Wraps either a `livesr.reconstruct.StackReconstructor` (normalise -> backend ->
    denormalise, the path offline reprocessing uses too) or a bare `Reconstructor` (called on
    raw counts, as the Wiener reconstructor expects).
    """

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self._reported: Any = None  # SIM parameters parsed from provenance (sim_params_of)
        self._reported_key = ""
        self._is_stack = hasattr(obj, "reconstruct_batch") and hasattr(obj, "reconstructor")
        if not self._is_stack and not isinstance(obj, Reconstructor):
            raise TypeError(
                f"{type(obj).__name__} is not a reconstructor: pass a "
                "livesr.reconstruct.StackReconstructor or an object with the Reconstructor "
                "protocol (info, warmup, __call__, close)"
            )

    @property
    def in_process(self) -> bool:
        """Whether calls reconstruct in this process (on the calling thread)."""
        return True

    @property
    def spec(self) -> ReconstructorSpec | None:
        """How the wrapped object is rebuilt (`StackReconstructor.spec`); None for objects.

        May change once, when Wiener SIM fixed its parameters on the first stack.
        """
        if not self._is_stack:
            return None
        spec: ReconstructorSpec | None = self.obj.spec
        return spec

    @property
    def info(self) -> ReconstructorInfo:
        """The wrapped backend's description."""
        rec = self.obj.reconstructor if self._is_stack else self.obj
        return rec.info  # type: ignore[no-any-return]

    @property
    def sim_params(self) -> Any:
        """The SIM parameters the wrapped Wiener reconstructor uses (None: none, or not here).

        Read by the quality checks: the pattern they assume. Fixed once the first stack is
        reconstructed; None for networks and for reconstructors in a child process.
        """
        target = getattr(self.obj, "reconstructor", self.obj) if self._is_stack else self.obj
        params = getattr(target, "params", None)
        return params if hasattr(params, "k_per_um") and hasattr(params, "fits") else None

    def sim_params_of(self, provenance: dict[str, Any]) -> Any:
        """The SIM parameters an SR frame was made with: `sim_params`, else its provenance's.

        A reconstructor in a child process (a physics-informed network, ``--method auto``)
        reports its pattern only in each frame's provenance (``sim_parameters``); without
        this, the quality checks of those frames would assume the calibrated or nominal
        pattern instead of the one the frame was reconstructed with. Parsed once per
        distinct record (the parameters are fixed after the first stack).
        """
        params = self.sim_params
        record = provenance.get("sim_parameters")
        if params is not None or not isinstance(record, dict) or "angles" not in record:
            return params
        key = json.dumps(record["angles"], sort_keys=True, default=str)
        if key != self._reported_key:
            from livesr.reconstruct.conventional import SIMParameters

            try:
                self._reported = SIMParameters.from_dict(record)
            except ValueError:
                self._reported = None
            self._reported_key = key
        return self._reported

    def warmup(self) -> None:
        """Warm the backend up."""
        self.obj.warmup()

    def close(self) -> None:
        """Close the backend."""
        target = self.obj.reconstructor if self._is_stack else self.obj
        target.close()

    def __call__(
        self, stack: NDArray[np.uint16], raw_frames: list[Any]
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Reconstruct one stack."""
        if self._is_stack:
            sr, prov = self.obj(stack, raw_frames=raw_frames)
            return np.asarray(sr, dtype=np.float32), dict(prov)
        out = self.obj(stack[None].astype(np.float32))
        info = self.info
        prov = {
            "model": info.name,
            "backend": info.backend,
            "weights_sha256": info.weights_sha256,
            "device": info.device,
            "precision": info.precision,
            "normalization": "none (raw counts)",
            "raw_frames": raw_frames,
        }
        return np.asarray(out[0, 0], dtype=np.float32), prov
